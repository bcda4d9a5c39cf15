// /metrics over a real socket: every series from the start, values that follow the fleet, and
// a scrape that promtool accepts.
#include "dashboard/server.hpp"

#include "test_fleet.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace oscrig::dashboard {
namespace {

using testing::event_loop;
using testing::http_request;
using testing::ready_camera;
using testing::test_fleet;

// Series of one scrape: "name{labels}" as written, to its value.
std::map<std::string, double> parse_samples(const std::string& text) {
    std::map<std::string, double> samples;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const auto space = line.rfind(' ');
        const std::string value = line.substr(space + 1);
        samples[line.substr(0, space)] = value == "Nan" || value == "NaN" ? std::nan("")
                                                                          : std::stod(value);
    }
    return samples;
}

class metrics_test : public ::testing::Test {
protected:
    void SetUp() override {
        fleet_.camera_list = {ready_camera("cam1", 20001), ready_camera("cam2", 20002)};
    }

    void TearDown() override {
        loop_.call([&] { server_.reset(); });
        loop_.stop();
    }

    void start() {
        server_settings settings;
        settings.port = 0;
        settings.version = "9.8.7";
        server_ = std::make_unique<server>(loop_.context().get_executor(), fleet_, settings);
        server_->start();
        loop_.run();
    }

