// Processes and plain HTTP for the tests that run `oscrig serve` against `oscrig-sim`: start a
// program with its output in files, wait for a log line, send signals, make blocking HTTP/1.1
// requests on loopback. Header-only, so that each *_test.cpp of the folder can include it.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace oscrig::serve_harness {

using namespace std::chrono_literals;

/// A folder under the system temporary folder, removed with everything in it on destruction.
class temp_folder {
public:
    explicit temp_folder(const std::string& prefix) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }
    ~temp_folder() {
        std::error_code ignored;
        if (!path_.empty()) {
            std::filesystem::remove_all(path_, ignored);
        }
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

/// Polls `done` every 100 ms until it returns true or `limit` passed; returns its last result.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (done()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(100ms);
    }
}

/// A child process with stdout and stderr in files. Killed with SIGKILL on destruction when it
/// is still running, so that a failed test leaves nothing behind.
class child_process {
public:
    child_process(std::vector<std::string> args, std::filesystem::path stdout_file,
                  std::filesystem::path stderr_file)
        : stdout_file_(std::move(stdout_file)), stderr_file_(std::move(stderr_file)) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_file_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file_.c_str(),
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

    ~child_process() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    bool started() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

    bool running() {
        if (pid_ <= 0 || exit_status_) {
            return false;
        }
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            exit_status_ = status;
            return false;
        }
        return done == 0;
    }

    void send_signal(int signal_number) {
        if (running()) {
            ::kill(pid_, signal_number);
        }
    }

    /// Exit code once the process exited within `limit`, 128 + N when signal N ended it, or
    /// nothing when it is still running.
    std::optional<int> wait_exit(std::chrono::milliseconds limit) {
        eventually([this] { return !running(); }, limit);
        if (!exit_status_) {
            return std::nullopt;
        }
        if (WIFEXITED(*exit_status_)) {
            return WEXITSTATUS(*exit_status_);
        }
        return 128 + WTERMSIG(*exit_status_);
    }

    std::string output() const { return read_file(stdout_file_); }
    std::string errors() const { return read_file(stderr_file_); }

    /// Waits for a line of stdout or stderr that matches `pattern` and returns its first
    /// capture group (the whole match when the pattern has no group).
    std::optional<std::string> wait_for_match(const std::regex& pattern,
                                              std::chrono::milliseconds limit) {
        std::optional<std::string> found;
        eventually(
            [&] {
                std::smatch match;
                for (const std::string& text : {output(), errors()}) {
                    if (std::regex_search(text, match, pattern)) {
                        found = match.size() > 1 ? match[1].str() : match[0].str();
                        return true;
                    }
                }
                return !running();
            },
            limit);
        return found;
    }

private:
    std::filesystem::path stdout_file_;
    std::filesystem::path stderr_file_;
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
};

struct http_reply {
    int status = 0;
    std::string body;
};

inline std::string decode_chunked(const std::string& body) {
    std::string decoded;
    std::size_t position = 0;
    while (position < body.size()) {
        const std::size_t line_end = body.find("\r\n", position);
        if (line_end == std::string::npos) {
            break;
        }
        const std::size_t size = std::stoul(body.substr(position, line_end - position), nullptr,
                                            16);
        if (size == 0) {
            break;
        }
        decoded += body.substr(line_end + 2, size);
        position = line_end + 2 + size + 2;
    }
    return decoded;
}

