#include "controller/clock_model.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace oscrig::controller {

namespace {

// _sysTimestamp is an integer count of microseconds, so a reading may lag the true clock by up
// to one unit.
constexpr double timestamp_resolution_us = 1.0;

double round_trip_us(const clock_sample& sample) {
    return static_cast<double>(sample.received - sample.sent);
}

// Host instant halfway between send and receive. The camera read its clock somewhere in
// between, so this is the best guess for that instant when the delays are unknown.
double midpoint_us(const clock_sample& sample) {
    return static_cast<double>(sample.sent) + round_trip_us(sample) / 2.0;
}

// Camera clock minus host clock at the sample's midpoint, computed in integers first so that
// large clock values keep their microseconds.
double offset_us(const clock_sample& sample) {
    const std::int64_t twice = 2 * sample.camera_us - sample.sent - sample.received;
    return static_cast<double>(twice) / 2.0;
}

}  // namespace

clock_model::clock_model(clock_model_settings settings) : settings_(settings) {
    settings_.keep_fraction = std::clamp(settings_.keep_fraction, 0.0, 1.0);
    settings_.max_samples = std::max<std::size_t>(settings_.max_samples, 1);
    settings_.max_drift_ppm = std::max(settings_.max_drift_ppm, 0.0);
}

void clock_model::add_sample(const clock_sample& sample) {
    if (sample.received < sample.sent) {
        return;
    }
    samples_.push_back(sample);
    if (sample.wall_received_us != 0) {
        wall_minus_host_us_ = static_cast<double>(sample.wall_received_us - sample.received);
        wall_known_ = true;
    }
    drop_old_samples(sample.received);
    refit();
}

void clock_model::drop_old_samples(host_us newest_received) {
    const auto window_us =
        std::chrono::duration_cast<std::chrono::microseconds>(settings_.window).count();
    const host_us oldest_kept = newest_received - window_us;
    std::erase_if(samples_, [&](const clock_sample& s) { return s.received < oldest_kept; });
    while (samples_.size() > settings_.max_samples) {
        samples_.pop_front();
    }
}

// Weighted least squares of offset against host time over the lowest-round-trip samples.
// Each fitted value is a linear combination of the sample offsets, and each sample offset is
// off by at most its own bound, so the sum of |coefficient| * bound is a bound on the fitted
// value's error as long as the clock drifts linearly over the window.
void clock_model::refit() {
    fit_points_.clear();
    estimate_.reset();
    if (samples_.empty()) {
        return;
    }

    std::vector<const clock_sample*> kept;
    kept.reserve(samples_.size());
    for (const auto& s : samples_) {
        kept.push_back(&s);
    }
    std::stable_sort(kept.begin(), kept.end(), [](const clock_sample* a, const clock_sample* b) {
        return a->received - a->sent < b->received - b->sent;
    });
    const auto keep_count = static_cast<std::size_t>(
        std::ceil(settings_.keep_fraction * static_cast<double>(kept.size())));
    kept.resize(std::clamp<std::size_t>(keep_count, 1, kept.size()));

    const double max_drift = settings_.max_drift_ppm * 1e-6;
    std::vector<double> offsets;
    offsets.reserve(kept.size());
    double weighted_host = 0;
    weight_sum_ = 0;
    for (const clock_sample* s : kept) {
        const double bound = round_trip_us(*s) / 2.0 * (1.0 + max_drift) + timestamp_resolution_us;
        // Weights follow the inverse square of each sample's bound, so the tightest samples
        // dominate the fit, as in NTP's clock filter.
        const double weight = 1.0 / (bound * bound);
        fit_points_.push_back({midpoint_us(*s), weight, bound});
        offsets.push_back(offset_us(*s));
        weight_sum_ += weight;
        weighted_host += weight * midpoint_us(*s);
    }
    fit_center_us_ = weighted_host / weight_sum_;

    spread_sum_ = 0;
    double weighted_offset = 0;
    for (std::size_t i = 0; i < fit_points_.size(); ++i) {
        auto& point = fit_points_[i];
        point.host_from_center_us -= fit_center_us_;
        spread_sum_ += point.weight * point.host_from_center_us * point.host_from_center_us;
        weighted_offset += point.weight * offsets[i];
    }
    offset_at_center_us_ = weighted_offset / weight_sum_;

    // Drift is fitted only when the samples pin it down better than the assumed maximum: a
    // burst of samples a few milliseconds apart cannot determine the rate.
    drift_ = 0;
    drift_fitted_ = false;
    if (spread_sum_ > 0) {
        double slope = 0;
        double slope_bound = 0;
        for (std::size_t i = 0; i < fit_points_.size(); ++i) {
            const auto& point = fit_points_[i];
            const double coefficient = point.weight * point.host_from_center_us / spread_sum_;
            slope += coefficient * offsets[i];
            slope_bound += std::abs(coefficient) * point.error_bound_us;
        }
        if (slope_bound < max_drift) {
            drift_ = slope;
            drift_fitted_ = true;
        }
    }

    // Residuals beyond a sample's own bound mean the clock did not behave as the model assumes
    // (a step, or a reading taken outside the request's round trip). The largest excess is
    // added to every uncertainty so that the bound stays honest in that case.
    residual_excess_us_ = 0;
    for (std::size_t i = 0; i < fit_points_.size(); ++i) {
        const auto& point = fit_points_[i];
        const double fitted = offset_at_center_us_ + drift_ * point.host_from_center_us;
        const double excess = std::abs(offsets[i] - fitted) - point.error_bound_us;
        residual_excess_us_ = std::max(residual_excess_us_, excess);
    }

    const auto reference = static_cast<host_us>(std::llround(fit_center_us_));
    const double reference_from_center = static_cast<double>(reference) - fit_center_us_;
    double min_round_trip = round_trip_us(*kept.front());
    estimate_ = clock_estimate{
        .reference = reference,
        .camera_at_reference_us = static_cast<double>(reference) + offset_at_center_us_ +
                                  drift_ * reference_from_center,
        .drift_ppm = drift_ * 1e6,
        .uncertainty_us = bound_at(reference_from_center),
        .samples_used = kept.size(),
        .min_round_trip_us = min_round_trip,
    };
}

