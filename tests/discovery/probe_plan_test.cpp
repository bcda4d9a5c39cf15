#include "discovery/probe_plan.hpp"

#include <gtest/gtest.h>

#include <net/if.h>

#include <string>
#include <utility>
#include <vector>

namespace oscrig::discovery {
namespace {

using controller::gateway_source;
using controller::interface_info;

interface_info make_interface(std::string name, unsigned flags, std::string address,
                              std::string gateway = {}) {
    interface_info info;
    info.name = std::move(name);
    info.index = 1;
    info.flags = flags;
    if (!address.empty()) {
        info.ipv4.push_back({.address = std::move(address), .prefix_length = 24});
    }
    if (!gateway.empty()) {
        info.gateway = std::move(gateway);
        info.gateway_from = gateway_source::on_link;
    }
    return info;
}

constexpr unsigned up_running = IFF_UP | IFF_RUNNING;

std::vector<std::string> addresses_on(const probe_plan& plan, const std::string& name) {
    std::vector<std::string> addresses;
    for (const auto& target : plan.targets) {
        if (target.interface == name) {
            addresses.push_back(target.address);
        }
    }
    return addresses;
}

std::string skip_reason(const probe_plan& plan, const std::string& name) {
    for (const auto& skipped : plan.skipped) {
        if (skipped.name == name) {
            return skipped.reason;
        }
    }
    return {};
}

TEST(ProbePlan, DefaultCandidatesAfterGateway) {
    const std::vector interfaces = {
        make_interface("wlan1", up_running, "192.168.42.2", "192.168.42.1"),
        make_interface("wlan2", up_running, "198.18.5.2", "198.18.5.1"),
    };
    const auto plan = plan_probes(interfaces, {});

    // The wlan1 gateway equals a default candidate and is probed once.
    EXPECT_EQ(addresses_on(plan, "wlan1"),
              (std::vector<std::string>{"192.168.42.1", "192.168.1.1"}));
    EXPECT_EQ(addresses_on(plan, "wlan2"),
              (std::vector<std::string>{"198.18.5.1", "192.168.42.1", "192.168.1.1"}));
    for (const auto& target : plan.targets) {
        EXPECT_EQ(target.port, 80);
    }
}

TEST(ProbePlan, CandidatesReplaceGatewayAndDefaults) {
    const std::vector interfaces = {
        make_interface("wlan1", up_running, "192.168.42.2", "192.168.42.1"),
    };
    discover_options options;
    options.candidates = {"198.18.0.1", "198.18.0.1", "198.18.0.3"};
    options.port = 8080;
    const auto plan = plan_probes(interfaces, options);

    EXPECT_EQ(addresses_on(plan, "wlan1"), (std::vector<std::string>{"198.18.0.1", "198.18.0.3"}));
    ASSERT_FALSE(plan.targets.empty());
    EXPECT_EQ(plan.targets.front().port, 8080);
}

TEST(ProbePlan, UnusableInterfacesSkipped) {
    const std::vector interfaces = {
        make_interface("lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING, "127.0.0.1"),
        make_interface("eth9", 0, "198.18.1.2"),
        make_interface("wlan7", IFF_UP, "198.18.2.2"),
        make_interface("wlan8", up_running, ""),
        make_interface("wlan9", up_running, "198.18.3.2"),
    };
    const auto plan = plan_probes(interfaces, {});

    EXPECT_TRUE(addresses_on(plan, "lo").empty());
    EXPECT_TRUE(skip_reason(plan, "lo").starts_with("loopback"));
    EXPECT_EQ(skip_reason(plan, "eth9"), "down");
    EXPECT_EQ(skip_reason(plan, "wlan7"), "no carrier");
    EXPECT_EQ(skip_reason(plan, "wlan8"), "no IPv4 address");
    EXPECT_EQ(skip_reason(plan, "wlan9"), "");
    EXPECT_EQ(addresses_on(plan, "wlan9").size(), 2u);
}

TEST(ProbePlan, FilterLimitsAndReportsMissing) {
    const std::vector interfaces = {
        make_interface("lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING, "127.0.0.1"),
        make_interface("wlan1", up_running, "198.18.0.2"),
        make_interface("wlan2", up_running, "198.18.0.2"),
    };
    discover_options options;
    options.interfaces = {"lo", "wlan2", "wlan5"};
    options.candidates = {"127.0.0.1", "127.0.0.2", "198.18.0.1"};
    const auto plan = plan_probes(interfaces, options);

    // Loopback is probed when named, without its own address.
    EXPECT_EQ(addresses_on(plan, "lo"), (std::vector<std::string>{"127.0.0.2", "198.18.0.1"}));
    EXPECT_TRUE(addresses_on(plan, "wlan1").empty());
    EXPECT_EQ(skip_reason(plan, "wlan1"), "");
    EXPECT_EQ(addresses_on(plan, "wlan2").size(), 3u);
    EXPECT_EQ(skip_reason(plan, "wlan5"), "not found");
}

TEST(ProbePlan, StrictReversePathFilterWarns) {
    auto strict = make_interface("wlan1", up_running, "198.18.0.2");
    strict.reverse_path_filter = 1;
    auto loose = make_interface("wlan2", up_running, "198.18.0.2");
    loose.reverse_path_filter = 2;
    const auto plan = plan_probes({strict, loose}, {});

    ASSERT_EQ(plan.warnings.size(), 1u);
    EXPECT_NE(plan.warnings[0].find("wlan1 has strict reverse-path filtering"), std::string::npos)
        << plan.warnings[0];
    EXPECT_NE(plan.warnings[0].find("net.ipv4.conf.wlan1.rp_filter=2"), std::string::npos)
        << plan.warnings[0];
    // The warning does not stop the probes.
    EXPECT_EQ(addresses_on(plan, "wlan1").size(), 2u);
}

constexpr std::string_view insta360_info = R"({
    "manufacturer": "Arashi Vision", "model": "Insta360 ONE X2",
    "serialNumber": "IXSE42A7GC3R1Q", "firmwareVersion": "v1.0.59_build1",
    "api": ["/osc/info"], "apiLevel": [2], "uptime": 12})";

constexpr std::string_view insta360_state = R"({
    "fingerprint": "FIG_0001", "state": {"batteryLevel": 0.83, "_cardState": "pass"}})";

