// Helpers for tests that drive oscrig and oscrig-sim as processes: a temporary folder, a
// simulator that is started and waited for, a command runner and a small blocking HTTP client
// for the simulator's /sim/ endpoints.
//
// The test program of this folder is built from *_test.cpp only, so the definitions live in
// this header as inline functions rather than in a support.cpp of their own.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::testing {

/// A fresh folder under the system temporary folder, removed with its contents on destruction.
class temp_folder {
public:
    explicit temp_folder(const std::string& prefix = "oscrig-test");
    ~temp_folder();
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct sim_options {
    int cameras = 4;
    std::filesystem::path config;       // --config, empty for none
    std::filesystem::path rig_file;     // --write-rig, empty for none
    std::filesystem::path output;       // --output (the rig file's output), empty for default
    std::string host = "127.0.0.1";
    std::vector<std::string> extra_arguments;
    std::chrono::seconds ready_timeout{20};
};

/// A running oscrig-sim. start() returns once the ready line arrived; the destructor sends
/// SIGTERM and, after 5 s without exit, SIGKILL.
class sim_process {
public:
    /// Starts OSCRIG_SIM_BINARY with --base-port 0 and `options`. stderr goes to `log_file`.
    /// Throws std::runtime_error when the process exits or stays silent past ready_timeout.
    static std::unique_ptr<sim_process> start(const sim_options& options,
                                              const std::filesystem::path& log_file);
    ~sim_process();
    sim_process(const sim_process&) = delete;
    sim_process& operator=(const sim_process&) = delete;

    const std::string& host() const { return host_; }
    const std::vector<std::uint16_t>& ports() const { return ports_; }
    pid_t pid() const { return pid_; }

    /// Stops the process now; returns its exit status as waitpid gives it.
    int stop();

private:
    sim_process() = default;

    pid_t pid_ = -1;
    std::string host_;
    std::vector<std::uint16_t> ports_;
};

/// Parses "oscrig-sim: ready N cameras on HOST ports P1,P2,...". Returns false for any other
/// line.
bool parse_ready_line(const std::string& line, std::string& host,
                      std::vector<std::uint16_t>& ports);

struct command_result {
    int exit_code = -1;  // -1 when the command was killed at the timeout or by a signal
    std::string out;
    std::string err;
};

/// Runs `arguments` (the program first), waits up to `timeout` and kills it after that.
/// `environment` adds variables to the inherited environment.
command_result run_command(const std::vector<std::string>& arguments,
                           std::chrono::seconds timeout,
                           const std::map<std::string, std::string>& environment = {});

struct http_reply {
    int status = 0;
    std::string body;
};

/// Sends one HTTP/1.1 request on a fresh connection and reads the reply. Throws on network
/// errors. Only for loopback test servers.
http_reply http_request(const std::string& host, std::uint16_t port, const std::string& method,
                        const std::string& target, const std::string& body = {});

/// GET or POST of a simulator endpoint whose reply is JSON; throws unless the status is 200.
nlohmann::json sim_get(const std::string& host, std::uint16_t port, const std::string& target);
nlohmann::json sim_post(const std::string& host, std::uint16_t port, const std::string& target,
                        const nlohmann::json& body);

/// Reads a whole file as bytes.
std::string read_file(const std::filesystem::path& file);

namespace detail {

inline std::vector<char*> argv_of(std::vector<std::string>& arguments) {
    std::vector<char*> argv;
    for (auto& argument : arguments) {
        argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    return argv;
}

/// Waits for `pid` up to `timeout`; returns the waitpid status, or nothing on timeout.
inline std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return status;
        }
        if (done < 0) {
            return -1;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
}

}  // namespace detail

inline temp_folder::temp_folder(const std::string& prefix) {
    std::random_device random;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto candidate = std::filesystem::temp_directory_path() /
                         (prefix + "-" + std::to_string(::getpid()) + "-" +
                          std::to_string(random() % 1000000));
        if (std::filesystem::create_directory(candidate)) {
            path_ = candidate;
            return;
        }
    }
    throw std::runtime_error("creating a temporary folder failed");
}

inline temp_folder::~temp_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

inline bool parse_ready_line(const std::string& line, std::string& host,
                             std::vector<std::uint16_t>& ports) {
    std::istringstream in(line);
    std::string word;
    int count = 0;
    std::string on;
    std::string ports_word;
    std::string list;
    in >> word;
    if (word != "oscrig-sim:") {
        return false;
    }
    in >> word;
    if (word != "ready") {
        return false;
    }
    in >> count >> word >> on >> host >> ports_word >> list;
    if (!in || on != "on" || ports_word != "ports") {
        return false;
    }
    ports.clear();
    std::istringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
        ports.push_back(static_cast<std::uint16_t>(std::stoi(item)));
    }
    return static_cast<int>(ports.size()) == count;
}

