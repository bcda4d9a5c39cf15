// Trigger synchronisation benchmark.
//
// `bench_sync trigger` starts its own oscrig-sim on 127.0.0.1, fires a fixed number of
// takePicture shots with one trigger method, and reads each camera's true arrival instants
// from /sim/arrivals. Arrival spread is the time from the first to the last camera receiving
// the complete request. `bench_sync clock` measures the clock model on generated samples.
// Both print one result line per run and exit; nothing runs unbounded.
#include "config/rig.hpp"
#include "controller/camera_session.hpp"
#include "controller/clock_model.hpp"
#include "controller/http_client.hpp"
#include "controller/osc_protocol.hpp"
#include "controller/staged_trigger.hpp"
#include "controller/task_group.hpp"
#include "controller/trigger.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
using namespace oscrig;
using namespace oscrig::controller;

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Nearest-rank percentile: with 50 values, p50 is the 25th smallest and p99 the largest.
double percentile(std::vector<double> values, double fraction) {
    if (values.empty()) {
        return std::nan("");
    }
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(fraction * values.size()));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// ---------------------------------------------------------------------------------------------
// Simulator process

// An oscrig-sim child process on 127.0.0.1 with free ports, stopped with SIGTERM on
// destruction.
class simulator_process {
public:
    simulator_process(const std::string& binary, const std::filesystem::path& config,
                      int cameras) {
        int pipe_ends[2];
        if (::pipe(pipe_ends) != 0) {
            throw std::runtime_error("pipe() failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_ends[0]);

        std::vector<std::string> args = {binary,         "--cameras", std::to_string(cameras),
                                         "--base-port",  "0",         "--host",
                                         "127.0.0.1",    "--config",  config.string(),
                                         "--log.level",  "warn"};
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        const int spawned =
            posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_ends[1]);
        if (spawned != 0) {
            ::close(pipe_ends[0]);
            throw std::runtime_error(fmt::format("starting {} failed: {}", binary,
                                                 std::strerror(spawned)));
        }

        // The simulator prints "oscrig-sim: ready N cameras on HOST ports P1,P2,..." once
        // every listener is open.
        FILE* out = ::fdopen(pipe_ends[0], "r");
        char line[65536];
        const bool got_line = std::fgets(line, sizeof line, out) != nullptr;
        std::fclose(out);
        const std::string text = got_line ? line : "";
        const auto at = text.find(" ports ");
        if (!got_line || at == std::string::npos) {
            stop();
            throw std::runtime_error("oscrig-sim exited without its ready line");
        }
        std::stringstream list(text.substr(at + 7));
        std::string port;
        while (std::getline(list, port, ',')) {
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(port)));
        }
    }

    ~simulator_process() { stop(); }

    const std::vector<std::uint16_t>& ports() const { return ports_; }

private:
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

    pid_t pid_ = -1;
    std::vector<std::uint16_t> ports_;
};

// ---------------------------------------------------------------------------------------------
// Trigger runs

struct trigger_options {
    std::string sim_binary;
    std::string method = "staged";  // staged, none, sequential, fresh
    int cameras = 4;
    int shots = 50;
    int capture_ms = 20;
    double delay_min_ms = 0;
    double delay_max_ms = 0;
    int jitter_us = 0;
    bool compensate = true;
    bool per_shot = false;
    std::filesystem::path work_dir = std::filesystem::temp_directory_path();
};

// Per shot: the host instant just before it was fired, and per camera the estimated arrival
// (staged only).
struct shot_timing {
    host_us fired_at = 0;
    std::vector<std::optional<double>> estimated_arrival;
    std::vector<std::int64_t> releases;  // host instants of the final bytes, staged only
};

config::camera_config camera_at(std::size_t index, std::uint16_t port, bool compensate) {
    config::camera_config camera;
    camera.name = fmt::format("cam{}", index + 1);
    camera.host = "127.0.0.1";
    camera.port = port;
    if (!compensate) {
        camera.one_way_delay = std::chrono::microseconds(0);
    }
    return camera;
}

http_request execute_request(std::string_view command, const nlohmann::json& parameters = {}) {
    http_request request;
    request.method = "POST";
    request.target = "/osc/commands/execute";
    request.body = osc::make_execute_body(command, parameters);
    request.timeout = std::chrono::milliseconds(15000);
    request.idempotent = false;
    return request;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(tuple_awaitable);
}