/// One blocking HTTP/1.1 request to 127.0.0.1:`port` with `Connection: close`, read to the end
/// of the stream within 5 s. Nothing when the connection or the read failed.
inline std::optional<http_reply> http(std::uint16_t port, const std::string& method,
                                      const std::string& target, const std::string& body = {},
                                      const std::vector<std::string>& headers = {}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return std::nullopt;
    }

    std::ostringstream request;
    request << method << ' ' << target << " HTTP/1.1\r\nHost: 127.0.0.1:" << port
            << "\r\nConnection: close\r\n";
    for (const auto& header : headers) {
        request << header << "\r\n";
    }
    if (method == "POST") {
        request << "Content-Type: application/json\r\nContent-Length: " << body.size() << "\r\n";
    }
    request << "\r\n" << body;
    const std::string text = request.str();
    if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
        ::close(fd);
        return std::nullopt;
    }

    std::string received;
    char buffer[16384];
    for (;;) {
        const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
        if (count <= 0) {
            break;
        }
        received.append(buffer, static_cast<std::size_t>(count));
    }
    ::close(fd);

    const std::size_t header_end = received.find("\r\n\r\n");
    if (received.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
        return std::nullopt;
    }
    http_reply reply;
    reply.status = std::stoi(received.substr(9, 3));
    const std::string head = received.substr(0, header_end);
    reply.body = received.substr(header_end + 4);
    std::string lower_head = head;
    for (char& c : lower_head) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower_head.find("transfer-encoding: chunked") != std::string::npos) {
        reply.body = decode_chunked(reply.body);
    }
    return reply;
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago, for programs that cannot
/// report the port they bound.
inline std::uint16_t free_port() {
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

/// oscrig-sim serving `cameras` cameras on free loopback ports, with the rig file it wrote.
class simulator {
public:
    simulator(const std::filesystem::path& folder, int cameras)
        : rig_file_(folder / "sim-rig.yaml"),
          process_({OSCRIG_SIM_BINARY, "--cameras", std::to_string(cameras), "--base-port", "0",
                    "--write-rig", rig_file_.string(), "--output", (folder / "shots").string(),
                    "--log.level", "warn"},
                   folder / "sim.out", folder / "sim.err") {
        const auto ports = process_.wait_for_match(
            std::regex(R"(oscrig-sim: ready \d+ cameras on \S+ ports ([0-9,]+))"), 15s);
        if (!ports) {
            return;
        }
        std::stringstream list(*ports);
        std::string port;
        while (std::getline(list, port, ',')) {
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(port)));
        }
    }

    bool ready() const { return !ports_.empty(); }
    const std::vector<std::uint16_t>& ports() const { return ports_; }
    const std::filesystem::path& rig_file() const { return rig_file_; }
    std::string rig_text() const { return read_file(rig_file_); }

    /// POSTs a simulator request about camera `index` (0-based) to that camera's port.
    std::optional<http_reply> post(std::size_t index, const std::string& target,
                                   const nlohmann::json& body) {
        return http(ports_.at(index), "POST", target, body.dump());
    }

    /// Stops or starts camera `index` through another camera's port, since a stopped camera's
    /// port cannot take requests.
    bool set_listening(std::size_t index, bool listening) {
        const std::size_t other = index == 0 ? 1 : 0;
        const auto reply = http(ports_.at(other), "POST", listening ? "/sim/start" : "/sim/stop",
                                nlohmann::json{{"camera", camera_name(index)}}.dump());
        return reply && reply->status == 200;
    }

    static std::string camera_name(std::size_t index) { return "cam" + std::to_string(index + 1); }

private:
    std::filesystem::path rig_file_;
    child_process process_;
    std::vector<std::uint16_t> ports_;
};

/// Rig YAML for the given simulator cameras (0-based indexes).
inline std::string rig_yaml(const simulator& sim, const std::vector<std::size_t>& cameras,
                            const std::filesystem::path& output,
                            const std::string& extra = "health_interval: 1s\nsync:\n  method: none\n") {
    std::ostringstream yaml;
    yaml << "rig: serve-test\noutput: " << output.string() << "\n" << extra << "cameras:\n";
    for (const std::size_t index : cameras) {
        yaml << "  - name: " << simulator::camera_name(index) << "\n    host: 127.0.0.1\n"
             << "    port: " << sim.ports().at(index) << "\n";
    }
    return yaml.str();
}

/// `oscrig serve` on a free loopback port, with its log in the folder.
class serve_process {
public:
    serve_process(const std::filesystem::path& folder, const std::filesystem::path& rig_file,
                  std::vector<std::string> extra_args = {})
        : process_(arguments(rig_file, std::move(extra_args)), folder / "serve.out",
                   folder / "serve.err") {
        const auto port = process_.wait_for_match(
            std::regex(R"(dashboard listening on http://127\.0\.0\.1:(\d+))"), 15s);
        if (port) {
            port_ = static_cast<std::uint16_t>(std::stoi(*port));
        }
    }

    bool ready() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    child_process& process() { return process_; }

    std::optional<http_reply> get(const std::string& target) { return http(port_, "GET", target); }

    /// Returns the cameras of /api/cameras, or an empty array when the request failed.
    nlohmann::json cameras() {
        const auto reply = get("/api/cameras");
        if (!reply || reply->status != 200) {
            return nlohmann::json::array();
        }
        const auto parsed = nlohmann::json::parse(reply->body, nullptr, false);
        if (!parsed.is_object() || !parsed.contains("cameras")) {
            return nlohmann::json::array();
        }
        return parsed["cameras"];
    }

    /// Returns the camera named `name` from /api/cameras, or null.
    nlohmann::json camera(const std::string& name) {
        for (const auto& entry : cameras()) {
            if (entry.value("name", "") == name) {
                return entry;
            }
        }
        return nullptr;
    }

private:
    static std::vector<std::string> arguments(const std::filesystem::path& rig_file,
                                              std::vector<std::string> extra_args) {
        std::vector<std::string> args = {OSCRIG_BINARY, "serve", rig_file.string(),
                                         "--web.listen-address", "127.0.0.1:0"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        return args;
    }

    child_process process_;
    std::uint16_t port_ = 0;
};

}  // namespace oscrig::serve_harness
