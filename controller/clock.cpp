#include "controller/clock_model.hpp"

#include <chrono>

namespace oscrig::controller {

// std::chrono::steady_clock is CLOCK_MONOTONIC with libstdc++ on Linux, which every process on
// the host shares, so these values compare directly with the simulator's arrival times.
host_us host_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace oscrig::controller
