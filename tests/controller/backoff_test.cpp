#include "controller/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace oscrig::controller {
namespace {

using std::chrono::milliseconds;

// Returns the values in order, then repeats the last one.
backoff::random_source sequence(std::vector<double> values) {
    return [values, index = std::size_t{0}]() mutable {
        const double value = values[std::min(index, values.size() - 1)];
        ++index;
        return value;
    };
}

backoff_settings without_jitter() {
    backoff_settings settings;
    settings.jitter = 0.0;
    return settings;
}

TEST(Backoff, DoublesFromInitialDelay) {
    backoff delays(without_jitter(), sequence({0.5}));
    EXPECT_EQ(delays.next_delay(), milliseconds(1000));
    EXPECT_EQ(delays.next_delay(), milliseconds(2000));
    EXPECT_EQ(delays.next_delay(), milliseconds(4000));
    EXPECT_EQ(delays.next_delay(), milliseconds(8000));
    EXPECT_EQ(delays.attempts(), 4);
}

TEST(Backoff, StopsGrowingAtMaximum) {
    backoff delays(without_jitter(), sequence({0.5}));
    std::vector<milliseconds> seen;
    for (int i = 0; i < 10; ++i) {
        seen.push_back(delays.next_delay());
    }
    EXPECT_EQ(seen[5], milliseconds(32000));
    EXPECT_EQ(seen[6], milliseconds(60000));
    EXPECT_EQ(seen[9], milliseconds(60000));
}

TEST(Backoff, ManyAttemptsStayAtMaximum) {
    backoff delays(without_jitter(), sequence({0.5}));
    for (int i = 0; i < 5000; ++i) {
        delays.next_delay();
    }
    EXPECT_EQ(delays.next_delay(), milliseconds(60000));
}

TEST(Backoff, ResetStartsOver) {
    backoff delays(without_jitter(), sequence({0.5}));
    delays.next_delay();
    delays.next_delay();
    delays.next_delay();
    delays.reset();
    EXPECT_EQ(delays.attempts(), 0);
    EXPECT_EQ(delays.next_delay(), milliseconds(1000));
}

TEST(Backoff, JitterFollowsRandomSource) {
    backoff_settings settings;
    settings.jitter = 0.2;
    // Attempt 2 has a nominal delay of 4 s, so the jitter range is 3.2 s to 4.8 s.
    backoff low(settings, sequence({0.5, 0.5, 0.0}));
    low.next_delay();
    low.next_delay();
    EXPECT_EQ(low.next_delay(), milliseconds(3200));

    backoff middle(settings, sequence({0.5, 0.5, 0.5}));
    middle.next_delay();
    middle.next_delay();
    EXPECT_EQ(middle.next_delay(), milliseconds(4000));

    backoff high(settings, sequence({0.5, 0.5, 0.999999}));
    high.next_delay();
    high.next_delay();
    EXPECT_NEAR(static_cast<double>(high.next_delay().count()), 4800.0, 1.0);
}

TEST(Backoff, JitterNeverGoesBelowInitial) {
    backoff_settings settings;
    settings.jitter = 0.5;
    backoff delays(settings, sequence({0.0}));
    EXPECT_EQ(delays.next_delay(), milliseconds(1000));
}

TEST(Backoff, JitterNeverExceedsMaximum) {
    backoff_settings settings;
    settings.jitter = 0.5;
    backoff delays(settings, sequence({0.999999}));
    for (int i = 0; i < 20; ++i) {
        const milliseconds delay = delays.next_delay();
        EXPECT_LE(delay, milliseconds(60000)) << "attempt " << i;
        EXPECT_GE(delay, milliseconds(1000)) << "attempt " << i;
    }
}

TEST(Backoff, JitterSpreadsDelaysAtMaximum) {
    backoff_settings settings;
    settings.jitter = 0.2;
    backoff delays(settings, sequence({0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0}));
    for (int i = 0; i < 7; ++i) {
        delays.next_delay();
    }
    EXPECT_EQ(delays.next_delay(), milliseconds(48000));
}

TEST(Backoff, OutOfRangeRandomValuesAreClamped) {
    backoff_settings settings;
    settings.jitter = 0.2;
    backoff above(settings, sequence({0.5, 7.0}));
    above.next_delay();
    EXPECT_EQ(above.next_delay(), milliseconds(2400));

    backoff below(settings, sequence({0.5, -3.0}));
    below.next_delay();
    EXPECT_EQ(below.next_delay(), milliseconds(1600));
}

TEST(Backoff, CustomMultiplierAndLimits) {
    backoff_settings settings;
    settings.initial = milliseconds(250);
    settings.max = milliseconds(1000);
    settings.multiplier = 3.0;
    settings.jitter = 0.0;
    backoff delays(settings, sequence({0.5}));
    EXPECT_EQ(delays.next_delay(), milliseconds(250));
    EXPECT_EQ(delays.next_delay(), milliseconds(750));
    EXPECT_EQ(delays.next_delay(), milliseconds(1000));
}

TEST(Backoff, RejectsInvalidSettings) {
    backoff_settings zero_initial;
    zero_initial.initial = milliseconds(0);
    EXPECT_THROW(backoff(zero_initial, sequence({0.5})), std::invalid_argument);

    backoff_settings max_below_initial;
    max_below_initial.max = milliseconds(500);
    EXPECT_THROW(backoff(max_below_initial, sequence({0.5})), std::invalid_argument);

    backoff_settings shrinking;
    shrinking.multiplier = 0.5;
    EXPECT_THROW(backoff(shrinking, sequence({0.5})), std::invalid_argument);

    EXPECT_THROW(backoff(backoff_settings{}, backoff::random_source{}), std::invalid_argument);
}

TEST(Backoff, DefaultRandomSourceStaysInRange) {
    backoff::random_source random = make_random_source();
    for (int i = 0; i < 1000; ++i) {
        const double value = random();
        EXPECT_GE(value, 0.0);
        EXPECT_LT(value, 1.0);
    }
}

}  // namespace
}  // namespace oscrig::controller
