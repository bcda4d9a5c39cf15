// `oscrig serve` as a process against oscrig-sim on loopback: health polls, reconnects, SIGHUP
// reloads, shots from the API, graceful stop, log format, and the files in tools/.
#include "tests/integration/serve_harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace oscrig::serve_harness {
namespace {

using json = nlohmann::json;

// Bounds are loose so that the tests hold on a loaded machine: health polls run every second,
// and a reconnect waits up to about 8 s after a few failed attempts.
constexpr auto poll_limit = 10s;
constexpr auto reconnect_limit = 30s;

std::set<std::string> camera_names(const json& cameras) {
    std::set<std::string> names;
    for (const auto& camera : cameras) {
        names.insert(camera.value("name", ""));
    }
    return names;
}

bool all_in_state(const json& cameras, const std::string& state, std::size_t count) {
    if (cameras.size() != count) {
        return false;
    }
    for (const auto& camera : cameras) {
        if (camera.value("state", "") != state) {
            return false;
        }
    }
    return true;
}

// Value of the series `name{camera="CAMERA"}` in a text exposition, or nothing.
std::optional<double> metric_value(const std::string& metrics, const std::string& name,
                                   const std::string& camera) {
    const std::string prefix = name + "{camera=\"" + camera + "\"} ";
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(prefix, 0) == 0) {
            return std::strtod(line.c_str() + prefix.size(), nullptr);
        }
    }
    return std::nullopt;
}

// Runs a shell command and returns its exit code and combined output.
std::pair<int, std::string> run_command(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return {-1, ""};
    }
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class ServeTest : public ::testing::Test {
protected:
    // Starts `simulated` cameras and `oscrig serve` on the first `served` of them.
    void start(int simulated, std::size_t served, std::vector<std::string> serve_args = {}) {
        sim_ = std::make_unique<simulator>(folder_.path(), simulated);
        ASSERT_TRUE(sim_->ready()) << read_file(folder_.path() / "sim.err");

        std::vector<std::size_t> indexes;
        for (std::size_t i = 0; i < served; ++i) {
            indexes.push_back(i);
        }
        write_file(rig_file(), rig_yaml(*sim_, indexes, folder_.path() / "shots"));
        serve_ = std::make_unique<serve_process>(folder_.path(), rig_file(),
                                                 std::move(serve_args));
        ASSERT_TRUE(serve_->ready()) << serve_->process().errors();
    }

    // Waits until every served camera is ready.
    void expect_all_ready(std::size_t count) {
        const bool ready = eventually(
            [&] { return all_in_state(serve_->cameras(), "ready", count); }, poll_limit);
        EXPECT_TRUE(ready) << serve_->cameras().dump(2);
    }

    std::filesystem::path rig_file() const { return folder_.path() / "rig.yaml"; }

    temp_folder folder_{"oscrig-serve-test"};
    std::unique_ptr<simulator> sim_;
    std::unique_ptr<serve_process> serve_;
};

TEST_F(ServeTest, FourCamerasBecomeReady) {
    start(4, 4);
    expect_all_ready(4);

    const json cameras = serve_->cameras();
    EXPECT_EQ(camera_names(cameras), (std::set<std::string>{"cam1", "cam2", "cam3", "cam4"}));
    for (const auto& camera : cameras) {
        EXPECT_EQ(camera.value("model", ""), "Insta360 ONE X2") << camera.dump();
        EXPECT_TRUE(camera["clock_offset_seconds"].is_number()) << camera.dump();
    }

    const auto ready = serve_->get("/-/ready");
    ASSERT_TRUE(ready.has_value());
    EXPECT_EQ(ready->status, 200);
}

TEST_F(ServeTest, BatteryChangeReachesMetrics) {
    start(4, 4);
    expect_all_ready(4);

    const auto set = sim_->post(1, "/sim/set", {{"battery_level", 37}});
    ASSERT_TRUE(set.has_value());
    ASSERT_EQ(set->status, 200) << set->body;

    std::optional<double> battery;
    const bool seen = eventually(
        [&] {
            const auto metrics = serve_->get("/metrics");
            battery = metrics ? metric_value(metrics->body, "oscrig_camera_battery_ratio", "cam2")
                              : std::nullopt;
            return battery && std::abs(*battery - 0.37) < 0.011;
        },
        poll_limit);
    EXPECT_TRUE(seen) << "last value: " << (battery ? std::to_string(*battery) : "none");
}