    std::string scrape() {
        const auto reply = http_request(server_->port(), "GET", "/metrics");
        EXPECT_EQ(reply.status, 200u);
        EXPECT_EQ(reply.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
        return reply.body;
    }

    std::map<std::string, double> samples() { return parse_samples(scrape()); }

    void change(const std::function<void(test_fleet&)>& edit) {
        loop_.call([&] {
            edit(fleet_);
            fleet_.notify();
        });
    }

    event_loop loop_;
    test_fleet fleet_;
    std::unique_ptr<server> server_;
};

const std::vector<std::string> per_camera_names = {
    "oscrig_camera_up",
    "oscrig_camera_battery_ratio",
    "oscrig_camera_charging",
    "oscrig_camera_storage_remaining_bytes",
    "oscrig_camera_storage_total_bytes",
    "oscrig_camera_clock_offset_seconds",
    "oscrig_camera_clock_uncertainty_seconds",
    "oscrig_camera_round_trip_seconds",
    "oscrig_camera_requests_total",
    "oscrig_camera_request_failures_total",
    "oscrig_camera_last_successful_poll_timestamp_seconds",
};

const std::vector<std::string> card_state_values = {
    "pass", "noCard", "noSpace", "invalidFormat", "writeProtect", "otherError", "unknown"};

const std::vector<std::string> camera_state_values = {
    "connecting", "ready", "busy", "unreachable", "needs_activation", "error"};

TEST_F(metrics_test, every_series_exists_from_start) {
    // A camera that has not replied yet still gets every series.
    fleet_.camera_list[1] = {};
    fleet_.camera_list[1].name = "cam2";
    start();
    const auto text = scrape();
    const auto values = parse_samples(text);

    for (const std::string camera : {"cam1", "cam2"}) {
        const std::string label = "{camera=\"" + camera + "\"}";
        for (const auto& name : per_camera_names) {
            EXPECT_TRUE(values.contains(name + label)) << name << label;
        }
        for (const auto& state : card_state_values) {
            const auto series = "oscrig_camera_card_state{camera=\"" + camera + "\",state=\"" +
                                state + "\"}";
            EXPECT_TRUE(values.contains(series)) << series;
        }
        for (const auto& state : camera_state_values) {
            const auto series =
                "oscrig_camera_state{camera=\"" + camera + "\",state=\"" + state + "\"}";
            EXPECT_TRUE(values.contains(series)) << series;
        }
    }
    EXPECT_TRUE(values.contains(
        "oscrig_camera_info{camera=\"cam1\",firmware=\"1.0.0\",model=\"ONE X2\","
        "serial=\"IXE20001\"}"));
    EXPECT_TRUE(values.contains(
        "oscrig_camera_info{camera=\"cam2\",firmware=\"\",model=\"\",serial=\"\"}"));

    for (const std::string name : {"oscrig_shots_total", "oscrig_shot_failures_total",
                                   "oscrig_downloaded_bytes_total",
                                   "oscrig_trigger_arrival_spread_seconds_count",
                                   "oscrig_trigger_arrival_spread_seconds_sum"}) {
        EXPECT_TRUE(values.contains(name)) << name;
    }
    EXPECT_TRUE(values.contains("oscrig_trigger_arrival_spread_seconds_bucket{le=\"1e-05\"}"));
    EXPECT_TRUE(values.contains("oscrig_trigger_arrival_spread_seconds_bucket{le=\"0.1\"}"));
    EXPECT_TRUE(values.contains("oscrig_trigger_arrival_spread_seconds_bucket{le=\"+Inf\"}"));
    EXPECT_EQ(values.at("oscrig_build_info{version=\"9.8.7\"}"), 1.0);

    EXPECT_NE(text.find("# TYPE oscrig_camera_requests_total counter"), std::string::npos);
    EXPECT_NE(text.find("# TYPE oscrig_trigger_arrival_spread_seconds histogram"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE oscrig_camera_up gauge"), std::string::npos);
}

TEST_F(metrics_test, unknown_values_are_nan) {
    fleet_.camera_list[1] = {};
    fleet_.camera_list[1].name = "cam2";
    start();
    const auto values = samples();
    EXPECT_TRUE(std::isnan(values.at("oscrig_camera_battery_ratio{camera=\"cam2\"}")));
    EXPECT_TRUE(std::isnan(values.at("oscrig_camera_clock_offset_seconds{camera=\"cam2\"}")));
    EXPECT_EQ(values.at("oscrig_camera_last_successful_poll_timestamp_seconds{camera=\"cam2\"}"),
              0.0);
    EXPECT_EQ(values.at("oscrig_camera_state{camera=\"cam2\",state=\"connecting\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam2\",state=\"unknown\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_up{camera=\"cam2\"}"), 0.0);
}

TEST_F(metrics_test, gauges_follow_fleet) {
    start();
    auto values = samples();
    EXPECT_EQ(values.at("oscrig_camera_battery_ratio{camera=\"cam1\"}"), 0.8);
    EXPECT_EQ(values.at("oscrig_camera_up{camera=\"cam1\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam1\",state=\"pass\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_storage_remaining_bytes{camera=\"cam1\"}"), 50e9);

    change([](test_fleet& fleet) {
        auto& camera = fleet.camera("cam1");
        camera.battery_ratio = 0.15;
        camera.charging = true;
        camera.card_state = "noSpace";
        camera.remaining_bytes = 1000;
        camera.round_trip_seconds = 0.25;
        camera.state = controller::camera_state::unreachable;
        camera.firmware_version = "2.0.0";
    });
    values = samples();
    EXPECT_EQ(values.at("oscrig_camera_battery_ratio{camera=\"cam1\"}"), 0.15);
    EXPECT_EQ(values.at("oscrig_camera_charging{camera=\"cam1\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam1\",state=\"noSpace\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam1\",state=\"pass\"}"), 0.0);
    EXPECT_EQ(values.at("oscrig_camera_storage_remaining_bytes{camera=\"cam1\"}"), 1000.0);
    EXPECT_EQ(values.at("oscrig_camera_round_trip_seconds{camera=\"cam1\"}"), 0.25);
    EXPECT_EQ(values.at("oscrig_camera_up{camera=\"cam1\"}"), 0.0);
    EXPECT_EQ(values.at("oscrig_camera_state{camera=\"cam1\",state=\"unreachable\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_state{camera=\"cam1\",state=\"ready\"}"), 0.0);
    // The info series moves to the new firmware label, and the old one is gone.
    EXPECT_TRUE(values.contains(
        "oscrig_camera_info{camera=\"cam1\",firmware=\"2.0.0\",model=\"ONE X2\","
        "serial=\"IXE20001\"}"));
    EXPECT_FALSE(values.contains(
        "oscrig_camera_info{camera=\"cam1\",firmware=\"1.0.0\",model=\"ONE X2\","
        "serial=\"IXE20001\"}"));
    // The other camera did not change.
    EXPECT_EQ(values.at("oscrig_camera_battery_ratio{camera=\"cam2\"}"), 0.8);
}

TEST_F(metrics_test, unlisted_card_state_counts_as_unknown) {
    fleet_.camera_list[0].card_state = "somethingNew";
    start();
    const auto values = samples();
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam1\",state=\"unknown\"}"), 1.0);
    EXPECT_EQ(values.at("oscrig_camera_card_state{camera=\"cam1\",state=\"pass\"}"), 0.0);
}

TEST_F(metrics_test, counters_add_growth_of_totals) {
    start();
    EXPECT_EQ(samples().at("oscrig_camera_requests_total{camera=\"cam1\"}"), 10.0);

    change([](test_fleet& fleet) {
        fleet.camera("cam1").requests_total = 25;
        fleet.camera("cam1").failures_total = 4;
        fleet.counter_values = {3, 1, 123456};
    });
    auto values = samples();
    EXPECT_EQ(values.at("oscrig_camera_requests_total{camera=\"cam1\"}"), 25.0);
    EXPECT_EQ(values.at("oscrig_camera_request_failures_total{camera=\"cam1\"}"), 4.0);
    EXPECT_EQ(values.at("oscrig_shots_total"), 3.0);
    EXPECT_EQ(values.at("oscrig_shot_failures_total"), 1.0);
    EXPECT_EQ(values.at("oscrig_downloaded_bytes_total"), 123456.0);

    // A total that restarts from a lower value (a rebuilt session) never makes the counter
    // go down: it grows by the new total.
    change([](test_fleet& fleet) { fleet.camera("cam1").requests_total = 5; });
    values = samples();
    EXPECT_EQ(values.at("oscrig_camera_requests_total{camera=\"cam1\"}"), 30.0);

    // Scraping twice without a change adds nothing.
    EXPECT_EQ(samples().at("oscrig_camera_requests_total{camera=\"cam1\"}"), 30.0);
}

TEST_F(metrics_test, arrival_spread_observed_once_per_shot) {
    start();
    change([](test_fleet& fleet) {
        controller::shot_report shot;
        shot.shot_id = "shot-a";
        shot.sync_summaries.push_back({"camera.takePicture", 2, 250.0, 900.0});
        fleet.shot_list.push_back(shot);
    });
    auto values = samples();
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_count"), 1.0);
    EXPECT_NEAR(values.at("oscrig_trigger_arrival_spread_seconds_sum"), 250e-6, 1e-12);
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_bucket{le=\"0.0001\"}"), 0.0);
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_bucket{le=\"0.00025\"}"), 1.0);

    // Video: start and stop each have a spread, and a summary without one is skipped.
    change([](test_fleet& fleet) {
        controller::shot_report shot;
        shot.shot_id = "shot-b";
        shot.sync_summaries.push_back({"camera.startCapture", 2, 40.0, std::nullopt});
        shot.sync_summaries.push_back({"camera.stopCapture", 2, 60'000.0, std::nullopt});
        shot.sync_summaries.push_back({"camera.stopCapture", 1, std::nullopt, std::nullopt});
        fleet.shot_list.push_back(shot);
    });
    values = samples();
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_count"), 3.0);
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_bucket{le=\"0.05\"}"), 2.0);
    EXPECT_EQ(values.at("oscrig_trigger_arrival_spread_seconds_bucket{le=\"0.1\"}"), 3.0);
}

