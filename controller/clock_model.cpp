#include "controller/clock_model.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace

clock_model::clock_model(clock_model_settings settings) : settings_(settings) {
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

void clock_model::refit() {
    corners_.clear();
    estimate_.reset();
    if (!samples_.empty()) {
        refit_constrained();
    }
}

namespace {

// Cuts `polygon` down to the part where the affine `value` is at least zero (one step of
// Sutherland-Hodgman clipping). `scratch` is reused to save allocations.
template <typename Corner, typename Value>
void clip(std::vector<Corner>& polygon, std::vector<Corner>& scratch, Value value) {
    scratch.clear();
    const std::size_t n = polygon.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Corner& p = polygon[i];
        const Corner& q = polygon[(i + 1) % n];
        const double at_p = value(p);
        const double at_q = value(q);
        if (at_p >= 0) {
            scratch.push_back(p);
        }
        if ((at_p >= 0) != (at_q >= 0)) {
            const double t = at_p / (at_p - at_q);
            scratch.push_back({p.drift_ppm + t * (q.drift_ppm - p.drift_ppm),
                               p.offset_us + t * (q.offset_us - p.offset_us)});
        }
    }
    polygon.swap(scratch);
}

}  // namespace

// Every sample gives: at host time x (its midpoint, seconds from the center), the offset lies in
// [low, high]. A line offset(x) = a + b * x is feasible when it meets every such interval; the
// feasible (b, a) pairs form a convex polygon, cut out of the box |b| <= max_drift_ppm one
// sample at a time. The chosen line takes the middle of the feasible drifts and, at that drift,
// the middle of the feasible offsets.
std::vector<clock_model::offset_interval> clock_model::offset_intervals(
    const std::deque<clock_sample>& samples, double center, std::int64_t base_twice,
    double max_drift_ppm) {
    std::vector<offset_interval> intervals;
    intervals.reserve(samples.size());
    for (const auto& s : samples) {
        const double offset =
            static_cast<double>(2 * s.camera_us - s.sent - s.received - base_twice) / 2.0;
        const double half = round_trip_us(s) / 2.0;
        // Reading the offset at the midpoint rather than at the unknown instant of the reading
        // is off by at most the drift over half the round trip. A reading may also lag by one
        // timestamp unit.
        const double slack = half * max_drift_ppm * 1e-6 + timestamp_resolution_us;
        intervals.push_back({(midpoint_us(s) - center) / 1e6, offset - half - slack,
                             offset + half + slack});
    }
    return intervals;
}

std::vector<clock_model::line_corner> clock_model::feasible_lines(
    const std::vector<offset_interval>& intervals, double max_drift_ppm,
    std::size_t& fitted_count) {
    double lowest = intervals.front().low_us;
    double highest = intervals.front().high_us;
    double widest_x = 0;
    for (const auto& item : intervals) {
        lowest = std::min(lowest, item.low_us);
        highest = std::max(highest, item.high_us);
        widest_x = std::max(widest_x, std::abs(item.x_s));
    }
    const double margin = max_drift_ppm * widest_x + 1.0;
    std::vector<line_corner> polygon{{-max_drift_ppm, lowest - margin},
                                     {max_drift_ppm, lowest - margin},
                                     {max_drift_ppm, highest + margin},
                                     {-max_drift_ppm, highest + margin}};
    std::vector<line_corner> cut;
    std::vector<line_corner> scratch;
    fitted_count = 0;
    for (const auto& item : intervals) {
        cut = polygon;
        clip(cut, scratch, [&](const line_corner& c) {
            return c.offset_us + c.drift_ppm * item.x_s - item.low_us;
        });
        clip(cut, scratch, [&](const line_corner& c) {
            return item.high_us - c.offset_us - c.drift_ppm * item.x_s;
        });
        if (cut.empty()) {
            break;
        }
        polygon.swap(cut);
        ++fitted_count;
    }
    return polygon;
}

