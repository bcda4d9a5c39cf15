// Staged release against oscrig-sim on loopback. Bounds are loose on purpose: they hold on a
// loaded machine and still fail when releases are not staged, compensated or resent.
#include "config/rig.hpp"
#include "controller/camera_session.hpp"
#include "controller/http_client.hpp"
#include "controller/staged_trigger.hpp"
#include "controller/trigger.hpp"
#include "controller/sync_report.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace oscrig::controller {
namespace {

namespace asio = boost::asio;

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// oscrig-sim on 127.0.0.1 with free ports and a config written for the test; stopped with
// SIGTERM when the test ends, also on failure.
class simulator {
public:
    explicit simulator(const std::string& config_yaml) {
        config_ = std::filesystem::temp_directory_path() /
                  ("oscrig-sync-test-" + std::to_string(::getpid()) + ".yaml");
        std::ofstream(config_) << config_yaml;

        int pipe_ends[2];
        if (::pipe(pipe_ends) != 0) {
            return;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_ends[0]);
        std::vector<std::string> args = {OSCRIG_SIM_BINARY, "--base-port", "0",
                                         "--config",        config_.string(), "--log.level",
                                         "warn"};
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        const int spawned =
            posix_spawn(&pid_, OSCRIG_SIM_BINARY, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_ends[1]);
        if (spawned != 0) {
            pid_ = -1;
            ::close(pipe_ends[0]);
            return;
        }

        FILE* out = ::fdopen(pipe_ends[0], "r");
        char line[8192];
        const std::string text = std::fgets(line, sizeof line, out) != nullptr ? line : "";
        std::fclose(out);
        const auto at = text.find(" ports ");
        if (at == std::string::npos) {
            return;
        }
        std::stringstream list(text.substr(at + 7));
        std::string port;
        while (std::getline(list, port, ',')) {
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(port)));
        }
    }

    ~simulator() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        std::filesystem::remove(config_);
    }

    const std::vector<std::uint16_t>& ports() const { return ports_; }

private:
    std::filesystem::path config_;
    pid_t pid_ = -1;
    std::vector<std::uint16_t> ports_;
};

// Runs `body` on `io` until it and everything it left running finished.
void run(asio::io_context& io, std::function<asio::awaitable<void>()> body) {
    std::exception_ptr failed;
    asio::co_spawn(io, body(), [&](std::exception_ptr error) { failed = error; });
    io.run();
    if (failed) {
        std::rethrow_exception(failed);
    }
}

config::camera_config camera_config_for(std::size_t index, std::uint16_t port) {
    config::camera_config camera;
    camera.name = "cam" + std::to_string(index + 1);
    camera.host = "127.0.0.1";
    camera.port = port;
    return camera;
}

// Plain request to a simulator endpoint on its own connection, outside every session queue.
asio::awaitable<nlohmann::json> sim_request(std::uint16_t port, std::string method,
                                            std::string target, std::string body = {}) {
    http_client client(co_await asio::this_coro::executor, camera_config_for(0, port),
                       config::request_timeouts{});
    http_request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.body = std::move(body);
    auto reply = co_await client.send(request);
    if (!reply || reply->status != 200) {
        throw std::runtime_error("simulator request " + request.target + " failed");
    }
    co_return nlohmann::json::parse(reply->body);
}

struct arrival {
    double host_us;
    double camera_us;
};

asio::awaitable<std::vector<arrival>> take_picture_arrivals(std::uint16_t port) {
    const auto reply = co_await sim_request(port, "GET", "/sim/arrivals");
    std::vector<arrival> arrivals;
    for (const auto& entry : reply.at("arrivals")) {
        if (entry.at("command") == "camera.takePicture") {
            arrivals.push_back(
                {entry.at("host_monotonic_us").get<double>(), entry.at("camera_us").get<double>()});
        }
    }
    co_return arrivals;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(tuple_awaitable);
}

// Four started sessions against the simulator, and the trigger targets for takePicture.
class rig_fixture {
public:
    rig_fixture(asio::io_context& io, const simulator& sim) {
        session_settings settings;
        settings.clock_burst = 8;
        for (std::size_t i = 0; i < sim.ports().size(); ++i) {
            sessions_.push_back(std::make_unique<camera_session>(
                io.get_executor(), camera_config_for(i, sim.ports()[i]), settings));
        }
    }

    asio::awaitable<void> start() {
        for (auto& session : sessions_) {
            auto started = co_await session->start();
            if (!started) {
                throw std::runtime_error(session->name() + " did not start: " +
                                         started.error().to_string());
            }
        }
    }

    std::vector<trigger_target> targets() {
        std::vector<trigger_target> list;
        for (auto& session : sessions_) {
            list.push_back({session.get(), "camera.takePicture", nullptr});
        }
        return list;
    }

private:
    std::vector<std::unique_ptr<camera_session>> sessions_;
};

