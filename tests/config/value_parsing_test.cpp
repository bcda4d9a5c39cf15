// Parsers and checks of single rig file values.
#include "config/value_parsing.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace oscrig::config {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

TEST(ParseDuration, Units) {
    EXPECT_EQ(parse_duration("500ms"), microseconds{500'000});
    EXPECT_EQ(parse_duration("3s"), microseconds{3'000'000});
    EXPECT_EQ(parse_duration("2m"), microseconds{120'000'000});
    EXPECT_EQ(parse_duration("250us"), microseconds{250});
    EXPECT_EQ(parse_duration("0s"), microseconds{0});
}

TEST(ParseDuration, Fractions) {
    EXPECT_EQ(parse_duration("1.5s"), microseconds{1'500'000});
    EXPECT_EQ(parse_duration("0.25m"), microseconds{15'000'000});
    EXPECT_EQ(parse_duration("2.5ms"), microseconds{2'500});
    EXPECT_EQ(parse_duration("0.000001s"), microseconds{1});
    EXPECT_EQ(parse_duration("1.000000000s"), microseconds{1'000'000});
}

TEST(ParseDuration, FinerThanMicrosecondRejected) {
    EXPECT_FALSE(parse_duration("1.5us").has_value());
    EXPECT_FALSE(parse_duration("0.0000001s").has_value());
}

TEST(ParseDuration, BareNumberRejected) {
    EXPECT_FALSE(parse_duration("3").has_value());
    EXPECT_FALSE(parse_duration("1.5").has_value());
}

TEST(ParseDuration, MalformedRejected) {
    EXPECT_FALSE(parse_duration("").has_value());
    EXPECT_FALSE(parse_duration("s").has_value());
    EXPECT_FALSE(parse_duration("ms").has_value());
    EXPECT_FALSE(parse_duration("-1s").has_value());
    EXPECT_FALSE(parse_duration("+1s").has_value());
    EXPECT_FALSE(parse_duration("1e3ms").has_value());
    EXPECT_FALSE(parse_duration("3 s").has_value());
    EXPECT_FALSE(parse_duration(" 3s").has_value());
    EXPECT_FALSE(parse_duration("3h").has_value());
    EXPECT_FALSE(parse_duration("3S").has_value());
    EXPECT_FALSE(parse_duration(".5s").has_value());
    EXPECT_FALSE(parse_duration("5.s").has_value());
    EXPECT_FALSE(parse_duration("1.2.3s").has_value());
    EXPECT_FALSE(parse_duration("3sms").has_value());
}

TEST(ParseDuration, TooManyDigitsRejected) {
    EXPECT_TRUE(parse_duration("999999999m").has_value());
    EXPECT_FALSE(parse_duration("1000000000m").has_value());
    EXPECT_FALSE(parse_duration("1.0000000001s").has_value());
}

TEST(FormatDuration, LargestExactUnit) {
    EXPECT_EQ(format_duration(0us), "0s");
    EXPECT_EQ(format_duration(120s), "2m");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(10ms), "10ms");
    EXPECT_EQ(format_duration(1s), "1s");
    EXPECT_EQ(format_duration(microseconds{350}), "350us");
}

TEST(FormatDuration, ParsesBack) {
    const std::array<microseconds, 8> values{0us, 1us, 999us, 1ms, 1500ms, 60s, 61s, 3600s};
    for (const microseconds value : values) {
        EXPECT_EQ(parse_duration(format_duration(value)), value) << format_duration(value);
    }
}

TEST(ParseInteger, Accepted) {
    EXPECT_EQ(parse_integer("0"), 0);
    EXPECT_EQ(parse_integer("18000"), 18000);
    EXPECT_EQ(parse_integer("-5"), -5);
    EXPECT_EQ(parse_integer("0080"), 80);
}

TEST(ParseInteger, Rejected) {
    EXPECT_FALSE(parse_integer("").has_value());
    EXPECT_FALSE(parse_integer("+5").has_value());
    EXPECT_FALSE(parse_integer("5.0").has_value());
    EXPECT_FALSE(parse_integer("0x10").has_value());
    EXPECT_FALSE(parse_integer("1e3").has_value());
    EXPECT_FALSE(parse_integer(" 5").has_value());
    EXPECT_FALSE(parse_integer("eighty").has_value());
    EXPECT_FALSE(parse_integer("99999999999999999999").has_value());
}

TEST(ParseNumber, DecimalsAndFractions) {
    EXPECT_EQ(parse_number("0"), 0.0);
    EXPECT_EQ(parse_number("0.5"), 0.5);
    EXPECT_EQ(parse_number("2"), 2.0);
    EXPECT_EQ(parse_number("1e-3"), 0.001);
    EXPECT_EQ(parse_number("-1"), -1.0);
    EXPECT_EQ(parse_number("1/4"), 0.25);
    EXPECT_EQ(parse_number("1/250"), 1.0 / 250.0);
}

TEST(ParseNumber, Rejected) {
    EXPECT_FALSE(parse_number("").has_value());
    EXPECT_FALSE(parse_number("+1").has_value());
    EXPECT_FALSE(parse_number("inf").has_value());
    EXPECT_FALSE(parse_number("nan").has_value());
    EXPECT_FALSE(parse_number("1/0").has_value());
    EXPECT_FALSE(parse_number("0/5").has_value());
    EXPECT_FALSE(parse_number("1/").has_value());
    EXPECT_FALSE(parse_number("/4").has_value());
    EXPECT_FALSE(parse_number("1/2.5").has_value());
    EXPECT_FALSE(parse_number("-1/4").has_value());
    EXPECT_FALSE(parse_number("fast").has_value());
    EXPECT_FALSE(parse_number("1e999").has_value());
}

TEST(IpAddress, Accepted) {
    EXPECT_TRUE(is_ip_address("127.0.0.1"));
    EXPECT_TRUE(is_ip_address("0.0.0.0"));
    EXPECT_TRUE(is_ip_address("::1"));
    EXPECT_TRUE(is_ip_address("fe80::1ff:fe23:4567:890a"));
    EXPECT_TRUE(is_ip_address("::ffff:127.0.0.1"));
}

TEST(IpAddress, Rejected) {
    EXPECT_FALSE(is_ip_address(""));
    EXPECT_FALSE(is_ip_address("127.0.0"));
    EXPECT_FALSE(is_ip_address("256.0.0.1"));
    EXPECT_FALSE(is_ip_address("[::1]"));
    EXPECT_FALSE(is_ip_address("fe80::1%lo"));
    EXPECT_FALSE(is_ip_address("localhost"));
    EXPECT_FALSE(is_ip_address("127.0.0.1 "));
}

TEST(HostName, Accepted) {
    EXPECT_TRUE(is_host_name("localhost"));
    EXPECT_TRUE(is_host_name("cam-1.local"));
    EXPECT_TRUE(is_host_name("cam-1.local."));
    EXPECT_TRUE(is_host_name("3com.example"));
    EXPECT_TRUE(is_host_name(std::string(63, 'a') + ".example"));
}

TEST(HostName, Rejected) {
    EXPECT_FALSE(is_host_name(""));
    EXPECT_FALSE(is_host_name("."));
    EXPECT_FALSE(is_host_name("cam_1"));
    EXPECT_FALSE(is_host_name("-cam"));
    EXPECT_FALSE(is_host_name("cam-"));
    EXPECT_FALSE(is_host_name("a..b"));
    EXPECT_FALSE(is_host_name("127.0.0"));
    EXPECT_FALSE(is_host_name("127.0.0.1"));
    EXPECT_FALSE(is_host_name(std::string(64, 'a')));
    EXPECT_FALSE(is_host_name("cam 1"));
}

TEST(HostName, TotalLengthLimit) {
    // Four labels of 62 characters, each with its dot, then one more character:
    // 4 * 63 + 1 = 253 characters.
    std::string name;
    for (int i = 0; i < 4; ++i) {
        name += std::string(62, 'a') + ".";
    }
    EXPECT_TRUE(is_host_name(name + "b"));
    EXPECT_FALSE(is_host_name(name + "bc"));
}

TEST(CameraName, Accepted) {
    EXPECT_TRUE(is_camera_name("front"));
    EXPECT_TRUE(is_camera_name("cam_2.left-A"));
    EXPECT_TRUE(is_camera_name("..."));
    EXPECT_TRUE(is_camera_name(std::string(64, 'a')));
}

TEST(CameraName, Rejected) {
    EXPECT_FALSE(is_camera_name(""));
    EXPECT_FALSE(is_camera_name("."));
    EXPECT_FALSE(is_camera_name(".."));
    EXPECT_FALSE(is_camera_name("a/b"));
    EXPECT_FALSE(is_camera_name("a b"));
    EXPECT_FALSE(is_camera_name("caméra"));
    EXPECT_FALSE(is_camera_name(std::string(65, 'a')));
}

TEST(InterfaceName, Accepted) {
    EXPECT_TRUE(is_interface_name("lo"));
    EXPECT_TRUE(is_interface_name("wlan1"));
    EXPECT_TRUE(is_interface_name("enx001122334455"));
    EXPECT_TRUE(is_interface_name("br-lan.10"));
}

TEST(InterfaceName, Rejected) {
    EXPECT_FALSE(is_interface_name(""));
    EXPECT_FALSE(is_interface_name("."));
    EXPECT_FALSE(is_interface_name(".."));
    EXPECT_FALSE(is_interface_name("enx0011223344556"));
    EXPECT_FALSE(is_interface_name("eth0:1"));
    EXPECT_FALSE(is_interface_name("a/b"));
    EXPECT_FALSE(is_interface_name("wlan 1"));
    EXPECT_FALSE(is_interface_name("wlan\t1"));
}

TEST(EnvironmentVariableName, Checks) {
    EXPECT_TRUE(is_environment_variable_name("THETA_PASSWORD"));
    EXPECT_TRUE(is_environment_variable_name("_x1"));
    EXPECT_FALSE(is_environment_variable_name(""));
    EXPECT_FALSE(is_environment_variable_name("1PASS"));
    EXPECT_FALSE(is_environment_variable_name("THETA-PASSWORD"));
    EXPECT_FALSE(is_environment_variable_name("A=B"));
}

TEST(EditDistance, Operations) {
    EXPECT_EQ(edit_distance("port", "port"), 0u);
    EXPECT_EQ(edit_distance("prot", "port"), 1u);
    EXPECT_EQ(edit_distance("hots", "host"), 1u);
    EXPECT_EQ(edit_distance("iso", "is"), 1u);
    EXPECT_EQ(edit_distance("is", "iso"), 1u);
    EXPECT_EQ(edit_distance("hdx", "hdr"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestKey, SmallDistanceSuggested) {
    constexpr std::array<std::string_view, 4> keys{"name", "host", "port", "interface"};
    EXPECT_EQ(closest_key("prot", keys), "port");
    EXPECT_EQ(closest_key("hostt", keys), "host");
    EXPECT_EQ(closest_key("interfce", keys), "interface");
    EXPECT_EQ(closest_key("nmae", keys), "name");
}

TEST(ClosestKey, LargeDistanceNotSuggested) {
    constexpr std::array<std::string_view, 4> keys{"name", "host", "port", "interface"};
    EXPECT_FALSE(closest_key("colour", keys).has_value());
    EXPECT_FALSE(closest_key("xy", keys).has_value());
    EXPECT_FALSE(closest_key("pt", keys).has_value());
    EXPECT_FALSE(closest_key("", keys).has_value());
}

TEST(ClosestKey, NearestWins) {
    constexpr std::array<std::string_view, 2> keys{"stats", "status"};
    EXPECT_EQ(closest_key("statux", keys), "status");
}

}  // namespace
}  // namespace oscrig::config