TEST_F(metrics_test, reload_adds_and_removes_camera_series) {
    start();
    change([](test_fleet& fleet) {
        fleet.camera_list.erase(fleet.camera_list.begin());
        fleet.camera_list.push_back(ready_camera("cam3", 20003));
    });
    const auto text = scrape();
    EXPECT_EQ(text.find("camera=\"cam1\""), std::string::npos);
    const auto values = parse_samples(text);
    EXPECT_TRUE(values.contains("oscrig_camera_up{camera=\"cam3\"}"));
    EXPECT_TRUE(
        values.contains("oscrig_camera_card_state{camera=\"cam3\",state=\"writeProtect\"}"));
    EXPECT_EQ(values.at("oscrig_camera_requests_total{camera=\"cam3\"}"), 10.0);
    EXPECT_TRUE(values.contains("oscrig_camera_up{camera=\"cam2\"}"));
}

TEST_F(metrics_test, promtool_accepts_scrape) {
    const std::filesystem::path promtool = "/usr/bin/promtool";
    if (!std::filesystem::exists(promtool)) {
        GTEST_SKIP() << "promtool not installed at " << promtool
                     << " (Debian package prometheus)";
    }
    fleet_.camera_list[1].card_state = "";
    fleet_.camera_list[1].battery_ratio.reset();
    fleet_.camera_list[0].model = "quote \" backslash \\ newline \n";  // escaped in labels
    start();
    const auto folder = std::filesystem::temp_directory_path() /
                        ("oscrig-dashboard-promtool-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const auto scrape_file = folder / "scrape.txt";
    std::ofstream(scrape_file) << scrape();

    const std::string command =
        promtool.string() + " check metrics < " + scrape_file.string() + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char chunk[512];
    while (const auto read = std::fread(chunk, 1, sizeof chunk, pipe)) {
        output.append(chunk, read);
    }
    const int status = ::pclose(pipe);
    std::filesystem::remove_all(folder);
    EXPECT_EQ(output, "");
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace oscrig::dashboard