// Shots through camera sessions and a trigger: "staged" or "none" (the concurrent fire).
asio::awaitable<std::vector<shot_timing>> run_session_shots(
    const trigger_options& options, const std::vector<std::uint16_t>& ports,
    std::chrono::milliseconds between_shots) {
    auto executor = co_await asio::this_coro::executor;
    session_settings settings;
    settings.clock_burst = 8;
    std::vector<std::unique_ptr<camera_session>> sessions;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        sessions.push_back(std::make_unique<camera_session>(
            executor, camera_at(i, ports[i], options.compensate), settings));
    }

    task_group starting(executor);
    for (auto& session : sessions) {
        starting.spawn([](camera_session& s) -> asio::awaitable<void> {
            if (auto started = co_await s.start(); !started) {
                throw std::runtime_error(
                    fmt::format("{} did not start: {}", s.name(), started.error().to_string()));
            }
        }(*session));
    }
    co_await starting.wait();

    config::sync_settings sync;
    std::unique_ptr<trigger> fire;
    if (options.method == "staged") {
        fire = std::make_unique<staged_trigger>(sync);
    } else {
        fire = std::make_unique<concurrent_trigger>();
    }

    std::vector<shot_timing> timings;
    for (int shot = 0; shot < options.shots; ++shot) {
        std::vector<trigger_target> targets;
        for (auto& session : sessions) {
            targets.push_back({session.get(), "camera.takePicture", nullptr});
        }
        shot_timing timing;
        timing.fired_at = host_now();
        const auto outcomes = co_await fire->fire(std::move(targets));
        for (const auto& outcome : outcomes) {
            timing.estimated_arrival.push_back(outcome.record.estimated_arrival_host_us);
            if (outcome.record.actual_release_us) {
                timing.releases.push_back(*outcome.record.actual_release_us);
            }
            if (!outcome.reply) {
                spdlog::warn("shot {}: {}", shot + 1, outcome.reply.error().to_string());
            }
        }
        timings.push_back(std::move(timing));
        for (auto& session : sessions) {
            session->take_records();
        }
        co_await sleep_for(between_shots);
    }
    co_return timings;
}

// Shots as a simple script would take them: one camera after another on kept-alive
// connections, each reply read before the next camera's request.
asio::awaitable<std::vector<shot_timing>> run_sequential_shots(
    const trigger_options& options, const std::vector<std::uint16_t>& ports,
    std::chrono::milliseconds between_shots) {
    auto executor = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<http_client>> clients;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        clients.push_back(std::make_unique<http_client>(
            executor, camera_at(i, ports[i], true), config::request_timeouts{}));
        http_request info;
        info.target = "/osc/info";
        co_await clients.back()->send(info);
        http_request state;
        state.method = "POST";
        state.target = "/osc/state";
        co_await clients.back()->send(state);
    }

    std::vector<shot_timing> timings;
    for (int shot = 0; shot < options.shots; ++shot) {
        shot_timing timing;
        timing.fired_at = host_now();
        for (auto& client : clients) {
            auto reply = co_await client->send(execute_request("camera.takePicture"));
            if (!reply) {
                spdlog::warn("shot {}: {}", shot + 1, reply.error().to_string());
            }
        }
        timing.estimated_arrival.resize(clients.size());
        timings.push_back(std::move(timing));
        co_await sleep_for(between_shots);
    }
    co_return timings;
}

