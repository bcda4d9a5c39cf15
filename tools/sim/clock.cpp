#include "tools/sim/clock.hpp"

namespace oscrig::sim {
namespace {

std::int64_t to_us(const timespec& ts) {
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::int64_t read_clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::int64_t monotonic_now_us() { return read_clock_ns(CLOCK_MONOTONIC) / 1000; }

std::int64_t wall_now_us() { return read_clock_ns(CLOCK_REALTIME) / 1000; }

receive_instant from_kernel_timestamp(const timespec& realtime) {
    // Reading the monotonic clock on both sides of the wall clock read centres the offset
    // estimate on the wall clock sample.
    const std::int64_t mono_before = read_clock_ns(CLOCK_MONOTONIC);
    const std::int64_t wall = read_clock_ns(CLOCK_REALTIME);
    const std::int64_t mono_after = read_clock_ns(CLOCK_MONOTONIC);
    const std::int64_t wall_minus_mono_ns = wall - (mono_before + (mono_after - mono_before) / 2);

    const std::int64_t kernel_wall_ns =
        static_cast<std::int64_t>(realtime.tv_sec) * 1'000'000'000 + realtime.tv_nsec;
    return receive_instant{(kernel_wall_ns - wall_minus_mono_ns) / 1000, to_us(realtime)};
}

receive_instant receive_instant_now() { return receive_instant{monotonic_now_us(), wall_now_us()}; }

}  // namespace oscrig::sim