// The fit is centred on the newest sample and cuts the polygon newest sample first. A camera
// clock that steps (a reboot restarts a clock that counts from boot, or the clock is set) leaves
// samples that no single line fits. The first sample that cannot share a line with all newer
// ones marks the step, so it and every older sample describe the clock before the step and are
// dropped.
void clock_model::refit_constrained() {
    const double max_drift_ppm = settings_.max_drift_ppm;

    // Offsets relative to the newest sample's, in integers first: camera clock values are large.
    const auto& newest = samples_.back();
    const double center = midpoint_us(newest);
    const std::int64_t base_twice = 2 * newest.camera_us - newest.sent - newest.received;
    std::vector<offset_interval> intervals =
        offset_intervals(samples_, center, base_twice, max_drift_ppm);
    std::reverse(intervals.begin(), intervals.end());
    std::size_t consistent = 0;
    auto polygon = feasible_lines(intervals, max_drift_ppm, consistent);
    if (consistent < samples_.size()) {
        samples_.erase(samples_.begin(),
                       samples_.end() - static_cast<std::ptrdiff_t>(consistent));
        intervals.resize(consistent);
        ++steps_detected_;
    }
    double min_round_trip = round_trip_us(newest);
    for (const auto& s : samples_) {
        min_round_trip = std::min(min_round_trip, round_trip_us(s));
    }

    double drift_low = polygon.front().drift_ppm;
    double drift_high = drift_low;
    for (const auto& c : polygon) {
        drift_low = std::min(drift_low, c.drift_ppm);
        drift_high = std::max(drift_high, c.drift_ppm);
    }
    // Drift counts as measured only when the samples bound it on both sides, inside the box.
    // Then the line is the polygon's centroid: the mean line when every feasible line is
    // equally likely, which under that assumption has the least mean squared error at every
    // host time. Otherwise the model takes the feasible drift closest to none, with the middle
    // of the offsets it allows.
    const double edge = max_drift_ppm * (1.0 - 1e-9);
    const bool fitted = drift_low > -edge && drift_high < edge;
    double drift_ppm = std::clamp(0.0, drift_low, drift_high);
    std::optional<double> offset;
    if (fitted) {
        double area_twice = 0;
        double drift_sum = 0;
        double offset_sum = 0;
        for (std::size_t i = 0; i < polygon.size(); ++i) {
            const auto& p = polygon[i];
            const auto& q = polygon[(i + 1) % polygon.size()];
            const double cross = p.drift_ppm * q.offset_us - q.drift_ppm * p.offset_us;
            area_twice += cross;
            drift_sum += (p.drift_ppm + q.drift_ppm) * cross;
            offset_sum += (p.offset_us + q.offset_us) * cross;
        }
        if (std::abs(area_twice) > 1e-9) {
            drift_ppm = drift_sum / (3.0 * area_twice);
            offset = offset_sum / (3.0 * area_twice);
        } else {
            drift_ppm = (drift_low + drift_high) / 2.0;
        }
    }
    if (!offset) {
        double offset_low = intervals.front().low_us - drift_ppm * intervals.front().x_s;
        double offset_high = intervals.front().high_us - drift_ppm * intervals.front().x_s;
        for (const auto& item : intervals) {
            offset_low = std::max(offset_low, item.low_us - drift_ppm * item.x_s);
            offset_high = std::min(offset_high, item.high_us - drift_ppm * item.x_s);
        }
        offset = (offset_low + offset_high) / 2.0;
    }

    corners_ = std::move(polygon);
    for (auto& c : corners_) {
        c.drift_ppm -= drift_ppm;
        c.offset_us -= *offset;
    }
    fit_center_us_ = center;
    offset_at_center_us_ = static_cast<double>(base_twice) / 2.0 + *offset;
    drift_ = drift_ppm * 1e-6;

    const auto reference = static_cast<host_us>(std::llround(center));
    const double reference_from_center = static_cast<double>(reference) - center;
    estimate_ = clock_estimate{
        .reference = reference,
        .camera_at_reference_us = static_cast<double>(reference) + offset_at_center_us_ +
                                  drift_ * reference_from_center,
        .drift_ppm = drift_ppm,
        .uncertainty_us = bound_at(reference_from_center),
        .samples_used = samples_.size(),
        .min_round_trip_us = min_round_trip,
    };
}

double clock_model::bound_at(double host_from_center_us) const {
    // The error is affine over the polygon, so its largest value is at a corner.
    double bound = 0;
    for (const auto& c : corners_) {
        bound = std::max(bound, std::abs(c.offset_us + c.drift_ppm * host_from_center_us / 1e6));
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