TEST_F(ServeTest, HealthPollsRepeatAtInterval) {
    start(2, 2);
    expect_all_ready(2);

    const json before = serve_->camera("cam1");
    ASSERT_TRUE(before.is_object());
    std::this_thread::sleep_for(3500ms);
    const json after = serve_->camera("cam1");
    ASSERT_TRUE(after.is_object());

    // Each poll is /osc/state plus one getOptions, so 3.5 s at 1 s make at least 4 requests.
    const auto polled = after.value("requests_total", 0) - before.value("requests_total", 0);
    EXPECT_GE(polled, 4) << before.dump() << after.dump();
    // At most one /osc/state per second, plus getOptions: well under 20 in 3.5 s.
    EXPECT_LE(polled, 20);
}

TEST_F(ServeTest, StoppedCameraReconnects) {
    start(4, 4);
    expect_all_ready(4);

    ASSERT_TRUE(sim_->set_listening(2, false));
    const bool unreachable = eventually(
        [&] { return serve_->camera("cam3").value("state", "") == "unreachable"; },
        reconnect_limit);
    EXPECT_TRUE(unreachable) << serve_->camera("cam3").dump(2);
    EXPECT_FALSE(serve_->camera("cam3").value("reason", "").empty());
    EXPECT_EQ(serve_->camera("cam1").value("state", ""), "ready");

    ASSERT_TRUE(sim_->set_listening(2, true));
    const bool recovered = eventually(
        [&] { return serve_->camera("cam3").value("state", "") == "ready"; }, reconnect_limit);
    EXPECT_TRUE(recovered) << serve_->camera("cam3").dump(2);

    const std::string log = serve_->process().errors();
    EXPECT_NE(log.find("[cam3] reconnecting in"), std::string::npos) << log;
}

TEST_F(ServeTest, ReloadAddsAndRemovesCameras) {
    start(5, 4);
    expect_all_ready(4);
    const auto cam1_requests = serve_->camera("cam1").value("requests_total", 0);

    // cam4 leaves, cam5 joins, cam1 to cam3 stay as they are.
    write_file(rig_file(), rig_yaml(*sim_, {0, 1, 2, 4}, folder_.path() / "shots"));
    serve_->process().send_signal(SIGHUP);

    const bool reloaded = eventually(
        [&] {
            const json cameras = serve_->cameras();
            return camera_names(cameras) ==
                       std::set<std::string>{"cam1", "cam2", "cam3", "cam5"} &&
                   all_in_state(cameras, "ready", 4);
        },
        poll_limit);
    EXPECT_TRUE(reloaded) << serve_->cameras().dump(2);

    // A restarted session would count its requests from zero again.
    EXPECT_GE(serve_->camera("cam1").value("requests_total", 0), cam1_requests);
    const std::string log = serve_->process().errors();
    EXPECT_NE(log.find("1 added, 1 removed, 0 changed, 3 unchanged"), std::string::npos) << log;
    EXPECT_EQ(log.find("[cam1] session stopped"), std::string::npos) << log;

    const auto metrics = serve_->get("/metrics");
    ASSERT_TRUE(metrics.has_value());
    EXPECT_TRUE(metric_value(metrics->body, "oscrig_camera_up", "cam5").has_value());
    EXPECT_FALSE(metric_value(metrics->body, "oscrig_camera_up", "cam4").has_value());
}

TEST_F(ServeTest, ReloadRestartsChangedCamera) {
    start(5, 4);
    expect_all_ready(4);

    // cam4's entry now points at the fifth simulated camera's port.
    std::string yaml = rig_yaml(*sim_, {0, 1, 2, 3}, folder_.path() / "shots");
    const std::string old_port = "port: " + std::to_string(sim_->ports()[3]);
    yaml.replace(yaml.find(old_port), old_port.size(),
                 "port: " + std::to_string(sim_->ports()[4]));
    write_file(rig_file(), yaml);
    serve_->process().send_signal(SIGHUP);

    const bool moved = eventually(
        [&] {
            const json camera = serve_->camera("cam4");
            return camera.is_object() && camera.value("port", 0) == sim_->ports()[4] &&
                   camera.value("state", "") == "ready";
        },
        poll_limit);
    EXPECT_TRUE(moved) << serve_->camera("cam4").dump(2);
    const std::string log = serve_->process().errors();
    EXPECT_NE(log.find("0 added, 0 removed, 1 changed, 3 unchanged"), std::string::npos) << log;
}

