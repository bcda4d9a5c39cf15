#include "controller/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <utility>

namespace oscrig::controller {

backoff::backoff(backoff_settings settings, random_source random)
    : settings_(settings), random_(std::move(random)) {
    if (settings_.initial.count() <= 0) {
        throw std::invalid_argument("backoff: initial delay must be positive");
    }
    if (settings_.max < settings_.initial) {
        throw std::invalid_argument("backoff: maximum delay must not be below the initial delay");
    }
    if (!(settings_.multiplier >= 1.0)) {
        throw std::invalid_argument("backoff: multiplier must be at least 1");
    }
    if (!random_) {
        throw std::invalid_argument("backoff: random source is missing");
    }
    settings_.jitter = std::clamp(settings_.jitter, 0.0, 1.0);
}

std::chrono::milliseconds backoff::nominal_delay() const {
    const double initial_ms = static_cast<double>(settings_.initial.count());
    const double max_ms = static_cast<double>(settings_.max.count());
    // pow() of a large attempt count overflows to infinity, which min() then caps.
    const double nominal_ms = initial_ms * std::pow(settings_.multiplier, attempts_);
    return std::chrono::milliseconds{static_cast<long long>(std::min(nominal_ms, max_ms))};
}

std::chrono::milliseconds backoff::next_delay() {
    const double nominal_ms = static_cast<double>(nominal_delay().count());

    // A value outside [0, 1) from the source is clamped rather than trusted.
    const double u = std::clamp(random_(), 0.0, 1.0);
    const double offset_ms = (2.0 * u - 1.0) * settings_.jitter * nominal_ms;

    const double low_ms = static_cast<double>(settings_.initial.count());
    const double high_ms = static_cast<double>(settings_.max.count());
    const double delay_ms = std::clamp(nominal_ms + offset_ms, low_ms, high_ms);

    ++attempts_;
    return std::chrono::milliseconds{std::llround(delay_ms)};
}

backoff::random_source make_random_source() {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine]() {
        std::uniform_real_distribution<double> distribution(0.0, 1.0);
        return distribution(*engine);
    };
}

}  // namespace oscrig::controller
