// Benchmark of `oscrig serve` against oscrig-sim on loopback: CPU and peak memory over a
// steady run, /metrics latency over sequential scrapes, and the delay from a camera change
// (`POST /sim/set`) to the dashboard's event stream.
//
// Usage: bench_serve --oscrig build/cli/oscrig --sim build/tools/sim/oscrig-sim
//                    [--cameras 64] [--duration 300] [--scrapes 1000] [--changes 20]
// Prints one line per figure, each with "goal met" or "goal missed" against the limits below.
// Exits with 1 when a goal is missed or a step failed.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using json = nlohmann::json;

// Goals of the service on 64 cameras at a 1 s health interval.
constexpr double cpu_goal_percent = 2.0;    // of one core, averaged over the run
constexpr double memory_goal_mib = 40.0;    // VmHWM at the end
constexpr double scrape_goal_p99_ms = 5.0;  // /metrics round trip
constexpr double event_goal_s = 1.5;        // /sim/set to the event that shows the change

std::string read_file(const std::filesystem::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class child {
public:
    child(std::vector<std::string> args, const std::filesystem::path& out,
          const std::filesystem::path& err)
        : out_(out), err_(err) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&actions);
    }
    ~child() { stop(SIGKILL); }

    pid_t pid() const { return pid_; }

    /// Sends `signal_number`, waits up to 15 s and returns the exit code, or -1 after a
    /// SIGKILL.
    int stop(int signal_number) {
        if (pid_ <= 0) {
            return -1;
        }
        ::kill(pid_, signal_number);
        int status = 0;
        for (int i = 0; i < 150; ++i) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(100ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
    }

    std::optional<std::string> wait_for(const std::regex& pattern,
                                        std::chrono::seconds limit) const {
        const auto deadline = steady::now() + limit;
        while (steady::now() < deadline) {
            for (const std::string& text : {read_file(out_), read_file(err_)}) {
                std::smatch match;
                if (std::regex_search(text, match, pattern)) {
                    return match[1].str();
                }
            }
            std::this_thread::sleep_for(100ms);
        }
        return std::nullopt;
    }

private:
    std::filesystem::path out_;
    std::filesystem::path err_;
    pid_t pid_ = -1;
};

int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Sends one HTTP/1.1 request with Connection: close and returns status and raw body.
std::optional<std::pair<int, std::string>> http(std::uint16_t port, const std::string& method,
                                                const std::string& target,
                                                const std::string& body = {}) {
    const int fd = connect_loopback(port);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                          "Connection: close\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string received;
    char buffer[65536];
    for (ssize_t count; (count = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
        received.append(buffer, static_cast<std::size_t>(count));
    }
    ::close(fd);
    const auto header_end = received.find("\r\n\r\n");
    if (received.size() < 12 || header_end == std::string::npos) {
        return std::nullopt;
    }
    return std::make_pair(std::stoi(received.substr(9, 3)), received.substr(header_end + 4));
}

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

// Returns utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    // Fields after the command name, which is in brackets and may contain spaces.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> values{std::istream_iterator<std::string>(fields), {}};
    if (values.size() < 13) {
        return 0;
    }
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    const double ticks = std::stod(values[11]) + std::stod(values[12]);
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Returns a field of /proc/PID/status in KiB, such as VmHWM.
double status_kib(pid_t pid, const std::string& field) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stod(line.substr(field.size() + 1));
        }
    }
    return 0;
}

double percentile(std::vector<double> values, double fraction) {
    if (values.empty()) {
        return NAN;
    }
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(
        std::ceil(fraction * static_cast<double>(values.size())) - 1);
    return values[std::min(index, values.size() - 1)];
}

bool report(const std::string& figure, double value, double goal, const std::string& unit) {
    const bool met = value <= goal;
    std::printf("%-34s %10.3f %-4s (goal at most %.3g %s): %s\n", figure.c_str(), value,
                unit.c_str(), goal, unit.c_str(), met ? "goal met" : "goal missed");
    return met;
}