inline std::unique_ptr<sim_process> sim_process::start(const sim_options& options,
                                                        const std::filesystem::path& log_file) {
    std::vector<std::string> arguments{OSCRIG_SIM_BINARY, "--cameras",
                                       std::to_string(options.cameras), "--base-port", "0",
                                       "--host", options.host};
    if (!options.config.empty()) {
        arguments.insert(arguments.end(), {"--config", options.config.string()});
    }
    if (!options.rig_file.empty()) {
        arguments.insert(arguments.end(), {"--write-rig", options.rig_file.string()});
    }
    if (!options.output.empty()) {
        arguments.insert(arguments.end(), {"--output", options.output.string()});
    }
    arguments.insert(arguments.end(), options.extra_arguments.begin(),
                     options.extra_arguments.end());

    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log_fd >= 0) {
            ::dup2(log_fd, STDERR_FILENO);
        }
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        auto argv = detail::argv_of(arguments);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }
    ::close(pipe_fds[1]);

    std::unique_ptr<sim_process> process(new sim_process);
    process->pid_ = pid;

    // Reads stdout until the ready line, the end of the stream or the timeout.
    const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    std::string text;
    bool ready = false;
    while (!ready && std::chrono::steady_clock::now() < deadline) {
        pollfd poll_fd{pipe_fds[0], POLLIN, 0};
        if (::poll(&poll_fd, 1, 100) <= 0) {
            continue;
        }
        char chunk[512];
        const ssize_t got = ::read(pipe_fds[0], chunk, sizeof chunk);
        if (got <= 0) {
            break;
        }
        text.append(chunk, static_cast<std::size_t>(got));
        std::size_t end;
        while ((end = text.find('\n')) != std::string::npos) {
            const std::string line = text.substr(0, end);
            text.erase(0, end + 1);
            if (parse_ready_line(line, process->host_, process->ports_)) {
                ready = true;
                break;
            }
        }
    }
    ::close(pipe_fds[0]);
    if (!ready) {
        // The destructor stops the process.
        throw std::runtime_error("oscrig-sim did not print its ready line; see " +
                                 log_file.string());
    }
    return process;
}

inline int sim_process::stop() {
    if (pid_ <= 0) {
        return 0;
    }
    ::kill(pid_, SIGTERM);
    auto status = detail::wait_for_exit(pid_, std::chrono::seconds{5});
    if (!status) {
        ::kill(pid_, SIGKILL);
        status = detail::wait_for_exit(pid_, std::chrono::seconds{5});
    }
    pid_ = -1;
    return status.value_or(-1);
}

inline sim_process::~sim_process() {
    stop();
}

inline command_result run_command(const std::vector<std::string>& arguments,
                                  std::chrono::seconds timeout,
                                  const std::map<std::string, std::string>& environment) {
    // Output goes to files rather than pipes, so that a chatty command cannot block on a full
    // pipe while this process waits for it.
    temp_folder capture("oscrig-command");
    const auto out_file = capture.path() / "stdout";
    const auto err_file = capture.path() / "stderr";

    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        const int out_fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err_fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(out_fd, STDOUT_FILENO);
        ::dup2(err_fd, STDERR_FILENO);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, STDIN_FILENO);
        for (const auto& [name, value] : environment) {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
        std::vector<std::string> copy = arguments;
        auto argv = detail::argv_of(copy);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }

    command_result result;
    auto status = detail::wait_for_exit(pid, timeout);
    if (!status) {
        ::kill(pid, SIGKILL);
        detail::wait_for_exit(pid, std::chrono::seconds{5});
        result.exit_code = -1;
    } else if (WIFEXITED(*status)) {
        result.exit_code = WEXITSTATUS(*status);
    }
    result.out = read_file(out_file);
    result.err = read_file(err_file);
    return result;
}

inline http_reply http_request(const std::string& host, std::uint16_t port,
                               const std::string& method, const std::string& target,
                               const std::string& body) {
    namespace beast = boost::beast;
    namespace http = boost::beast::http;
    boost::asio::io_context context;
    boost::asio::ip::tcp::socket socket(context);
    socket.connect({boost::asio::ip::make_address(host), port});

    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, host + ":" + std::to_string(port));
    request.set(http::field::accept, "application/json");
    request.set("X-XSRF-Protected", "1");
    if (method == "POST") {
        request.set(http::field::content_type, "application/json;charset=utf-8");
    }
    request.body() = body;
    request.prepare_payload();
    http::write(socket, request);

    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    return {static_cast<int>(response.result_int()), response.body()};
}

inline nlohmann::json sim_get(const std::string& host, std::uint16_t port,
                              const std::string& target) {
    const auto reply = http_request(host, port, "GET", target);
    if (reply.status != 200) {
        throw std::runtime_error("GET " + target + " answered " + std::to_string(reply.status) +
                                 ": " + reply.body);
    }
    return nlohmann::json::parse(reply.body);
}

inline nlohmann::json sim_post(const std::string& host, std::uint16_t port,
                               const std::string& target, const nlohmann::json& body) {
    const auto reply = http_request(host, port, "POST", target, body.dump());
    if (reply.status != 200) {
        throw std::runtime_error("POST " + target + " answered " + std::to_string(reply.status) +
                                 ": " + reply.body);
    }
    return reply.body.empty() ? nlohmann::json() : nlohmann::json::parse(reply.body);
}

inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Returns the only shot folder under `output`, with a test failure when there is not exactly
/// one.
inline std::filesystem::path only_shot_folder(const std::filesystem::path& output) {
    std::vector<std::filesystem::path> shots;
    for (const auto& entry : std::filesystem::directory_iterator(output)) {
        if (entry.is_directory()) {
            shots.push_back(entry.path());
        }
    }
    EXPECT_EQ(shots.size(), 1u) << "shot folders under " << output;
    return shots.empty() ? std::filesystem::path() : shots.front();
}

/// Parses the shot.json of a shot folder.
inline nlohmann::json read_shot_json(const std::filesystem::path& shot) {
    return nlohmann::json::parse(read_file(shot / "shot.json"));
}

}  // namespace oscrig::testing