constexpr const char* four_cameras = R"(defaults:
  capture_time_ms: 50
  photo_bytes: 20000
cameras:
  - name: cam1
  - name: cam2
  - name: cam3
  - name: cam4
)";

TEST(StagedRelease, FourCamerasArriveTogether) {
    simulator sim(four_cameras);
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        staged_trigger trigger(config::sync_settings{});
        outcomes = co_await trigger.fire(rig.targets());
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    ASSERT_EQ(outcomes.size(), 4u);
    std::vector<double> true_arrivals;
    std::vector<const trigger_record*> records;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const auto& record = outcomes[i].record;
        EXPECT_TRUE(outcomes[i].reply.has_value()) << "cam" << i + 1;
        EXPECT_FALSE(record.missed) << "cam" << i + 1;
        EXPECT_FALSE(record.resent_whole) << "cam" << i + 1;
        ASSERT_TRUE(record.planned_release_us.has_value()) << "cam" << i + 1;
        ASSERT_TRUE(record.actual_release_us.has_value()) << "cam" << i + 1;
        ASSERT_TRUE(record.estimated_arrival_host_us.has_value()) << "cam" << i + 1;
        ASSERT_TRUE(record.estimated_arrival_camera_us.has_value()) << "cam" << i + 1;
        ASSERT_EQ(arrivals[i].size(), 1u) << "cam" << i + 1;

        true_arrivals.push_back(arrivals[i][0].host_us);
        EXPECT_LT(std::abs(*record.estimated_arrival_host_us - arrivals[i][0].host_us), 10'000.0)
            << "cam" << i + 1;
        EXPECT_LT(std::abs(*record.estimated_arrival_camera_us - arrivals[i][0].camera_us),
                  10'000.0)
            << "cam" << i + 1;
        records.push_back(&record);
    }
    const auto [first, last] = std::minmax_element(true_arrivals.begin(), true_arrivals.end());
    EXPECT_LT(*last - *first, 20'000.0);

    const auto summary = summarize_trigger("camera.takePicture", records);
    EXPECT_EQ(summary.cameras, 4u);
    ASSERT_TRUE(summary.spread_bound_us.has_value());
    EXPECT_GE(*summary.spread_bound_us, *summary.arrival_spread_us);
}

TEST(ConcurrentFire, EstimatesArrivals) {
    // 5 ms of one-way delay, so that an estimate without the delay would miss by that much.
    simulator sim(R"(defaults:
  capture_time_ms: 50
  photo_bytes: 20000
  one_way_delay_us: 5000
cameras: [{}, {}, {}, {}]
)");
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        concurrent_trigger trigger;
        outcomes = co_await trigger.fire(rig.targets());
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    ASSERT_EQ(outcomes.size(), 4u);
    std::vector<const trigger_record*> records;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const auto& record = outcomes[i].record;
        EXPECT_TRUE(outcomes[i].reply.has_value()) << "cam" << i + 1;
        EXPECT_FALSE(record.planned_release_us.has_value()) << "cam" << i + 1;
        ASSERT_TRUE(record.estimated_arrival_host_us.has_value()) << "cam" << i + 1;
        ASSERT_TRUE(record.one_way_delay_us.has_value()) << "cam" << i + 1;
        EXPECT_GT(*record.one_way_delay_us, 4000.0) << "cam" << i + 1;
        ASSERT_EQ(arrivals[i].size(), 1u) << "cam" << i + 1;
        // Loose: on a loaded machine the round trips, and with them the delay estimate, grow.
        EXPECT_LT(std::abs(*record.estimated_arrival_host_us - arrivals[i][0].host_us), 4'000.0)
            << "cam" << i + 1;
        records.push_back(&record);
    }
    const auto summary = summarize_trigger("camera.takePicture", records);
    EXPECT_EQ(summary.cameras, 4u);
    EXPECT_TRUE(summary.arrival_spread_us.has_value());
}

TEST(StagedRelease, DelayCompensationAlignsArrivals) {
    simulator sim(R"(defaults:
  capture_time_ms: 50
  photo_bytes: 20000
cameras:
  - one_way_delay_us: 0
  - one_way_delay_us: 10000
  - one_way_delay_us: 20000
  - one_way_delay_us: 30000
)");
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        staged_trigger trigger(config::sync_settings{});
        outcomes = co_await trigger.fire(rig.targets());
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    std::vector<double> true_arrivals;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        ASSERT_EQ(arrivals[i].size(), 1u) << "cam" << i + 1;
        true_arrivals.push_back(arrivals[i][0].host_us);
        // The release of the camera with the longest delay went first.
        EXPECT_GE(*outcomes[i].record.one_way_delay_us, 10'000.0 * i) << "cam" << i + 1;
    }
    EXPECT_LE(*outcomes[3].record.planned_release_us, *outcomes[0].record.planned_release_us);
    // Uncompensated, the spread would be the 30 ms difference of the delays.
    const auto [first, last] = std::minmax_element(true_arrivals.begin(), true_arrivals.end());
    EXPECT_LT(*last - *first, 10'000.0);
}

TEST(StagedRelease, ClosedStagedConnectionIsResent) {
    simulator sim(four_cameras);
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        // cam4 replies late to its warm-up request, so the others wait staged meanwhile. During
        // that wait the simulator closes cam1's connections and reopens its listener.
        co_await sim_request(sim.ports()[3], "POST", "/sim/faults", R"({"slow_reply_ms":600})");
        auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(
            executor,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(std::chrono::milliseconds(200));
                co_await sim_request(sim.ports()[2], "POST", "/sim/stop",
                                     R"({"camera":"cam1","for_s":0.1})");
            },
            asio::detached);

        config::sync_settings sync;
        sync.staging_window = std::chrono::milliseconds(3000);
        staged_trigger trigger(sync);
        outcomes = co_await trigger.fire(rig.targets());
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    ASSERT_EQ(outcomes.size(), 4u);
    EXPECT_TRUE(outcomes[0].record.resent_whole);
    EXPECT_TRUE(outcomes[0].reply.has_value());
    EXPECT_FALSE(outcomes[0].record.note.empty());
    for (std::size_t i = 1; i < 4; ++i) {
        EXPECT_FALSE(outcomes[i].record.resent_whole) << "cam" << i + 1;
        EXPECT_TRUE(outcomes[i].reply.has_value()) << "cam" << i + 1;
    }
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(arrivals[i].size(), 1u) << "cam" << i + 1;
    }
    const auto lines = format_shot_sync([&] {
        shot_report report;
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            camera_shot camera;
            camera.name = "cam" + std::to_string(i + 1);
            camera.triggers.push_back(outcomes[i].record);
            report.cameras.push_back(std::move(camera));
        }
        return report;
    }());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("sent again whole: cam1"), std::string::npos) << lines[0];
}