// Reads the event stream on its own thread and keeps every event's data with its arrival time.
class event_reader {
public:
    explicit event_reader(std::uint16_t port) : fd_(connect_loopback(port)) {
        if (fd_ < 0) {
            return;
        }
        const std::string request =
            "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
        ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
        thread_ = std::thread([this] { read_loop(); });
    }
    ~event_reader() {
        stop_ = true;
        if (fd_ >= 0) {
            ::shutdown(fd_, SHUT_RDWR);
        }
        if (thread_.joinable()) {
            thread_.join();
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    /// Waits for an event, received after `since`, in which camera `name` has `battery`.
    std::optional<steady::time_point> wait_battery(const std::string& name, double battery,
                                                   steady::time_point since,
                                                   std::chrono::seconds limit) {
        const auto deadline = steady::now() + limit;
        std::size_t seen = 0;
        while (steady::now() < deadline) {
            std::vector<std::pair<steady::time_point, std::string>> fresh;
            {
                std::lock_guard lock(mutex_);
                fresh.assign(events_.begin() + static_cast<std::ptrdiff_t>(seen), events_.end());
                seen = events_.size();
            }
            for (const auto& [at, data] : fresh) {
                if (at >= since && shows_battery(data, name, battery)) {
                    return at;
                }
            }
            std::this_thread::sleep_for(2ms);
        }
        return std::nullopt;
    }

private:
    static bool shows_battery(const std::string& data, const std::string& name, double battery) {
        const json fleet = json::parse(data, nullptr, false);
        if (!fleet.is_object()) {
            return false;
        }
        for (const auto& camera : fleet["cameras"]) {
            if (camera.value("name", "") == name && camera["battery_ratio"].is_number() &&
                std::abs(camera["battery_ratio"].get<double>() - battery) < 0.015) {
                return true;
            }
        }
        return false;
    }

    // Splits the stream into lines and keeps the data of each event. Chunked transfer framing
    // lines are not event lines, so they fall through.
    void read_loop() {
        std::string pending;
        char buffer[65536];
        while (!stop_) {
            const ssize_t count = ::recv(fd_, buffer, sizeof buffer, 0);
            if (count <= 0) {
                if (count < 0 && errno == EAGAIN) {
                    continue;
                }
                return;
            }
            const auto now = steady::now();
            pending.append(buffer, static_cast<std::size_t>(count));
            for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
                std::string line = pending.substr(0, end);
                pending.erase(0, end + 1);
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                if (line.rfind("data: ", 0) == 0) {
                    std::lock_guard lock(mutex_);
                    events_.emplace_back(now, line.substr(6));
                }
            }
        }
    }

    int fd_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::pair<steady::time_point, std::string>> events_;
};

struct options {
    std::string oscrig;
    std::string sim;
    int cameras = 64;
    int duration_s = 300;
    int scrapes = 1000;
    int changes = 20;
    std::string work_dir;
};

int run(const options& settings) {
    const std::filesystem::path folder =
        settings.work_dir.empty()
            ? std::filesystem::temp_directory_path() / ("bench-serve-" + std::to_string(::getpid()))
            : std::filesystem::path(settings.work_dir);
    std::filesystem::create_directories(folder);

    child sim({settings.sim, "--cameras", std::to_string(settings.cameras), "--base-port", "0",
               "--log.level", "warn"},
              folder / "sim.out", folder / "sim.err");
    const auto port_list =
        sim.wait_for(std::regex(R"(ready \d+ cameras on \S+ ports ([0-9,]+))"), 30s);
    if (!port_list) {
        std::fprintf(stderr, "bench_serve: oscrig-sim did not report ready\n");
        return 1;
    }
    std::vector<std::uint16_t> ports;
    std::stringstream list(*port_list);
    for (std::string port; std::getline(list, port, ',');) {
        ports.push_back(static_cast<std::uint16_t>(std::stoi(port)));
    }

    std::ofstream rig(folder / "rig.yaml");
    rig << "rig: bench\noutput: " << (folder / "shots").string()
        << "\nhealth_interval: 1s\nsync:\n  method: none\ncameras:\n";
    for (std::size_t i = 0; i < ports.size(); ++i) {
        rig << "  - name: cam" << i + 1 << "\n    host: 127.0.0.1\n    port: " << ports[i] << "\n";
    }
    rig.close();

    const std::uint16_t web_port = free_port();
    child serve({settings.oscrig, "serve", (folder / "rig.yaml").string(),
                 "--web.listen-address", "127.0.0.1:" + std::to_string(web_port), "--log.level",
                 "warn"},
                folder / "serve.out", folder / "serve.err");

    // Ready means every camera reports ready in /api/cameras.
    const auto ready_deadline = steady::now() + 60s;
    bool ready = false;
    while (!ready && steady::now() < ready_deadline) {
        std::this_thread::sleep_for(500ms);
        const auto reply = http(web_port, "GET", "/api/cameras");
        if (!reply || reply->first != 200) {
            continue;
        }
        const json cameras = json::parse(reply->second, nullptr, false)["cameras"];
        ready = cameras.is_array() && cameras.size() == ports.size() &&
                std::all_of(cameras.begin(), cameras.end(),
                            [](const json& c) { return c.value("state", "") == "ready"; });
    }
    if (!ready) {
        std::fprintf(stderr, "bench_serve: cameras not ready within 60 s; see %s\n",
                     (folder / "serve.err").c_str());
        return 1;
    }
    std::printf("bench_serve: %zu cameras ready, health interval 1 s, measuring %d s\n",
                ports.size(), settings.duration_s);
    std::fflush(stdout);

    // Steady run: only one scrape every 15 s, like a default Prometheus.
    const double cpu_before = cpu_seconds(serve.pid());
    const auto run_start = steady::now();
    const auto run_end = run_start + std::chrono::seconds(settings.duration_s);
    auto next_scrape = run_start;
    while (steady::now() < run_end) {
        if (steady::now() >= next_scrape) {
            http(web_port, "GET", "/metrics");
            next_scrape += 15s;
        }
        std::this_thread::sleep_for(250ms);
    }
    const double elapsed = std::chrono::duration<double>(steady::now() - run_start).count();
    const double cpu_percent = 100.0 * (cpu_seconds(serve.pid()) - cpu_before) / elapsed;

    // Sequential scrapes, one connection each.
    std::vector<double> scrape_ms;
    std::size_t metrics_bytes = 0;
    for (int i = 0; i < settings.scrapes; ++i) {
        const auto start = steady::now();
        const auto reply = http(web_port, "GET", "/metrics");
        const auto stop = steady::now();
        if (reply && reply->first == 200) {
            metrics_bytes = reply->second.size();
            scrape_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
        }
    }

    // Camera changes seen on the event stream.
    std::vector<double> event_s;
    {
        event_reader events(web_port);
        std::this_thread::sleep_for(500ms);
        for (int i = 0; i < settings.changes; ++i) {
            const std::size_t index = static_cast<std::size_t>(i) % ports.size();
            const int level = 20 + (i % 60);
            const auto sent = steady::now();
            http(ports[index], "POST", "/sim/set", json{{"battery_level", level}}.dump());
            const auto seen = events.wait_battery("cam" + std::to_string(index + 1), level / 100.0,
                                                  sent, 10s);
            if (seen) {
                event_s.push_back(std::chrono::duration<double>(*seen - sent).count());
            } else {
                event_s.push_back(INFINITY);
            }
            // Spread the changes over different poll phases.
            std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * (i % 10)));
        }
    }

    const double peak_mib = status_kib(serve.pid(), "VmHWM") / 1024.0;
    const int exit_code = serve.stop(SIGTERM);
    sim.stop(SIGTERM);

    bool met = true;
    std::printf("cameras %zu, run %.0f s, %zu scrapes of %zu bytes, %zu changes\n", ports.size(),
                elapsed, scrape_ms.size(), metrics_bytes, event_s.size());
    met &= report("CPU, share of one core", cpu_percent, cpu_goal_percent, "%");
    met &= report("peak memory (VmHWM)", peak_mib, memory_goal_mib, "MiB");
    std::printf("%-34s %10.3f ms\n", "/metrics p50", percentile(scrape_ms, 0.50));
    met &= report("/metrics p99", percentile(scrape_ms, 0.99), scrape_goal_p99_ms, "ms");
    std::printf("%-34s %10.3f s\n", "change to event p50", percentile(event_s, 0.50));
    met &= report("change to event max", percentile(event_s, 1.0), event_goal_s, "s");
    std::printf("oscrig serve exit code after SIGTERM: %d\n", exit_code);
    met &= scrape_ms.size() == static_cast<std::size_t>(settings.scrapes);
    met &= exit_code == 0;

    if (settings.work_dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(folder, ignored);
    }
    return met ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Benchmark of oscrig serve against oscrig-sim on loopback"};
    options settings;
    app.add_option("--oscrig", settings.oscrig, "Path of the oscrig binary")->required();
    app.add_option("--sim", settings.sim, "Path of the oscrig-sim binary")->required();
    app.add_option("--cameras", settings.cameras, "Simulated cameras")->capture_default_str();
    app.add_option("--duration", settings.duration_s, "Length of the steady run, seconds")
        ->capture_default_str();
    app.add_option("--scrapes", settings.scrapes, "Sequential /metrics requests")
        ->capture_default_str();
    app.add_option("--changes", settings.changes, "Camera changes timed on the event stream")
        ->capture_default_str();
    app.add_option("--work-dir", settings.work_dir,
                   "Folder for the rig and the logs, kept afterwards; default: a temporary "
                   "folder that is removed");
    CLI11_PARSE(app, argc, argv);
    return run(settings);
}
