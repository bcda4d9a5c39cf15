#include "controller/net_interface.hpp"

#include <gtest/gtest.h>

#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace oscrig::controller {
namespace {

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

interface_info make_interface(std::string name, std::string address) {
    interface_info info;
    info.name = std::move(name);
    if (!address.empty()) {
        info.ipv4.push_back({.address = std::move(address), .prefix_length = 24});
    }
    return info;
}

TEST(NetInterface, LoopbackIsUsable) {
    const auto info = check_interface_usable("lo");
    ASSERT_TRUE(info.has_value()) << info.error().to_string();
    EXPECT_EQ(info->name, "lo");
    EXPECT_EQ(info->index, if_nametoindex("lo"));
    EXPECT_TRUE(info->is_up());
    EXPECT_TRUE(info->is_loopback());
    const bool has_localhost = std::any_of(info->ipv4.begin(), info->ipv4.end(), [](auto& a) {
        return a.address == "127.0.0.1";
    });
    EXPECT_TRUE(has_localhost);
}

TEST(NetInterface, ListContainsLoopback) {
    const auto interfaces = list_interfaces();
    ASSERT_TRUE(interfaces.has_value()) << interfaces.error().to_string();
    const auto lo = std::find_if(interfaces->begin(), interfaces->end(),
                                 [](const auto& info) { return info.name == "lo"; });
    ASSERT_NE(lo, interfaces->end());
    EXPECT_GT(lo->index, 0u);
    ASSERT_TRUE(lo->reverse_path_filter.has_value());
    EXPECT_GE(*lo->reverse_path_filter, 0);
    EXPECT_LE(*lo->reverse_path_filter, 2);
    const bool sorted = std::is_sorted(interfaces->begin(), interfaces->end(),
                                       [](auto& a, auto& b) { return a.index < b.index; });
    EXPECT_TRUE(sorted);
}

TEST(NetInterface, MissingNameListsAvailable) {
    const auto info = check_interface_usable("oscrignone0");
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, make_error_code(errc::interface_unusable));
    const auto& detail = info.error().detail;
    EXPECT_TRUE(contains(detail, "interface \"oscrignone0\" not found")) << detail;
    EXPECT_TRUE(contains(detail, "available: ")) << detail;
    EXPECT_TRUE(contains(detail, "lo")) << detail;
}

TEST(NetInterface, EmptyAndLongNamesRejected) {
    const auto empty = check_interface_usable("");
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, make_error_code(errc::interface_unusable));
    EXPECT_TRUE(contains(empty.error().detail, "empty")) << empty.error().detail;

    const auto too_long = check_interface_usable("wlan-name-of-twenty");
    ASSERT_FALSE(too_long.has_value());
    EXPECT_EQ(too_long.error().code, make_error_code(errc::interface_unusable));
    EXPECT_TRUE(contains(too_long.error().detail, "wlan-name-of-twenty"))
        << too_long.error().detail;
}

TEST(NetInterface, DownInterfaceRejected) {
    // A new network namespace has a loopback device that is down. unshare applies to the
    // calling thread only, so the test's own namespace stays as it was.
    std::string detail;
    bool unshared = false;
    bool usable = true;
    std::thread worker([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            detail = std::strerror(errno);
            return;
        }
        unshared = true;
        const auto info = check_interface_usable("lo");
        usable = info.has_value();
        if (!usable) {
            detail = info.error().detail;
        }
    });
    worker.join();
    if (!unshared) {
        GTEST_SKIP() << "needs CAP_SYS_ADMIN to create a network namespace: " << detail;
    }
    EXPECT_FALSE(usable);
    EXPECT_TRUE(contains(detail, "interface \"lo\" is down")) << detail;
    EXPECT_TRUE(contains(detail, "ip link set lo up")) << detail;
}

TEST(NetInterface, BindToDevicePermissionNamesCapability) {
    const auto error = bind_to_device_failure(EPERM, "wlan2");
    EXPECT_EQ(error.code, make_error_code(errc::interface_unusable));
    EXPECT_TRUE(contains(error.detail, "CAP_NET_RAW")) << error.detail;
    EXPECT_TRUE(contains(error.detail, "\"wlan2\"")) << error.detail;

    const auto other = bind_to_device_failure(ENODEV, "wlan2");
    EXPECT_FALSE(contains(other.detail, "CAP_NET_RAW")) << other.detail;
    EXPECT_TRUE(contains(other.detail, "no such device")) << other.detail;
}

