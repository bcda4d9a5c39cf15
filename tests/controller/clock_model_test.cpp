#include "controller/clock_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace oscrig::controller {
namespace {

// A simulated camera clock: camera = offset + (1 + drift) * host, read as whole microseconds.
struct true_clock {
    double offset_us;
    double drift_ppm;

    double at(double host) const { return offset_us + (1.0 + drift_ppm * 1e-6) * host; }
    double offset_at(double host) const { return at(host) - host; }
};

// Uniform values on [0, 1) from the raw engine output, so that the generated cases are the same
// with every standard library.
class unit_random {
public:
    explicit unit_random(std::uint32_t seed) : engine_(seed) {}
    double next() { return static_cast<double>(engine_()) / 4294967296.0; }
    double exponential(double mean) { return -mean * std::log(1.0 - next()); }

private:
    std::mt19937 engine_;
};

// One getOptions exchange: the camera reads its clock when the request arrives.
clock_sample exchange(const true_clock& clock, host_us sent, host_us forward_us,
                      host_us back_us) {
    const host_us arrived = sent + forward_us;
    return clock_sample{
        .sent = sent,
        .received = arrived + back_us,
        .camera_us = static_cast<std::int64_t>(std::floor(clock.at(static_cast<double>(arrived)))),
    };
}

constexpr host_us second = 1'000'000;

TEST(ClockModel, RecoversOffsetAndDriftWithSymmetricDelays) {
    const true_clock clock{.offset_us = 5.0e9, .drift_ppm = 80.0};
    clock_model model;
    for (int i = 0; i <= 120; ++i) {
        model.add_sample(exchange(clock, 1000 * second + i * second, 1500, 1500));
    }

    const auto estimate = model.estimate();
    ASSERT_TRUE(estimate.has_value());
    EXPECT_NEAR(estimate->drift_ppm, 80.0, 0.05);
    const host_us probe = 1060 * second;
    EXPECT_NEAR(*model.offset_at(probe), clock.offset_at(static_cast<double>(probe)), 2.0);
    EXPECT_NEAR(*model.camera_at(probe), clock.at(static_cast<double>(probe)), 2.0);
    EXPECT_DOUBLE_EQ(estimate->min_round_trip_us, 3000.0);
}

TEST(ClockModel, LowRoundTripFilterBeatsPlainMean) {
    const true_clock clock{.offset_us = -2.5e8, .drift_ppm = 0.0};
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        unit_random random(seed);
        clock_model model;
        double offset_sum = 0;
        int count = 0;
        for (int i = 0; i < 64; ++i) {
            // The request direction queues behind other traffic far more than the reply.
            const auto forward = static_cast<host_us>(800 + random.exponential(6000));
            const auto back = static_cast<host_us>(800 + random.exponential(500));
            const auto sample = exchange(clock, 50 * second + i * 200'000, forward, back);
            model.add_sample(sample);
            offset_sum += static_cast<double>(sample.camera_us) -
                          (static_cast<double>(sample.sent) + sample.received) / 2.0;
            ++count;
        }
        const double plain_mean_error = std::abs(offset_sum / count - clock.offset_us);
        const double filtered_error = std::abs(*model.offset_at(56 * second) - clock.offset_us);
        EXPECT_LT(filtered_error, plain_mean_error) << "seed " << seed;
        EXPECT_LT(filtered_error, 1000.0) << "seed " << seed;
    }
}

TEST(ClockModel, WindowDropsOldSamples) {
    clock_model model({.window = std::chrono::seconds(10)});
    const true_clock before{.offset_us = 1.0e6, .drift_ppm = 0.0};
    const true_clock after{.offset_us = 3.0e6, .drift_ppm = 0.0};
    for (int i = 0; i <= 20; ++i) {
        model.add_sample(exchange(before, i * second, 500, 500));
    }
    for (int i = 30; i <= 40; ++i) {
        model.add_sample(exchange(after, i * second, 500, 500));
    }

    EXPECT_EQ(model.sample_count(), 11u);
    EXPECT_NEAR(*model.offset_at(40 * second), after.offset_us, 2.0);
}

TEST(ClockModel, MaxSamplesKeepsNewest) {
    clock_model model({.max_samples = 5});
    const true_clock old_clock{.offset_us = 0.0, .drift_ppm = 0.0};
    const true_clock new_clock{.offset_us = 9.0e5, .drift_ppm = 0.0};
    for (int i = 0; i < 10; ++i) {
        model.add_sample(exchange(old_clock, i * second, 400, 400));
    }
    for (int i = 10; i < 15; ++i) {
        model.add_sample(exchange(new_clock, i * second, 400, 400));
    }

    EXPECT_EQ(model.sample_count(), 5u);
    EXPECT_NEAR(*model.offset_at(14 * second), new_clock.offset_us, 2.0);
}

TEST(ClockModel, UncertaintyContainsTruthInGeneratedCases) {
    const double drifts_ppm[] = {-200.0, -35.0, 0.0, 12.5, 100.0, 200.0};
    int checks = 0;
    for (std::uint32_t seed = 1; seed <= 30; ++seed) {
        for (double drift : drifts_ppm) {
            unit_random random(seed);
            const true_clock clock{.offset_us = 1.0e7 * (random.next() - 0.5), .drift_ppm = drift};
            clock_model model;
            const double jitter_us = 100.0 + 20000.0 * random.next();
            const double asymmetry = random.next();
            host_us sent = 10 * second;
            const int sample_total = 1 + static_cast<int>(random.next() * 80);
            for (int i = 0; i < sample_total; ++i) {
                // Bursts a few milliseconds apart mixed with polls seconds apart.
                sent += (i % 8 == 0) ? 5 * second : 5'000;
                const auto forward =
                    static_cast<host_us>(300 + jitter_us * asymmetry * random.next());
                const auto back =
                    static_cast<host_us>(300 + jitter_us * (1 - asymmetry) * random.next());
                model.add_sample(exchange(clock, sent, forward, back));

                // At the last sample, halfway back, and well past the last sample.
                for (host_us probe : {sent, sent - (sent - 10 * second) / 2, sent + 30 * second}) {
                    const double error =
                        std::abs(*model.camera_at(probe) - clock.at(static_cast<double>(probe)));
                    ASSERT_LE(error, *model.uncertainty_at(probe))
                        << "seed " << seed << " drift " << drift << " sample " << i;
                    ++checks;
                }
            }
        }
    }
    EXPECT_GT(checks, 1000);
}

TEST(ClockModel, SingleSampleGivesOffsetAndHalfRoundTrip) {
    clock_model model;
    model.add_sample({.sent = 1000, .received = 3000, .camera_us = 777'000});

    const auto estimate = model.estimate();
    ASSERT_TRUE(estimate.has_value());
    EXPECT_EQ(estimate->reference, 2000);
    EXPECT_DOUBLE_EQ(estimate->camera_at_reference_us, 777'000.0);
    EXPECT_DOUBLE_EQ(estimate->drift_ppm, 0.0);
    EXPECT_EQ(estimate->samples_used, 1u);
    EXPECT_GE(estimate->uncertainty_us, 1000.0);
    EXPECT_LT(estimate->uncertainty_us, 1002.0);
}

TEST(ClockModel, IdenticalSendTimesFitNoDrift) {
    clock_model model;
    for (int i = 0; i < 6; ++i) {
        model.add_sample({.sent = 5 * second, .received = 5 * second + 2000, .camera_us = 42});
    }

    const auto estimate = model.estimate();
    ASSERT_TRUE(estimate.has_value());
    EXPECT_DOUBLE_EQ(estimate->drift_ppm, 0.0);
    EXPECT_TRUE(std::isfinite(estimate->camera_at_reference_us));
    EXPECT_TRUE(std::isfinite(estimate->uncertainty_us));
    // With no measured drift the bound grows by the assumed maximum drift rate.
    EXPECT_GE(*model.uncertainty_at(15 * second), 10.0 * second * 500e-6);
}

TEST(ClockModel, NegativeRoundTripIgnored) {
    clock_model model;
    model.add_sample({.sent = 5000, .received = 4000, .camera_us = 1});

    EXPECT_EQ(model.sample_count(), 0u);
    EXPECT_FALSE(model.estimate().has_value());
    EXPECT_FALSE(model.camera_at(5000).has_value());
    EXPECT_FALSE(model.recent_round_trip_us().has_value());
}

TEST(ClockModel, ShortBurstDoesNotFitDrift) {
    const true_clock clock{.offset_us = 1.0e6, .drift_ppm = 50.0};
    unit_random random(7);
    clock_model model;
    for (int i = 0; i < 8; ++i) {
        const auto forward = static_cast<host_us>(500 + 1000 * random.next());
        const auto back = static_cast<host_us>(500 + 1000 * random.next());
        model.add_sample(exchange(clock, second + i * 5000, forward, back));
    }

    EXPECT_DOUBLE_EQ(model.estimate()->drift_ppm, 0.0);
    EXPECT_LT(model.estimate()->uncertainty_us, 1500.0);
}

TEST(ClockModel, JitteredSamplesPinDriftAndOffset) {
    // 60 s of samples 100 ms apart, each direction 1 ms plus up to 10 ms of uniform jitter.
    // The bounds are loose: on such samples the benchmark's p99 drift error is under 5 ppm.
    const true_clock clock{.offset_us = 4.0e8, .drift_ppm = 100.0};
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        unit_random random(seed);
        clock_model model;
        host_us sent = 100 * second;
        for (int i = 0; i < 600; ++i) {
            const auto forward = static_cast<host_us>(1000 + 10'000 * random.next());
            const auto back = static_cast<host_us>(1000 + 10'000 * random.next());
            model.add_sample(exchange(clock, sent, forward, back));
            sent += 100'000;
        }
        const auto estimate = model.estimate();
        ASSERT_TRUE(estimate.has_value());
        EXPECT_NEAR(estimate->drift_ppm, 100.0, 15.0) << "seed " << seed;
        EXPECT_NEAR(*model.offset_at(sent), clock.offset_at(static_cast<double>(sent)), 1000.0)
            << "seed " << seed;
        EXPECT_EQ(estimate->samples_used, 600u);
    }
}

TEST(ClockModel, ClockStepDropsOlderSamples) {
    // The camera clock jumps by 5 ms halfway: no line fits every sample, so the model keeps
    // only the samples after the jump and follows the new clock.
    const true_clock before{.offset_us = 2.0e6, .drift_ppm = 0.0};
    const true_clock after{.offset_us = 2.0e6 + 5000, .drift_ppm = 0.0};
    clock_model model;
    for (int i = 0; i < 20; ++i) {
        model.add_sample(exchange(before, i * second, 400, 400));
    }
    EXPECT_EQ(model.steps_detected(), 0u);
    for (int i = 20; i < 40; ++i) {
        model.add_sample(exchange(after, i * second, 400, 400));
    }

    EXPECT_EQ(model.steps_detected(), 1u);
    EXPECT_EQ(model.sample_count(), 20u);
    const host_us probe = 39 * second;
    const double error =
        std::abs(*model.camera_at(probe) - after.at(static_cast<double>(probe)));
    EXPECT_LE(error, *model.uncertainty_at(probe));
    EXPECT_LT(*model.uncertainty_at(probe), 500.0);
}

TEST(ClockModel, HostAtInvertsCameraAt) {
    const true_clock clock{.offset_us = 3.0e9, .drift_ppm = -60.0};
    clock_model model;
    for (int i = 0; i < 30; ++i) {
        model.add_sample(exchange(clock, i * 2 * second, 700, 700));
    }

    const host_us probe = 45 * second + 123;
    const auto camera = model.camera_at(probe);
    ASSERT_TRUE(camera.has_value());
    const auto host = model.host_at(*camera);
    ASSERT_TRUE(host.has_value());
    EXPECT_LE(std::abs(*host - probe), 1);
}

TEST(ClockModel, WallAtUsesHostWallOffset) {
    clock_model model;
    EXPECT_FALSE(model.wall_at(0).has_value());

    const std::int64_t wall_minus_host = 1'700'000'000'000'000;
    model.add_sample({.sent = 10'000,
                      .received = 12'000,
                      .camera_us = 500'000,
                      .wall_received_us = 12'000 + wall_minus_host});

    // Camera 500000 corresponds to host 11000, the sample's midpoint.
    const auto wall = model.wall_at(500'000);
    ASSERT_TRUE(wall.has_value());
    EXPECT_EQ(*wall, 11'000 + wall_minus_host);
}

TEST(ClockModel, RecentRoundTripIsMedian) {
    clock_model model;
    const host_us trips[] = {9000, 1000, 3000, 2000, 50'000};
    host_us sent = 0;
    for (host_us trip : trips) {
        model.add_sample({.sent = sent, .received = sent + trip, .camera_us = sent});
        sent += second;
    }

    EXPECT_DOUBLE_EQ(*model.recent_round_trip_us(), 3000.0);
    EXPECT_DOUBLE_EQ(*model.recent_round_trip_us(2), 26'000.0);
    EXPECT_DOUBLE_EQ(*model.recent_round_trip_us(1), 50'000.0);
}

}  // namespace
}  // namespace oscrig::controller