TEST(StagedRelease, LateCameraIsMissed) {
    simulator sim(four_cameras);
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        co_await sim_request(sim.ports()[3], "POST", "/sim/faults", R"({"slow_reply_ms":1500})");
        config::sync_settings sync;
        sync.staging_window = std::chrono::milliseconds(400);
        staged_trigger trigger(sync);
        outcomes = co_await trigger.fire(rig.targets());
        // Let cam4's abandoned warm-up finish before reading what arrived.
        co_await sleep_for(std::chrono::milliseconds(2000));
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    ASSERT_EQ(outcomes.size(), 4u);
    EXPECT_TRUE(outcomes[3].record.missed);
    ASSERT_FALSE(outcomes[3].reply.has_value());
    EXPECT_EQ(outcomes[3].reply.error().code, make_error_code(errc::not_ready));
    EXPECT_TRUE(arrivals[3].empty());
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_FALSE(outcomes[i].record.missed) << "cam" << i + 1;
        EXPECT_TRUE(outcomes[i].reply.has_value()) << "cam" << i + 1;
        EXPECT_EQ(arrivals[i].size(), 1u) << "cam" << i + 1;
    }
}

TEST(StagedRelease, AbortIfNotReadySendsNothing) {
    simulator sim(four_cameras);
    ASSERT_EQ(sim.ports().size(), 4u) << "oscrig-sim did not start";
    asio::io_context io;
    rig_fixture rig(io, sim);
    std::vector<trigger_outcome> outcomes;
    std::vector<std::vector<arrival>> arrivals;

    run(io, [&]() -> asio::awaitable<void> {
        co_await rig.start();
        co_await sim_request(sim.ports()[1], "POST", "/sim/faults", R"({"slow_reply_ms":1500})");
        config::sync_settings sync;
        sync.staging_window = std::chrono::milliseconds(400);
        sync.abort_if_not_ready = true;
        staged_trigger trigger(sync);
        outcomes = co_await trigger.fire(rig.targets());
        co_await sleep_for(std::chrono::milliseconds(2000));
        for (const auto port : sim.ports()) {
            arrivals.push_back(co_await take_picture_arrivals(port));
        }
    });

    ASSERT_EQ(outcomes.size(), 4u);
    EXPECT_TRUE(outcomes[1].record.missed);
    for (std::size_t i = 0; i < 4; ++i) {
        ASSERT_FALSE(outcomes[i].reply.has_value()) << "cam" << i + 1;
        EXPECT_EQ(outcomes[i].reply.error().code, make_error_code(errc::not_ready))
            << "cam" << i + 1;
        EXPECT_FALSE(outcomes[i].record.actual_release_us.has_value()) << "cam" << i + 1;
        EXPECT_TRUE(arrivals[i].empty()) << "cam" << i + 1;
    }
}

}  // namespace
}  // namespace oscrig::controller