TEST_F(ServeTest, BrokenReloadKeepsOldRig) {
    start(4, 4);
    expect_all_ready(4);

    write_file(rig_file(), "rig: broken\ncameras:\n  - name: cam1\n    port: eighty\n");
    serve_->process().send_signal(SIGHUP);

    const bool rejected = eventually(
        [&] { return serve_->process().errors().find("rejected") != std::string::npos; },
        poll_limit);
    EXPECT_TRUE(rejected) << serve_->process().errors();
    const std::string log = serve_->process().errors();
    EXPECT_NE(log.find("cameras[0].port"), std::string::npos) << log;

    std::this_thread::sleep_for(1500ms);
    const json cameras = serve_->cameras();
    EXPECT_TRUE(all_in_state(cameras, "ready", 4)) << cameras.dump(2);
    EXPECT_TRUE(serve_->process().running());
}

TEST_F(ServeTest, SigtermExitsZero) {
    start(4, 4);
    expect_all_ready(4);

    serve_->process().send_signal(SIGTERM);
    const std::optional<int> code = serve_->process().wait_exit(15s);
    ASSERT_TRUE(code.has_value()) << "still running after SIGTERM";
    EXPECT_EQ(*code, 0) << serve_->process().errors();
    EXPECT_NE(serve_->process().errors().find("oscrig serve stopped"), std::string::npos);
}

TEST_F(ServeTest, SigintExitsZero) {
    start(2, 2);
    expect_all_ready(2);

    serve_->process().send_signal(SIGINT);
    const std::optional<int> code = serve_->process().wait_exit(15s);
    ASSERT_TRUE(code.has_value()) << "still running after SIGINT";
    EXPECT_EQ(*code, 0) << serve_->process().errors();
}

TEST_F(ServeTest, PhotoShotFromApi) {
    start(4, 4);
    expect_all_ready(4);

    const auto started = http(serve_->port(), "POST", "/api/shots", R"({"mode":"photo"})");
    ASSERT_TRUE(started.has_value());
    ASSERT_TRUE(started->status == 200 || started->status == 202) << started->body;
    const std::string shot_id = json::parse(started->body, nullptr, false).value("shot_id", "");
    EXPECT_FALSE(shot_id.empty()) << started->body;

    json shots;
    const bool finished = eventually(
        [&] {
            const auto reply = serve_->get("/api/shots");
            if (!reply || reply->status != 200) {
                return false;
            }
            shots = json::parse(reply->body, nullptr, false);
            return shots.is_object() && shots["shots"].is_array() && !shots["shots"].empty();
        },
        60s);
    ASSERT_TRUE(finished) << serve_->process().errors();
    const json& shot = shots["shots"].back();
    EXPECT_EQ(shot.value("shot_id", ""), shot_id);
    ASSERT_TRUE(shot["cameras"].is_array());
    EXPECT_EQ(shot["cameras"].size(), 4u);
    for (const auto& camera : shot["cameras"]) {
        EXPECT_TRUE(camera.value("delivered", false)) << camera.dump();
    }

    // The listFiles after the shot brings a thumbnail to every camera.
    const bool thumbnails = eventually(
        [&] {
            for (const auto& camera : serve_->cameras()) {
                if (camera.value("thumbnail_jpeg_base64", "").empty()) {
                    return false;
                }
            }
            return true;
        },
        poll_limit);
    EXPECT_TRUE(thumbnails);
    EXPECT_TRUE(all_in_state(serve_->cameras(), "ready", 4)) << serve_->cameras().dump(2);

    const auto metrics = serve_->get("/metrics");
    ASSERT_TRUE(metrics.has_value());
    EXPECT_NE(metrics->body.find("oscrig_shots_total 1"), std::string::npos);
}