double clock_model::bound_at(double host_from_center_us) const {
    double bound = residual_excess_us_;
    for (const auto& point : fit_points_) {
        double coefficient = point.weight / weight_sum_;
        if (drift_fitted_) {
            coefficient +=
                host_from_center_us * point.weight * point.host_from_center_us / spread_sum_;
        }
        bound += std::abs(coefficient) * point.error_bound_us;
    }
    if (!drift_fitted_) {
        bound += std::abs(host_from_center_us) * settings_.max_drift_ppm * 1e-6;
    }
    return bound;
}

std::optional<clock_estimate> clock_model::estimate() const { return estimate_; }

std::optional<double> clock_model::offset_at(host_us at) const {
    if (!estimate_) {
        return std::nullopt;
    }
    return offset_at_center_us_ + drift_ * (static_cast<double>(at) - fit_center_us_);
}

std::optional<double> clock_model::camera_at(host_us at) const {
    const auto offset = offset_at(at);
    if (!offset) {
        return std::nullopt;
    }
    return static_cast<double>(at) + *offset;
}

std::optional<host_us> clock_model::host_at(double camera_us) const {
    if (!estimate_) {
        return std::nullopt;
    }
    // camera = host + offset_at_center + drift * (host - center), solved for host.
    const double host =
        (camera_us - offset_at_center_us_ + drift_ * fit_center_us_) / (1.0 + drift_);
    return static_cast<host_us>(std::llround(host));
}

std::optional<double> clock_model::uncertainty_at(host_us at) const {
    if (!estimate_) {
        return std::nullopt;
    }
    return bound_at(static_cast<double>(at) - fit_center_us_);
}

std::optional<std::int64_t> clock_model::wall_at(double camera_us) const {
    const auto host = host_at(camera_us);
    if (!host || !wall_known_) {
        return std::nullopt;
    }
    return *host + static_cast<std::int64_t>(std::llround(wall_minus_host_us_));
}

std::optional<double> clock_model::recent_round_trip_us(std::size_t last_n) const {
    if (samples_.empty() || last_n == 0) {
        return std::nullopt;
    }
    const std::size_t count = std::min(last_n, samples_.size());
    std::vector<double> trips;
    trips.reserve(count);
    for (auto it = samples_.end() - static_cast<std::ptrdiff_t>(count); it != samples_.end();
         ++it) {
        trips.push_back(round_trip_us(*it));
    }
    std::sort(trips.begin(), trips.end());
    const std::size_t middle = trips.size() / 2;
    if (trips.size() % 2 == 1) {
        return trips[middle];
    }
    return (trips[middle - 1] + trips[middle]) / 2.0;
}

std::optional<double> clock_model::recent_min_round_trip_us(std::size_t last_n) const {
    if (samples_.empty() || last_n == 0) {
        return std::nullopt;
    }
    const std::size_t count = std::min(last_n, samples_.size());
    double lowest = round_trip_us(samples_.back());
    for (auto it = samples_.end() - static_cast<std::ptrdiff_t>(count); it != samples_.end();
         ++it) {
        lowest = std::min(lowest, round_trip_us(*it));
    }
    return lowest;
}

}  // namespace oscrig::controller