std::string serialize_execute(std::uint16_t port, std::string_view command) {
    const std::string body = osc::make_execute_body(command);
    return fmt::format(
        "POST /osc/commands/execute HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n"
        "Content-Type: application/json;charset=utf-8\r\nAccept: application/json\r\n"
        "X-XSRF-Protected: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        port, body.size(), body);
}

// Shots from one thread that opens a fresh connection to each camera in turn and writes the
// whole request with blocking calls. The replies are read after every camera got its request.
std::vector<shot_timing> run_fresh_shots(const trigger_options& options,
                                         const std::vector<std::uint16_t>& ports,
                                         std::chrono::milliseconds between_shots) {
    asio::io_context io;
    std::vector<shot_timing> timings;
    for (int shot = 0; shot < options.shots; ++shot) {
        shot_timing timing;
        timing.fired_at = host_now();
        std::vector<asio::ip::tcp::socket> sockets;
        for (const auto port : ports) {
            asio::ip::tcp::socket socket(io);
            socket.connect({asio::ip::make_address("127.0.0.1"), port});
            socket.set_option(asio::ip::tcp::no_delay(true));
            asio::write(socket, asio::buffer(serialize_execute(port, "camera.takePicture")));
            sockets.push_back(std::move(socket));
        }
        for (auto& socket : sockets) {
            asio::streambuf reply;
            boost::system::error_code ec;
            asio::read_until(socket, reply, "\r\n\r\n", ec);
        }
        timing.estimated_arrival.resize(ports.size());
        timings.push_back(std::move(timing));
        std::this_thread::sleep_for(between_shots);
    }
    return timings;
}

// takePicture arrival instants (host steady clock) of one camera, oldest first.
asio::awaitable<std::vector<double>> read_arrivals(std::size_t index, std::uint16_t port) {
    http_client client(co_await asio::this_coro::executor, camera_at(index, port, true),
                       config::request_timeouts{});
    http_request request;
    request.target = "/sim/arrivals";
    auto reply = co_await client.send(request);
    if (!reply || reply->status != 200) {
        throw std::runtime_error(fmt::format("GET /sim/arrivals on port {} failed", port));
    }
    const auto body = nlohmann::json::parse(reply->body);
    std::vector<double> arrivals;
    for (const auto& entry : body.at("arrivals")) {
        if (entry.at("command") == "camera.takePicture") {
            arrivals.push_back(entry.at("host_monotonic_us").get<double>());
        }
    }
    co_return arrivals;
}

std::filesystem::path write_sim_config(const trigger_options& options) {
    const auto path = options.work_dir / fmt::format("bench-sync-{}.yaml", ::getpid());
    std::ofstream out(path);
    out << "defaults:\n"
        << "  capture_time_ms: " << options.capture_ms << "\n"
        << "  photo_bytes: 20000\n"
        << "  battery_drain_per_minute: 0\n"
        << "  jitter_us: " << options.jitter_us << "\n"
        << "cameras:\n";
    for (int i = 0; i < options.cameras; ++i) {
        // Delays spread evenly from the minimum to the maximum across the cameras.
        const double share = options.cameras > 1 ? static_cast<double>(i) / (options.cameras - 1)
                                                 : 0.0;
        const double delay_ms = options.delay_min_ms + share * (options.delay_max_ms -
                                                                options.delay_min_ms);
        out << "  - one_way_delay_us: " << std::llround(delay_ms * 1000) << "\n";
    }
    return path;
}

int run_trigger_bench(const trigger_options& options) {
    const auto config_path = write_sim_config(options);
    simulator_process sim(options.sim_binary, config_path, options.cameras);
    const auto& ports = sim.ports();
    if (ports.size() != static_cast<std::size_t>(options.cameras)) {
        throw std::runtime_error("oscrig-sim reported a different number of ports");
    }
    // The next shot starts only after every request of this one arrived and its capture ended.
    const auto between_shots = std::chrono::milliseconds(
        options.capture_ms + 2 * static_cast<int>(std::ceil(options.delay_max_ms)) +
        2 * options.jitter_us / 1000 + 40);

    asio::io_context io;
    std::vector<shot_timing> timings;
    std::vector<std::vector<double>> arrivals(ports.size());
    std::exception_ptr failed;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (options.method == "staged" || options.method == "none") {
                timings = co_await run_session_shots(options, ports, between_shots);
            } else if (options.method == "sequential") {
                timings = co_await run_sequential_shots(options, ports, between_shots);
            } else {
                timings = run_fresh_shots(options, ports, between_shots);
            }
            for (std::size_t i = 0; i < ports.size(); ++i) {
                arrivals[i] = co_await read_arrivals(i, ports[i]);
            }
        },
        [&](std::exception_ptr error) { failed = error; });
    io.run();
    std::filesystem::remove(config_path);
    if (failed) {
        std::rethrow_exception(failed);
    }

    // Each arrival belongs to the last shot fired before it.
    std::vector<double> spreads;
    std::vector<double> estimate_errors;
    std::vector<double> release_spans;
    int incomplete = 0;
    for (std::size_t shot = 0; shot < timings.size(); ++shot) {
        const double begin = static_cast<double>(timings[shot].fired_at);
        const double end = shot + 1 < timings.size()
                               ? static_cast<double>(timings[shot + 1].fired_at)
                               : std::numeric_limits<double>::max();
        std::vector<double> shot_arrivals;
        for (std::size_t camera = 0; camera < ports.size(); ++camera) {
            for (double arrival : arrivals[camera]) {
                if (arrival < begin || arrival >= end) {
                    continue;
                }
                shot_arrivals.push_back(arrival);
                const auto& estimate = timings[shot].estimated_arrival[camera];
                if (estimate) {
                    estimate_errors.push_back(std::abs(*estimate - arrival));
                }
                break;
            }
        }
        if (shot_arrivals.size() != ports.size()) {
            spdlog::warn("shot {} fired at {} us: {} of {} cameras received the request "
                         "({} arrivals recorded by the first camera)",
                         shot + 1, timings[shot].fired_at, shot_arrivals.size(), ports.size(),
                         arrivals.front().size());
            ++incomplete;
            continue;
        }
        const auto [first, last] = std::minmax_element(shot_arrivals.begin(), shot_arrivals.end());
        spreads.push_back(*last - *first);
        const auto& releases = timings[shot].releases;
        double release_span = 0;
        if (!releases.empty()) {
            const auto [earliest, latest] = std::minmax_element(releases.begin(), releases.end());
            release_span = static_cast<double>(*latest - *earliest);
            release_spans.push_back(release_span);
        }
        if (options.per_shot) {
            fmt::print(stderr, "shot {}: spread {:.3f} ms, release span {:.3f} ms\n", shot + 1,
                       spreads.back() / 1000, release_span / 1000);
        }
    }

    fmt::print(
        "method={} cameras={} shots={} complete={} delay_ms={}..{} jitter_us={} "
        "compensation={} spread_p50_ms={:.3f} spread_p99_ms={:.3f} spread_max_ms={:.3f}",
        options.method, options.cameras, options.shots, spreads.size(), options.delay_min_ms,
        options.delay_max_ms, options.jitter_us, options.compensate ? "on" : "off",
        percentile(spreads, 0.5) / 1000, percentile(spreads, 0.99) / 1000,
        percentile(spreads, 1.0) / 1000);
    if (!release_spans.empty()) {
        fmt::print(" release_span_p50_ms={:.3f} release_span_p99_ms={:.3f}",
                   percentile(release_spans, 0.5) / 1000, percentile(release_spans, 0.99) / 1000);
    }
    if (!estimate_errors.empty()) {
        fmt::print(" estimate_error_p50_ms={:.3f} estimate_error_p99_ms={:.3f}",
                   percentile(estimate_errors, 0.5) / 1000,
                   percentile(estimate_errors, 0.99) / 1000);
    }
    fmt::print("\n");
    return incomplete == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Clock model on generated samples