TEST(NetInterface, BindSocketToLoopback) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    const auto bound = bind_socket_to_device(fd, "lo");
    ASSERT_TRUE(bound.has_value()) << bound.error().to_string();

    char name[IFNAMSIZ] = {};
    socklen_t length = sizeof(name);
    ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &length), 0);
    EXPECT_STREQ(name, "lo");
    ::close(fd);
}

TEST(NetInterface, BindSocketToMissingDevice) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    const auto bound = bind_socket_to_device(fd, "oscrignone0");
    ::close(fd);
    ASSERT_FALSE(bound.has_value());
    EXPECT_EQ(bound.error().code, make_error_code(errc::interface_unusable));
    EXPECT_TRUE(contains(bound.error().detail, "\"oscrignone0\"")) << bound.error().detail;
}

TEST(NetInterface, Ipv4TextRoundTrip) {
    EXPECT_EQ(parse_ipv4("192.168.42.1"), 0xc0a82a01u);
    EXPECT_EQ(format_ipv4(0xc0a82a01u), "192.168.42.1");
    EXPECT_FALSE(parse_ipv4("192.168.42").has_value());
    EXPECT_FALSE(parse_ipv4("192.168.42.256").has_value());
    EXPECT_FALSE(parse_ipv4("camera").has_value());

    const ipv4_interface_address address{.address = "192.168.42.17", .prefix_length = 24};
    EXPECT_EQ(address.network(), "192.168.42.0/24");
}

// Hex words as a little-endian kernel prints them: 0100A8C0 is 192.168.0.1.
constexpr std::string_view route_table =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
    "wlan1\t002AA8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
    "wlan1\t0000FEA9\t00000000\t0001\t0\t0\t1000\t0000FFFF\t0\t0\t0\n"
    "wlan2\t00000000\t0101A8C0\t0002\t0\t0\t50\t00000000\t0\t0\t0\n"
    "wlan2\tnot-hex\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

TEST(NetInterface, ParseRouteTable) {
    const auto routes = parse_proc_net_route(route_table);
    // The wlan2 default route lacks RTF_UP and the last line does not parse.
    ASSERT_EQ(routes.size(), 4u);
    EXPECT_EQ(routes[0].interface, "eth0");
    EXPECT_EQ(routes[0].destination, 0u);
    EXPECT_EQ(routes[0].gateway, 0xc0a80001u);
    EXPECT_TRUE(routes[0].has_gateway);
    EXPECT_EQ(routes[0].metric, 100u);
    EXPECT_EQ(routes[1].destination, 0xc0a80000u);
    EXPECT_EQ(routes[1].mask, 0xffffff00u);
    EXPECT_FALSE(routes[1].has_gateway);
    EXPECT_EQ(routes[2].interface, "wlan1");
    EXPECT_EQ(routes[2].destination, 0xc0a82a00u);
}

TEST(NetInterface, GatewayPrefersDefaultRoute) {
    const auto routes = parse_proc_net_route(route_table);
    auto eth0 = make_interface("eth0", "192.168.0.20");
    assign_gateway(eth0, routes);
    EXPECT_EQ(eth0.gateway, "192.168.0.1");
    EXPECT_EQ(eth0.gateway_from, gateway_source::default_route);
}

TEST(NetInterface, GatewayFromOnLinkNetwork) {
    const auto routes = parse_proc_net_route(route_table);
    auto wlan1 = make_interface("wlan1", "192.168.42.2");
    assign_gateway(wlan1, routes);
    // The link-local route is skipped and the on-link network gives its first host.
    EXPECT_EQ(wlan1.gateway, "192.168.42.1");
    EXPECT_EQ(wlan1.gateway_from, gateway_source::on_link);
}

TEST(NetInterface, GatewaySkipsOwnAddress) {
    const auto routes = parse_proc_net_route(route_table);
    auto wlan1 = make_interface("wlan1", "192.168.42.1");
    assign_gateway(wlan1, routes);
    EXPECT_EQ(wlan1.gateway, "");
    EXPECT_EQ(wlan1.gateway_from, gateway_source::none);

    auto other = make_interface("wlan9", "");
    other.gateway = "198.18.9.9";
    assign_gateway(other, routes);
    EXPECT_EQ(other.gateway, "");
    EXPECT_EQ(other.gateway_from, gateway_source::none);
}

}  // namespace
}  // namespace oscrig::controller
