#include "controller/vendor_profile.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace oscrig::osc {
namespace {

camera_info make_info(std::string manufacturer, std::string model, std::vector<int> levels) {
    camera_info info;
    info.manufacturer = std::move(manufacturer);
    info.model = std::move(model);
    info.api_levels = std::move(levels);
    return info;
}

camera_state state_with_api(std::optional<int> version) {
    camera_state state;
    state.api_version = version;
    return state;
}

TEST(VendorProfile, Insta360) {
    auto profile = select_vendor_profile(make_info("Arashi Vision", "Insta360 One2", {2}));
    EXPECT_EQ(profile.vendor, vendor::insta360);
    EXPECT_EQ(profile.capture_mode_settle, std::chrono::milliseconds{0});
    EXPECT_EQ(profile.time_option, "_dateTime");
    EXPECT_FALSE(profile.time_includes_offset);
    EXPECT_FALSE(profile.set_time_alone);
    EXPECT_FALSE(profile.has_capture_status);
    EXPECT_TRUE(profile.has_sys_timestamp);
    EXPECT_FALSE(profile.switch_to_api_level_2);
    EXPECT_EQ(to_string(profile.vendor), "insta360");
}

TEST(VendorProfile, ThetaZ1) {
    auto profile = select_vendor_profile(make_info("RICOH", "RICOH THETA Z1", {2}));
    EXPECT_EQ(profile.vendor, vendor::ricoh);
    EXPECT_EQ(profile.capture_mode_settle, std::chrono::milliseconds{1000});
    EXPECT_EQ(profile.time_option, "dateTimeZone");
    EXPECT_TRUE(profile.time_includes_offset);
    EXPECT_TRUE(profile.set_time_alone);
    EXPECT_TRUE(profile.has_capture_status);
    EXPECT_FALSE(profile.has_sys_timestamp);
    EXPECT_FALSE(profile.switch_to_api_level_2);
}

TEST(VendorProfile, ThetaSAndScSwitchLevel) {
    EXPECT_TRUE(
        select_vendor_profile(make_info("RICOH", "RICOH THETA S", {1, 2})).switch_to_api_level_2);
    EXPECT_TRUE(
        select_vendor_profile(make_info("RICOH", "RICOH THETA SC", {1, 2})).switch_to_api_level_2);
    EXPECT_FALSE(
        select_vendor_profile(make_info("RICOH", "RICOH THETA SC2", {2})).switch_to_api_level_2);
    EXPECT_FALSE(
        select_vendor_profile(make_info("RICOH", "RICOH THETA X", {2})).switch_to_api_level_2);
}

TEST(VendorProfile, OtherCamera) {
    auto profile = select_vendor_profile(make_info("Example", "Sphere 1", {2}));
    EXPECT_EQ(profile.vendor, vendor::other);
    EXPECT_EQ(profile.capture_mode_settle, std::chrono::milliseconds{0});
    EXPECT_EQ(profile.time_option, "dateTimeZone");
    EXPECT_FALSE(profile.has_capture_status);
    EXPECT_FALSE(profile.has_sys_timestamp);
}

TEST(ApiLevelSwitch, OnlyWhenRunningLevelOne) {
    auto info = make_info("RICOH", "RICOH THETA S", {1, 2});
    auto profile = select_vendor_profile(info);
    EXPECT_TRUE(needs_api_level_switch(profile, info, state_with_api(1)));
    EXPECT_FALSE(needs_api_level_switch(profile, info, state_with_api(2)));
    EXPECT_FALSE(needs_api_level_switch(profile, info, state_with_api(std::nullopt)));
}

TEST(ApiLevelSwitch, NotWithoutLevelTwo) {
    auto info = make_info("RICOH", "RICOH THETA S", {1});
    auto profile = select_vendor_profile(info);
    EXPECT_FALSE(needs_api_level_switch(profile, info, state_with_api(1)));
}

TEST(ApiLevelSwitch, NotForOtherModels) {
    auto info = make_info("RICOH", "RICOH THETA V", {1, 2});
    auto profile = select_vendor_profile(info);
    EXPECT_FALSE(needs_api_level_switch(profile, info, state_with_api(1)));
}

TEST(CameraTime, ThetaWithOffset) {
    auto profile = select_vendor_profile(make_info("RICOH", "RICOH THETA Z1", {2}));
    // 2022-11-14 08:24:38 UTC is 17:24:38 in UTC+09:00.
    std::chrono::system_clock::time_point utc{std::chrono::seconds{1668414278}};
    EXPECT_EQ(format_camera_time(profile, utc, std::chrono::minutes{9 * 60}),
              "2022:11:14 17:24:38+09:00");
    EXPECT_EQ(format_camera_time(profile, utc, std::chrono::minutes{-(5 * 60 + 30)}),
              "2022:11:14 02:54:38-05:30");
    EXPECT_EQ(format_camera_time(profile, utc, std::chrono::minutes{0}),
              "2022:11:14 08:24:38+00:00");
}

TEST(CameraTime, InstaWithoutZone) {
    auto profile = select_vendor_profile(make_info("Arashi Vision", "Insta360 One2", {2}));
    // 2023-03-23 08:05:41 UTC is 16:05:41 in UTC+08:00, and fractions of a second are dropped.
    std::chrono::system_clock::time_point utc =
        std::chrono::system_clock::time_point{std::chrono::seconds{1679558741}} +
        std::chrono::milliseconds{900};
    EXPECT_EQ(format_camera_time(profile, utc, std::chrono::minutes{8 * 60}),
              "2023:03:23 16:05:41");
}

TEST(CameraTime, DayBoundary) {
    auto profile = select_vendor_profile(make_info("RICOH", "RICOH THETA X", {2}));
    // 2024-01-01 00:30:00 UTC is still New Year's Eve in UTC-01:00.
    std::chrono::system_clock::time_point utc{std::chrono::seconds{1704069000}};
    EXPECT_EQ(format_camera_time(profile, utc, std::chrono::minutes{-60}),
              "2023:12:31 23:30:00-01:00");
}

TEST(CameraTime, NoTimeOption) {
    vendor_profile profile;
    profile.time_option.clear();
    EXPECT_EQ(format_camera_time(profile, std::chrono::system_clock::time_point{},
                                 std::chrono::minutes{0}),
              "");
}

}  // namespace
}  // namespace oscrig::osc