TEST_F(ServeTest, UnactivatedCameraNeedsActivation) {
    start(2, 2);
    expect_all_ready(2);
    const auto fault = sim_->post(0, "/sim/faults", {{"unactivated", true}});
    ASSERT_TRUE(fault.has_value());
    ASSERT_EQ(fault->status, 200) << fault->body;

    const auto started = http(serve_->port(), "POST", "/api/shots", R"({"mode":"photo"})");
    ASSERT_TRUE(started.has_value());
    ASSERT_TRUE(started->status == 200 || started->status == 202) << started->body;

    // The staged trigger reads the unactivated reply itself; the camera must still show it.
    json first;
    const bool marked = eventually(
        [&] {
            for (const auto& camera : serve_->cameras()) {
                if (camera.value("name", "") == simulator::camera_name(0)) {
                    first = camera;
                    return camera.value("state", "") == "needs_activation";
                }
            }
            return false;
        },
        60s);
    EXPECT_TRUE(marked) << first.dump(2);
    EXPECT_NE(first.value("reason", "").find("Insta360 app"), std::string::npos) << first.dump();
}

TEST_F(ServeTest, SecondShotWhileRunningConflicts) {
    start(2, 2);
    expect_all_ready(2);

    const auto first = http(serve_->port(), "POST", "/api/shots",
                            R"({"mode":"video","duration_ms":3000})");
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(first->status == 200 || first->status == 202) << first->body;
    const auto second = http(serve_->port(), "POST", "/api/shots", R"({"mode":"photo"})");
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->status, 409) << second->body;
}

TEST_F(ServeTest, VideoStopsOnRequest) {
    start(2, 2);
    expect_all_ready(2);

    const auto idle_stop = http(serve_->port(), "POST", "/api/recording/stop", "{}");
    ASSERT_TRUE(idle_stop.has_value());
    EXPECT_EQ(idle_stop->status, 409) << idle_stop->body;

    // No duration: the cameras record until the stop request.
    const auto started = http(serve_->port(), "POST", "/api/shots", R"({"mode":"video"})");
    ASSERT_TRUE(started.has_value());
    ASSERT_TRUE(started->status == 200 || started->status == 202) << started->body;
    std::this_thread::sleep_for(2s);
    const auto stopped = http(serve_->port(), "POST", "/api/recording/stop", "{}");
    ASSERT_TRUE(stopped.has_value());
    EXPECT_EQ(stopped->status / 100, 2) << stopped->body;

    json shots;
    const bool finished = eventually(
        [&] {
            const auto reply = serve_->get("/api/shots");
            shots = reply ? json::parse(reply->body, nullptr, false) : json();
            return shots.is_object() && shots["shots"].is_array() && !shots["shots"].empty();
        },
        60s);
    ASSERT_TRUE(finished) << serve_->process().errors();
    const json& shot = shots["shots"].back();
    EXPECT_EQ(shot.value("mode", ""), "video");
    ASSERT_EQ(shot["cameras"].size(), 2u);
    for (const auto& camera : shot["cameras"]) {
        EXPECT_TRUE(camera.value("delivered", false)) << camera.dump();
    }
}

TEST_F(ServeTest, JsonLogLines) {
    start(2, 2, {"--log.format", "json"});
    expect_all_ready(2);

    std::istringstream lines(serve_->process().errors());
    std::string line;
    int parsed = 0;
    while (std::getline(lines, line)) {
        const json entry = json::parse(line, nullptr, false);
        ASSERT_TRUE(entry.is_object()) << line;
        EXPECT_TRUE(entry["time"].is_string()) << line;
        EXPECT_TRUE(entry["level"].is_string()) << line;
        EXPECT_TRUE(entry["message"].is_string()) << line;
        ++parsed;
    }
    EXPECT_GE(parsed, 3);
}

TEST_F(ServeTest, PromtoolAcceptsScrape) {
    if (!std::filesystem::exists("/usr/bin/promtool")) {
        GTEST_SKIP() << "/usr/bin/promtool not installed (Debian package prometheus)";
    }
    start(4, 4);
    expect_all_ready(4);

    const auto metrics = serve_->get("/metrics");
    ASSERT_TRUE(metrics.has_value());
    ASSERT_EQ(metrics->status, 200);
    const std::filesystem::path scrape = folder_.path() / "scrape.txt";
    write_file(scrape, metrics->body);

    const auto [code, output] = run_command("/usr/bin/promtool check metrics < " + scrape.string());
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(output, "");
}

