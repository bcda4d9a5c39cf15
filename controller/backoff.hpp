// Reconnect delays: exponential growth with a cap and jitter. I/O-free.
#pragma once

#include <chrono>
#include <functional>

namespace oscrig::controller {

struct backoff_settings {
    std::chrono::milliseconds initial{1000};  // delay before the first retry, before jitter
    std::chrono::milliseconds max{60000};     // no delay is longer than this, jitter included
    double multiplier = 2.0;                  // growth factor per failed attempt, at least 1
    // Each delay is moved by up to this fraction of itself, up or down, so that cameras that
    // failed together do not reconnect together. 0 disables jitter, and values above 1 count
    // as 1.
    double jitter = 0.2;
};

/// Delay sequence for one camera's reconnects. The nominal delay of attempt n (0-based) is
/// initial * multiplier^n, capped at max. The returned delay is the nominal one moved by the
/// jitter, then kept within [initial, max].
class backoff {
public:
    /// Uniform random source on [0, 1). Tests pass a fixed sequence.
    using random_source = std::function<double()>;

    /// Throws std::invalid_argument when initial is not positive, max is below initial or
    /// multiplier is below 1, or when `random` is empty.
    backoff(backoff_settings settings, random_source random);

    /// Returns the delay before the next attempt and counts the attempt.
    std::chrono::milliseconds next_delay();

    /// Starts again from the initial delay, after a successful connect.
    void reset() { attempts_ = 0; }

    /// Failed attempts since construction or the last reset().
    int attempts() const { return attempts_; }

    /// Nominal delay of the next attempt, without jitter.
    std::chrono::milliseconds nominal_delay() const;

    const backoff_settings& settings() const { return settings_; }

private:
    backoff_settings settings_;
    random_source random_;
    int attempts_ = 0;
};

/// Returns a uniform source on [0, 1) seeded from std::random_device.
backoff::random_source make_random_source();

}  // namespace oscrig::controller
