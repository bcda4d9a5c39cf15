// A real Prometheus server scrapes `oscrig serve` (against oscrig-sim) every second, and its
// query API must return the battery level the simulator was set to.
#include "tests/integration/serve_harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>

namespace oscrig::serve_harness {
namespace {

using json = nlohmann::json;

constexpr const char* prometheus_binary = "/usr/bin/prometheus";

// Battery ratio of `camera` in a /api/v1/query reply, or nothing.
std::optional<double> battery_of(const std::string& reply_body, const std::string& camera) {
    const json reply = json::parse(reply_body, nullptr, false);
    if (!reply.is_object() || reply.value("status", "") != "success") {
        return std::nullopt;
    }
    for (const auto& series : reply["data"]["result"]) {
        if (series["metric"].value("camera", "") == camera && series["value"].is_array() &&
            series["value"].size() == 2) {
            return std::stod(series["value"][1].get<std::string>());
        }
    }
    return std::nullopt;
}

TEST(Prometheus, ScrapesBatteryLevel) {
    if (!std::filesystem::exists(prometheus_binary)) {
        GTEST_SKIP() << prometheus_binary << " not installed (Debian package prometheus)";
    }
    temp_folder folder("oscrig-prometheus-test");
    simulator sim(folder.path(), 4);
    ASSERT_TRUE(sim.ready()) << read_file(folder.path() / "sim.err");
    write_file(folder.path() / "rig.yaml",
               rig_yaml(sim, {0, 1, 2, 3}, folder.path() / "shots"));
    serve_process serve(folder.path(), folder.path() / "rig.yaml");
    ASSERT_TRUE(serve.ready()) << serve.process().errors();

    const auto set = sim.post(0, "/sim/set", {{"battery_level", 63}});
    ASSERT_TRUE(set.has_value());
    ASSERT_EQ(set->status, 200) << set->body;

    const std::filesystem::path config = folder.path() / "prometheus.yml";
    write_file(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                       "scrape_configs:\n  - job_name: oscrig\n    static_configs:\n"
                       "      - targets: [\"127.0.0.1:" +
                           std::to_string(serve.port()) + "\"]\n");
    const std::uint16_t prometheus_port = free_port();
    child_process prometheus(
        {prometheus_binary, "--config.file=" + config.string(),
         "--storage.tsdb.path=" + (folder.path() / "tsdb").string(),
         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
        folder.path() / "prometheus.out", folder.path() / "prometheus.err");
    ASSERT_TRUE(prometheus.started());

    std::optional<double> battery;
    const bool seen = eventually(
        [&] {
            const auto reply =
                http(prometheus_port, "GET", "/api/v1/query?query=oscrig_camera_battery_ratio");
            battery = reply && reply->status == 200 ? battery_of(reply->body, "cam1")
                                                    : std::nullopt;
            return battery && std::abs(*battery - 0.63) < 0.011;
        },
        60s);
    EXPECT_TRUE(seen) << "last value: " << (battery ? std::to_string(*battery) : "none") << "\n"
                      << prometheus.errors();

    // The scrape itself must be healthy, not only present.
    const auto up = http(prometheus_port, "GET", "/api/v1/query?query=up");
    ASSERT_TRUE(up.has_value());
    const json up_reply = json::parse(up->body, nullptr, false);
    ASSERT_TRUE(up_reply.is_object());
    ASSERT_FALSE(up_reply["data"]["result"].empty()) << up->body;
    EXPECT_EQ(up_reply["data"]["result"][0]["value"][1], "1") << up->body;

    prometheus.send_signal(SIGTERM);
    const std::optional<int> prometheus_exit = prometheus.wait_exit(20s);
    EXPECT_TRUE(prometheus_exit.has_value());
    serve.process().send_signal(SIGTERM);
    const std::optional<int> serve_exit = serve.process().wait_exit(15s);
    ASSERT_TRUE(serve_exit.has_value());
    EXPECT_EQ(*serve_exit, 0);
}

}  // namespace
}  // namespace oscrig::serve_harness