const probe_target wlan1_target{.interface = "wlan1", .address = "192.168.42.1", .port = 80};

TEST(InterpretProbe, InfoAndStateGiveCamera) {
    const auto result = interpret_probe(wlan1_target, 200, insta360_info, 200, insta360_state);
    ASSERT_TRUE(result.camera.has_value()) << result.error;
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(result.state_error, "");
    EXPECT_EQ(result.camera->interface, "wlan1");
    EXPECT_EQ(result.camera->address, "192.168.42.1");
    EXPECT_EQ(result.camera->manufacturer, "Arashi Vision");
    EXPECT_EQ(result.camera->model, "Insta360 ONE X2");
    EXPECT_EQ(result.camera->serial_number, "IXSE42A7GC3R1Q");
    EXPECT_EQ(result.camera->firmware_version, "v1.0.59_build1");
    ASSERT_TRUE(result.camera->battery_level.has_value());
    EXPECT_DOUBLE_EQ(*result.camera->battery_level, 0.83);
}

TEST(InterpretProbe, BadStateKeepsCamera) {
    const auto result = interpret_probe(wlan1_target, 200, insta360_info, 500, "");
    ASSERT_TRUE(result.camera.has_value()) << result.error;
    EXPECT_FALSE(result.camera->battery_level.has_value());
    EXPECT_NE(result.state_error, "");
}

TEST(InterpretProbe, NonCameraReplyRejected) {
    const auto html = interpret_probe(wlan1_target, 200, "<html>router</html>", std::nullopt, "");
    EXPECT_FALSE(html.camera.has_value());
    EXPECT_NE(html.error, "");

    const auto other_json = interpret_probe(wlan1_target, 200, R"({"name":"router"})",
                                            std::nullopt, "");
    EXPECT_FALSE(other_json.camera.has_value());
    EXPECT_NE(other_json.error, "");

    const auto not_found = interpret_probe(wlan1_target, 404, "", std::nullopt, "");
    EXPECT_FALSE(not_found.camera.has_value());
    EXPECT_NE(not_found.error, "");
}

TEST(UniqueCameras, DropsRepeatOnSameInterface) {
    const probe_target gateway{.interface = "wlan1", .address = "198.18.0.1", .port = 80};
    const probe_target other_link{.interface = "wlan2", .address = "192.168.42.1", .port = 80};
    const std::vector results = {
        interpret_probe(wlan1_target, 200, insta360_info, 200, insta360_state),
        interpret_probe(gateway, 200, insta360_info, 200, insta360_state),
        interpret_probe(other_link, 200, insta360_info, 200, insta360_state),
        interpret_probe(other_link, 404, "", std::nullopt, ""),
    };
    const auto cameras = unique_cameras(results);
    ASSERT_EQ(cameras.size(), 2u);
    EXPECT_EQ(cameras[0].interface, "wlan1");
    EXPECT_EQ(cameras[0].address, "192.168.42.1");
    EXPECT_EQ(cameras[1].interface, "wlan2");
}

}  // namespace
}  // namespace oscrig::discovery