struct clock_options {
    double drift_ppm = 100;
    double base_delay_us = 1000;  // fixed one-way delay in each direction
    double jitter_us = 10'000;    // each direction adds a uniform 0..jitter, as oscrig-sim does
    double duration_s = 60;
    double interval_ms = 1000;  // time between samples
    int trials = 200;
    std::uint32_t seed = 1;
};

int run_clock_bench(const clock_options& options) {
    std::mt19937 engine(options.seed);
    const auto uniform = [&engine] { return static_cast<double>(engine()) / 4294967296.0; };

    std::vector<double> offset_errors;
    std::vector<double> drift_errors;
    std::vector<double> bounds;
    int outside_bound = 0;
    for (int trial = 0; trial < options.trials; ++trial) {
        const double offset = 1.0e7 + 1.0e9 * uniform();
        const double rate = 1.0 + options.drift_ppm * 1e-6;
        clock_model model;
        const auto samples =
            static_cast<int>(options.duration_s * 1000 / options.interval_ms) + 1;
        const double start = 1.0e9 * (1 + uniform());
        host_us last_received = 0;
        for (int i = 0; i < samples; ++i) {
            const auto sent = static_cast<host_us>(start + i * options.interval_ms * 1000);
            const double forward = options.base_delay_us + options.jitter_us * uniform();
            const double back = options.base_delay_us + options.jitter_us * uniform();
            const double arrived = static_cast<double>(sent) + forward;
            last_received = static_cast<host_us>(arrived + back);
            model.add_sample({.sent = sent,
                              .received = last_received,
                              .camera_us = static_cast<std::int64_t>(offset + rate * arrived)});
        }
        const double truth = offset + rate * static_cast<double>(last_received);
        const double error = std::abs(*model.camera_at(last_received) - truth);
        const double bound = *model.uncertainty_at(last_received);
        offset_errors.push_back(error);
        bounds.push_back(bound);
        drift_errors.push_back(std::abs(model.estimate()->drift_ppm - options.drift_ppm));
        if (error > bound) {
            ++outside_bound;
        }
    }

    fmt::print(
        "clock drift_ppm={} base_delay_us={} jitter_us={} duration_s={} interval_ms={} "
        "trials={} offset_error_p50_ms={:.3f} offset_error_p99_ms={:.3f} "
        "drift_error_p50_ppm={:.2f} drift_error_p99_ppm={:.2f} bound_p50_ms={:.3f} "
        "outside_bound={}\n",
        options.drift_ppm, options.base_delay_us, options.jitter_us, options.duration_s,
        options.interval_ms, options.trials, percentile(offset_errors, 0.5) / 1000,
        percentile(offset_errors, 0.99) / 1000, percentile(drift_errors, 0.5),
        percentile(drift_errors, 0.99), percentile(bounds, 0.5) / 1000, outside_bound);
    return outside_bound == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"bench_sync: arrival spread of trigger methods, and clock model accuracy"};
    app.require_subcommand(1);

    trigger_options trigger;
    auto* trigger_command =
        app.add_subcommand("trigger", "Fire takePicture shots at simulated cameras on loopback");
    trigger_command->add_option("--sim", trigger.sim_binary, "Path of the oscrig-sim binary")
        ->required()
        ->check(CLI::ExistingFile);
    trigger_command
        ->add_option("--method", trigger.method,
                     "staged, none (concurrent fire), sequential (kept-alive connections, one "
                     "camera after another) or fresh (a new connection per camera)")
        ->capture_default_str()
        ->check(CLI::IsMember({"staged", "none", "sequential", "fresh"}));
    trigger_command->add_option("--cameras", trigger.cameras, "Simulated cameras")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    trigger_command->add_option("--shots", trigger.shots, "Shots to fire")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    trigger_command->add_option("--capture-ms", trigger.capture_ms,
                                "Simulated capture time of takePicture, in milliseconds")
        ->capture_default_str()
        ->check(CLI::Range(1, 5000));
    trigger_command->add_option("--delay-min-ms", trigger.delay_min_ms,
                                "One-way delay of the first camera, in milliseconds")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0));
    trigger_command->add_option("--delay-max-ms", trigger.delay_max_ms,
                                "One-way delay of the last camera, in milliseconds; the "
                                "others are spread evenly in between")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0));
    trigger_command->add_option("--jitter-us", trigger.jitter_us,
                                "Jitter added to each direction, uniform from 0, in "
                                "microseconds")
        ->capture_default_str()
        ->check(CLI::Range(0, 1'000'000));
    trigger_command->add_flag("!--no-compensation", trigger.compensate,
                              "Staged release without moving releases earlier by the delay");
    trigger_command->add_flag("--per-shot", trigger.per_shot,
                              "Also print each shot's spread and release span to stderr");
    trigger_command->add_option("--work-dir", trigger.work_dir,
                                "Folder for the temporary simulator config")
        ->capture_default_str()
        ->check(CLI::ExistingDirectory);

    clock_options clock;
    auto* clock_command =
        app.add_subcommand("clock", "Clock model offset and drift error on generated samples");
    clock_command->add_option("--drift-ppm", clock.drift_ppm, "True drift, in ppm")
        ->capture_default_str();
    clock_command->add_option("--base-delay-us", clock.base_delay_us,
                              "Fixed one-way delay in each direction, in microseconds")
        ->capture_default_str();
    clock_command->add_option("--jitter-us", clock.jitter_us,
                              "Jitter added to each direction, uniform from 0, in microseconds")
        ->capture_default_str();
    clock_command->add_option("--duration-s", clock.duration_s, "Time span of the samples")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86400.0));
    clock_command->add_option("--interval-ms", clock.interval_ms, "Time between samples")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 3.6e6));
    clock_command->add_option("--trials", clock.trials, "Generated sample sets")
        ->capture_default_str()
        ->check(CLI::Range(1, 100'000));
    clock_command->add_option("--seed", clock.seed, "Random seed")->capture_default_str();

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::warn);

    try {
        if (trigger_command->parsed()) {
            return run_trigger_bench(trigger);
        }
        return run_clock_bench(clock);
    } catch (const std::exception& error) {
        spdlog::error("bench_sync failed: {}", error.what());
        return 2;
    }
}
