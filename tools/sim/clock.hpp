// Host clocks of the simulator, in microseconds.
#pragma once

#include <cstdint>
#include <ctime>

namespace oscrig::sim {

/// CLOCK_MONOTONIC in microseconds: the clock of std::chrono::steady_clock on Linux, shared by
/// every process on the host.
std::int64_t monotonic_now_us();

/// CLOCK_REALTIME in microseconds since the Unix epoch.
std::int64_t wall_now_us();

/// A kernel receive timestamp (CLOCK_REALTIME, from SO_TIMESTAMPNS) converted to both clocks.
struct receive_instant {
    std::int64_t monotonic_us = 0;
    std::int64_t wall_us = 0;
};

/// Converts a CLOCK_REALTIME kernel timestamp to CLOCK_MONOTONIC by reading both clocks now.
/// The conversion error is at most the time between the clock reads, plus any step or slew of
/// the wall clock since the segment arrived.
receive_instant from_kernel_timestamp(const timespec& realtime);

/// Both clocks now, for requests without a kernel timestamp.
receive_instant receive_instant_now();

}  // namespace oscrig::sim
