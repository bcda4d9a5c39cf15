#include "controller/vendor_profile.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace oscrig::osc {
namespace {

using std::chrono::seconds;

TEST(CompareCameraTime, EqualTimesMatch) {
    EXPECT_EQ(compare_camera_time("2026:12:04 16:05:00+09:00", "2026:12:04 16:05:00+09:00",
                                  seconds{2}),
              std::nullopt);
}

TEST(CompareCameraTime, DriftWithinToleranceMatches) {
    EXPECT_EQ(compare_camera_time("2026:12:04 16:05:59+00:00", "2026:12:04 16:06:01+00:00",
                                  seconds{2}),
              std::nullopt);
    EXPECT_EQ(compare_camera_time("2026:12:31 23:59:59+00:00", "2027:01:01 00:00:00+00:00",
                                  seconds{2}),
              std::nullopt);
}

TEST(CompareCameraTime, DriftBeyondToleranceDiffers) {
    const auto problem = compare_camera_time("2026:12:04 16:05:00+00:00",
                                             "2026:12:04 16:05:03+00:00", seconds{2});
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("3 s"), std::string::npos) << *problem;

    const auto behind = compare_camera_time("2026:12:04 16:05:00+00:00",
                                            "2026:12:04 15:05:00+00:00", seconds{2});
    ASSERT_TRUE(behind.has_value());
    EXPECT_NE(behind->find("-3600 s"), std::string::npos) << *behind;
}

TEST(CompareCameraTime, DifferentOffsetDiffers) {
    const auto problem = compare_camera_time("2026:12:04 16:05:00+09:00",
                                             "2026:12:04 16:05:00+00:00", seconds{2});
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("UTC offset 0 min instead of 540 min"), std::string::npos)
        << *problem;

    const auto negative = compare_camera_time("2026:12:04 16:05:00-05:30",
                                              "2026:12:04 16:05:00+05:30", seconds{2});
    ASSERT_TRUE(negative.has_value());
    EXPECT_NE(negative->find("330 min instead of -330 min"), std::string::npos) << *negative;
}

TEST(CompareCameraTime, TimeWithoutOffsetComparesClockOnly) {
    EXPECT_EQ(compare_camera_time("2026:12:04 16:05:00", "2026:12:04 16:05:01", seconds{2}),
              std::nullopt);
    EXPECT_EQ(compare_camera_time("2026:12:04 16:05:00+02:00", "2026:12:04 16:05:00",
                                  seconds{2}),
              std::nullopt);
}

TEST(CompareCameraTime, MalformedReadBackDiffers) {
    for (const std::string bad :
         {"", "2026-12-04 16:05:00+00:00", "2026:12:04 16:05", "2026:13:04 16:05:00",
          "2026:02:30 16:05:00", "2026:12:04 24:00:00", "2026:12:04 16:05:00*00:00",
          "2026:12:04 16:05:00+0a:00", "20x6:12:04 16:05:00"}) {
        const auto problem = compare_camera_time("2026:12:04 16:05:00+00:00", bad, seconds{2});
        ASSERT_TRUE(problem.has_value()) << bad;
        EXPECT_NE(problem->find("not a camera time"), std::string::npos) << *problem;
    }
}

TEST(CompareCameraTime, MalformedSentTimeDiffers) {
    const auto problem = compare_camera_time("now", "2026:12:04 16:05:00+00:00", seconds{2});
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("the time sent"), std::string::npos) << *problem;
}

TEST(CompareCameraTime, FormattedTimeRoundTrips) {
    auto profile = select_vendor_profile([] {
        camera_info info;
        info.manufacturer = "RICOH";
        info.model = "RICOH THETA Z1";
        info.api_levels = {2};
        return info;
    }());
    ASSERT_EQ(profile.time_option, "dateTimeZone");
    const auto utc = std::chrono::sys_days{std::chrono::year{2026} / 12 / 4} +
                     std::chrono::hours{23} + std::chrono::minutes{30};
    const std::string text = format_camera_time(profile, utc, std::chrono::minutes{-150});
    EXPECT_EQ(text, "2026:12:04 21:00:00-02:30");
    EXPECT_EQ(compare_camera_time(text, text, seconds{0}), std::nullopt);
}

camera_state state_with_capture_status(std::string status) {
    camera_state state;
    state.capture_status = std::move(status);
    return state;
}

TEST(CaptureStatusProblem, ThetaShootingIsBusy) {
    vendor_profile theta;
    theta.has_capture_status = true;
    for (const std::string status : {"shooting", "self-timer countdown", "bracket shooting"}) {
        const auto problem = capture_status_problem(theta, state_with_capture_status(status));
        ASSERT_TRUE(problem.has_value()) << status;
        EXPECT_NE(problem->find("_captureStatus " + status), std::string::npos) << *problem;
    }
}

TEST(CaptureStatusProblem, IdleOrMissingIsReady) {
    vendor_profile theta;
    theta.has_capture_status = true;
    EXPECT_EQ(capture_status_problem(theta, state_with_capture_status("idle")), std::nullopt);
    EXPECT_EQ(capture_status_problem(theta, state_with_capture_status("")), std::nullopt);
}

TEST(CaptureStatusProblem, ProfileWithoutFieldIgnoresIt) {
    vendor_profile insta360;
    insta360.has_capture_status = false;
    EXPECT_EQ(capture_status_problem(insta360, state_with_capture_status("shooting")),
              std::nullopt);
}

// Runs with a fixed TZ, so the expected offsets do not depend on the machine, and puts the
// previous value back afterwards.
class LocalUtcOffset : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* value = std::getenv("TZ")) {
            saved_ = value;
        }
    }
    void TearDown() override {
        if (saved_) {
            ::setenv("TZ", saved_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    static void use_zone(const char* zone) {
        ::setenv("TZ", zone, 1);
        ::tzset();
    }

    std::optional<std::string> saved_;
};

TEST_F(LocalUtcOffset, FollowsTzVariable) {
    const auto instant = std::chrono::sys_days{std::chrono::year{2026} / 1 / 15};
    use_zone("UTC0");
    EXPECT_EQ(local_utc_offset(instant), std::chrono::minutes{0});
    // POSIX TZ strings count west of UTC as positive, so "JST-9" is UTC+09:00.
    use_zone("JST-9");
    EXPECT_EQ(local_utc_offset(instant), std::chrono::minutes{9 * 60});
    use_zone("NST3:30");
    EXPECT_EQ(local_utc_offset(instant), std::chrono::minutes{-(3 * 60 + 30)});
}

}  // namespace
}  // namespace oscrig::osc
