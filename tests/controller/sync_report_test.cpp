#include "controller/sync_report.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace oscrig::controller {
namespace {

trigger_record arrival(std::string command, double host_us, double uncertainty_us) {
    trigger_record record;
    record.command = std::move(command);
    record.estimated_arrival_host_us = host_us;
    record.arrival_uncertainty_us = uncertainty_us;
    return record;
}

TEST(SyncReport, SpreadIsFirstToLast) {
    const auto a = arrival("camera.takePicture", 10'000, 50);
    const auto b = arrival("camera.takePicture", 10'210, 40);
    const auto c = arrival("camera.takePicture", 10'100, 300);

    const auto summary = summarize_trigger("camera.takePicture", {&a, &b, &c});

    EXPECT_EQ(summary.command, "camera.takePicture");
    EXPECT_EQ(summary.cameras, 3u);
    ASSERT_TRUE(summary.arrival_spread_us.has_value());
    EXPECT_DOUBLE_EQ(*summary.arrival_spread_us, 210.0);
    // Widest case: c as late as 10400 and a as early as 9950.
    ASSERT_TRUE(summary.spread_bound_us.has_value());
    EXPECT_DOUBLE_EQ(*summary.spread_bound_us, 450.0);
}

TEST(SyncReport, MissedAndOtherCommandsLeftOut) {
    const auto a = arrival("camera.startCapture", 1000, 10);
    auto missed = arrival("camera.startCapture", 90'000, 10);
    missed.missed = true;
    const auto other = arrival("camera.stopCapture", 50'000, 10);
    trigger_record unestimated;
    unestimated.command = "camera.startCapture";
    const auto b = arrival("camera.startCapture", 1500, 10);

    const auto summary =
        summarize_trigger("camera.startCapture", {&a, &missed, &other, &unestimated, &b});

    EXPECT_EQ(summary.cameras, 2u);
    EXPECT_DOUBLE_EQ(*summary.arrival_spread_us, 500.0);
    EXPECT_DOUBLE_EQ(*summary.spread_bound_us, 520.0);
}

TEST(SyncReport, NoArrivalsGiveNoSpread) {
    trigger_record unestimated;
    unestimated.command = "camera.takePicture";

    const auto summary = summarize_trigger("camera.takePicture", {&unestimated});

    EXPECT_EQ(summary.cameras, 0u);
    EXPECT_FALSE(summary.arrival_spread_us.has_value());
    EXPECT_FALSE(summary.spread_bound_us.has_value());
    EXPECT_EQ(format_sync_summary(summary),
              "0 cameras, arrival spread unknown (no estimated arrivals)");
}

TEST(SyncReport, FormatsSpreadInMilliseconds) {
    sync_summary summary{.command = "camera.takePicture",
                         .cameras = 4,
                         .arrival_spread_us = 210.0,
                         .spread_bound_us = 904.0};
    EXPECT_EQ(format_sync_summary(summary), "4 cameras, arrival spread 0.21 ms (bound 0.90 ms)");

    summary.cameras = 1;
    summary.arrival_spread_us = 0.0;
    summary.spread_bound_us = 120.0;
    EXPECT_EQ(format_sync_summary(summary), "1 camera, arrival spread 0.00 ms (bound 0.12 ms)");
}

TEST(SyncReport, ShotSummariesFollowCommandOrder) {
    std::vector<camera_shot> cameras(2);
    cameras[0].name = "cam1";
    cameras[0].triggers = {arrival("camera.startCapture", 100, 5),
                           arrival("camera.stopCapture", 9'000'000, 5)};
    cameras[1].name = "cam2";
    cameras[1].triggers = {arrival("camera.startCapture", 400, 5),
                           arrival("camera.stopCapture", 9'000'050, 5)};

    const auto summaries = summarize_shot(cameras);

    ASSERT_EQ(summaries.size(), 2u);
    EXPECT_EQ(summaries[0].command, "camera.startCapture");
    EXPECT_DOUBLE_EQ(*summaries[0].arrival_spread_us, 300.0);
    EXPECT_EQ(summaries[1].command, "camera.stopCapture");
    EXPECT_DOUBLE_EQ(*summaries[1].arrival_spread_us, 50.0);
}

TEST(SyncReport, ShotLinesNameMissedAndResent) {
    shot_report report;
    report.cameras.resize(3);
    report.cameras[0].name = "cam1";
    report.cameras[0].triggers = {arrival("camera.takePicture", 1000, 100)};
    report.cameras[1].name = "cam2";
    report.cameras[1].triggers = {arrival("camera.takePicture", 1300, 100)};
    report.cameras[1].triggers[0].resent_whole = true;
    report.cameras[2].name = "cam3";
    trigger_record missed;
    missed.command = "camera.takePicture";
    missed.missed = true;
    report.cameras[2].triggers = {missed};

    const auto lines = format_shot_sync(report);

    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "camera.takePicture: 2 cameras, arrival spread 0.30 ms (bound 0.50 ms); "
              "missed: cam3; sent again whole: cam2");
}

TEST(SyncReport, ConfiguredDelayWins) {
    clock_model clock;
    clock.add_sample({.sent = 0, .received = 8000, .camera_us = 4000});
    clock.add_sample({.sent = 1'000'000, .received = 1'002'000, .camera_us = 1'001'000});
    clock.add_sample({.sent = 2'000'000, .received = 2'012'000, .camera_us = 2'006'000});

    const auto configured = choose_delay(std::chrono::microseconds(2500), clock);
    EXPECT_DOUBLE_EQ(configured.delay_us, 2500.0);
    EXPECT_DOUBLE_EQ(configured.uncertainty_us, 0.0);

    const auto estimated = choose_delay(std::nullopt, clock);
    // Half the lowest round trip, bounded by half the median.
    EXPECT_DOUBLE_EQ(estimated.delay_us, 1000.0);
    EXPECT_DOUBLE_EQ(estimated.uncertainty_us, 4000.0);

    const auto unknown = choose_delay(std::nullopt, clock_model{});
    EXPECT_DOUBLE_EQ(unknown.delay_us, 0.0);
}

TEST(SyncReport, RejectedTriggersLeaveTheSpread) {
    shot_report report;
    report.cameras.resize(3);
    report.cameras[0].name = "cam1";
    report.cameras[0].triggers = {arrival("camera.startCapture", 1000, 100)};
    report.cameras[1].name = "cam2";
    report.cameras[1].triggers = {arrival("camera.startCapture", 1200, 100)};
    report.cameras[2].name = "cam3";
    report.cameras[2].triggers = {arrival("camera.startCapture", 9000, 100)};
    report.cameras[2].triggers[0].rejected = true;

    const auto lines = format_shot_sync(report);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "camera.startCapture: 2 cameras, arrival spread 0.20 ms (bound 0.40 ms); "
              "rejected: cam3");

    // Every camera rejected: no spread at all.
    report.cameras[0].triggers[0].rejected = true;
    report.cameras[1].triggers[0].rejected = true;
    const auto none_left = format_shot_sync(report);
    ASSERT_EQ(none_left.size(), 1u);
    EXPECT_EQ(none_left[0],
              "camera.startCapture: 0 cameras, arrival spread unknown (no estimated arrivals); "
              "rejected: cam1, cam2, cam3");
}

TEST(SyncReport, DelayUsesLowestRoundTripOfWindow) {
    // One quiet exchange early on, then many taken while the camera was busy: the quiet one
    // shows the path delay.
    clock_model clock;
    clock.add_sample({.sent = 0, .received = 600, .camera_us = 300});
    for (int i = 1; i <= 40; ++i) {
        const std::int64_t sent = i * 1'000'000;
        clock.add_sample({.sent = sent, .received = sent + 3000, .camera_us = sent + 1500});
    }

    const auto estimated = choose_delay(std::nullopt, clock);
    EXPECT_DOUBLE_EQ(estimated.delay_us, 300.0);
    EXPECT_DOUBLE_EQ(estimated.uncertainty_us, 1500.0);
}

TEST(SyncReport, ReleasePlanAlignsArrivals) {
    const std::vector<delay_estimate> delays = {
        {.delay_us = 2000, .uncertainty_us = 0},
        {.delay_us = 40'000, .uncertainty_us = 0},
        {.delay_us = 12'500.4, .uncertainty_us = 0},
    };

    const auto releases = plan_releases(delays, 1'000'000);

    ASSERT_EQ(releases.size(), 3u);
    EXPECT_EQ(releases[1], 1'000'000);
    EXPECT_EQ(releases[0], 1'038'000);
    EXPECT_EQ(releases[2], 1'027'500);
    for (std::size_t i = 0; i < delays.size(); ++i) {
        EXPECT_NEAR(static_cast<double>(releases[i]) + delays[i].delay_us, 1'040'000.0, 0.5)
            << "camera " << i;
    }
}

TEST(SyncReport, ArrivalOnBothClocks) {
    clock_model clock;
    // Camera clock is host + 1 s, read halfway through a 200 us round trip.
    for (int i = 0; i < 4; ++i) {
        const host_us sent = 10'000'000 + i * 1000;
        clock.add_sample({.sent = sent, .received = sent + 200, .camera_us = sent + 1'000'100});
    }
    trigger_record record;
    record.command = "camera.takePicture";

    estimate_arrival(record, 20'000'000, 20'000'010, {.delay_us = 100, .uncertainty_us = 100},
                     clock);

    EXPECT_EQ(record.actual_release_us, 20'000'005);
    EXPECT_DOUBLE_EQ(*record.one_way_delay_us, 100.0);
    EXPECT_DOUBLE_EQ(*record.estimated_arrival_host_us, 20'000'105.0);
    ASSERT_TRUE(record.estimated_arrival_camera_us.has_value());
    EXPECT_NEAR(*record.estimated_arrival_camera_us, 21'000'105.0, 1.0);
    // Release interval, delay and the model's own bound all count.
    EXPECT_GT(*record.arrival_uncertainty_us, 105.0);
}

TEST(SyncReport, ArrivalWithoutClockEstimate) {
    trigger_record record;
    estimate_arrival(record, 500, 520, {.delay_us = 1000, .uncertainty_us = 0}, clock_model{});

    EXPECT_DOUBLE_EQ(*record.estimated_arrival_host_us, 1510.0);
    EXPECT_DOUBLE_EQ(*record.arrival_uncertainty_us, 10.0);
    EXPECT_FALSE(record.estimated_arrival_camera_us.has_value());
}

}  // namespace
}  // namespace oscrig::controller