TEST(ServeCommand, RigErrorsExit78) {
    temp_folder folder("oscrig-serve-test");
    const auto rig = folder.path() / "rig.yaml";
    write_file(rig, "rig: broken\ncameras: []\nhealth_interval: 1\n");
    child_process serve({OSCRIG_BINARY, "serve", rig.string(), "--web.listen-address",
                         "127.0.0.1:0"},
                        folder.path() / "serve.out", folder.path() / "serve.err");
    const std::optional<int> code = serve.wait_exit(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 78) << serve.errors();
    EXPECT_NE(serve.errors().find("rig.yaml:"), std::string::npos) << serve.errors();
}

TEST(ServeCommand, MissingRigFileExit78) {
    temp_folder folder("oscrig-serve-test");
    child_process serve({OSCRIG_BINARY, "serve", (folder.path() / "absent.yaml").string()},
                        folder.path() / "serve.out", folder.path() / "serve.err");
    const std::optional<int> code = serve.wait_exit(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 78) << serve.errors();
}

TEST(ServeCommand, InvalidListenAddressIsUsageError) {
    temp_folder folder("oscrig-serve-test");
    const auto rig = folder.path() / "rig.yaml";
    write_file(rig, "rig: one\ncameras:\n  - name: cam1\n    host: 127.0.0.1\n    port: 9\n");
    child_process serve({OSCRIG_BINARY, "serve", rig.string(), "--web.listen-address",
                         "127.0.0.1"},
                        folder.path() / "serve.out", folder.path() / "serve.err");
    const std::optional<int> code = serve.wait_exit(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 64) << serve.errors();
}

TEST(ServeCommand, VersionFlag) {
    temp_folder folder("oscrig-serve-test");
    child_process serve({OSCRIG_BINARY, "serve", "--version"}, folder.path() / "serve.out",
                        folder.path() / "serve.err");
    const std::optional<int> code = serve.wait_exit(15s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0);
    EXPECT_NE((serve.output() + serve.errors()).find("oscrig "), std::string::npos);
}

TEST(ServeFiles, SystemdUnitVerifies) {
    if (!std::filesystem::exists("/usr/bin/systemd-analyze")) {
        GTEST_SKIP() << "/usr/bin/systemd-analyze not installed";
    }
    temp_folder folder("oscrig-serve-test");
    const std::string unit =
        read_file(std::filesystem::path(OSCRIG_SOURCE_DIR) / "tools/systemd/oscrig.service");
    ASSERT_FALSE(unit.empty());
    EXPECT_NE(unit.find("RestartPreventExitStatus=78"), std::string::npos);
    EXPECT_NE(unit.find("ExecReload=/bin/kill -HUP $MAINPID"), std::string::npos);

    // verify needs the ExecStart binary to exist, so the copy points at the built one.
    std::string copy = unit;
    const std::string installed = "/usr/local/bin/oscrig";
    copy.replace(copy.find(installed), installed.size(), OSCRIG_BINARY);
    write_file(folder.path() / "oscrig.service", copy);

    const auto [code, output] =
        run_command("/usr/bin/systemd-analyze verify " + (folder.path() / "oscrig.service").string());
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(output, "");
}

TEST(ServeFiles, AlertRulesPassPromtool) {
    if (!std::filesystem::exists("/usr/bin/promtool")) {
        GTEST_SKIP() << "/usr/bin/promtool not installed (Debian package prometheus)";
    }
    const std::filesystem::path folder = std::filesystem::path(OSCRIG_SOURCE_DIR) /
                                         "tools/prometheus";
    const auto [check_code, check_output] =
        run_command("/usr/bin/promtool check rules " + (folder / "alerts.yml").string());
    EXPECT_EQ(check_code, 0) << check_output;

    const auto [config_code, config_output] =
        run_command("/usr/bin/promtool check config " + (folder / "prometheus.yml").string());
    EXPECT_EQ(config_code, 0) << config_output;

    const auto [test_code, test_output] = run_command(
        "cd " + folder.string() + " && /usr/bin/promtool test rules alerts_test.yml");
    EXPECT_EQ(test_code, 0) << test_output;
}

}  // namespace
}  // namespace oscrig::serve_harness
