// Camera clock model: maps a camera's `_sysTimestamp` clock to the host's clocks.
//
// I/O-free. Each sample is one getOptions round trip: the host's steady clock at send and at
// receive, and the camera clock value in the reply. The camera read its clock somewhere between
// send and receive, so each sample bounds the camera-minus-host offset from both sides. The
// model keeps every offset-and-drift line that satisfies all bounds of the window (a convex
// polygon, as in linear-programming skew estimation) and uses its middle. Samples with a low
// round trip give the tight bounds, as in NTP's clock filter and Cristian's algorithm. A sample
// with a long round trip only adds a loose one. The uncertainty of an estimate is the largest
// distance to any line still feasible, so it is at most half the round trip of the samples it
// rests on.
//
// When no line satisfies every bound, the camera clock stepped (or a reading came from outside
// its request's round trip), so the samples from before the newest such break are dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace oscrig::controller {

/// Host steady-clock time in microseconds since an arbitrary epoch fixed for the process.
using host_us = std::int64_t;

struct clock_sample {
    host_us sent;       // request handed to the socket
    host_us received;   // complete reply read
    std::int64_t camera_us;  // _sysTimestamp in the reply
    // Host wall clock at `received`, microseconds since the Unix epoch; 0 when unknown.
    std::int64_t wall_received_us = 0;
};

struct clock_model_settings {
    std::chrono::seconds window{300};  // samples older than this (host time) are dropped
    std::size_t max_samples = 1024;    // samples kept in the window at most
    // Largest drift assumed possible, in ppm. Drift is fitted only once the samples bound it
    // more tightly than this. Until then the model assumes no drift and widens the uncertainty
    // by this rate away from the reference. The default is an assumed margin, not a measured
    // camera figure.
    double max_drift_ppm = 500;
};

struct clock_estimate {
    host_us reference;        // host time the fit is centred on
    double camera_at_reference_us;  // estimated camera clock at `reference`
    double drift_ppm;         // camera clock rate minus host clock rate, parts per million
    double uncertainty_us;    // bound on the error of camera_at(), at `reference`
    std::size_t samples_used;
    double min_round_trip_us;
};

class clock_model {
public:
    explicit clock_model(clock_model_settings settings = {});

    /// Adds one sample. Samples with received < sent or a negative round trip are ignored.
    void add_sample(const clock_sample& sample);

    /// Current estimate, or nothing before the first sample.
    std::optional<clock_estimate> estimate() const;

    /// Camera clock value expected at host time `at`, and its uncertainty in microseconds.
    std::optional<double> camera_at(host_us at) const;
    std::optional<host_us> host_at(double camera_us) const;
    std::optional<double> uncertainty_at(host_us at) const;

    /// Host wall clock (microseconds since the Unix epoch) for a camera clock value.
    std::optional<std::int64_t> wall_at(double camera_us) const;

    /// Offset of the camera clock from the host steady clock at `at`: camera - host, in us.
    std::optional<double> offset_at(host_us at) const;

    /// Median round trip of the recent samples, for one-way delay estimates.
    std::optional<double> recent_round_trip_us(std::size_t last_n = 16) const;

    /// Lowest round trip of the recent samples: the path delay with the least queueing.
    std::optional<double> recent_min_round_trip_us(std::size_t last_n = 16) const;

    std::size_t sample_count() const { return samples_.size(); }

    /// Clock steps seen so far: times older samples were dropped because no line fitted them
    /// together with the newer ones.
    std::size_t steps_detected() const { return steps_detected_; }

private:
    // A corner of the polygon of feasible lines: drift in ppm (microseconds per second) and
    // offset at the fit's center in microseconds. corners_ stores them relative to the chosen
    // line.
    struct line_corner {
        double drift_ppm;
        double offset_us;
    };

    // Range of offsets (camera minus host, relative to a base offset) that one sample allows at
    // its midpoint, `x_s` seconds from the fit's center.
    struct offset_interval {
        double x_s;
        double low_us;
        double high_us;
    };

    static std::vector<offset_interval> offset_intervals(const std::deque<clock_sample>& samples,
                                                         double center, std::int64_t base_twice,
                                                         double max_drift_ppm);
    // Cuts the polygon of feasible lines interval by interval, in the order given, and stops
    // before the first interval that would leave none. `fitted_count` is set to how many fitted.
    static std::vector<line_corner> feasible_lines(const std::vector<offset_interval>& intervals,
                                                   double max_drift_ppm,
                                                   std::size_t& fitted_count);

    void drop_old_samples(host_us newest_received);
    void refit();
    void refit_constrained();
    double bound_at(double host_from_center_us) const;

    clock_model_settings settings_;
    std::deque<clock_sample> samples_;
    std::optional<clock_estimate> estimate_;
    double fit_center_us_ = 0;        // host time of the fit's center: the newest sample
    double offset_at_center_us_ = 0;  // camera minus host at the center
    double drift_ = 0;                // fitted rate difference as a ratio, 0 when not fitted
    std::size_t steps_detected_ = 0;
    std::vector<line_corner> corners_;
    double wall_minus_host_us_ = 0;  // host wall clock minus host steady clock
    bool wall_known_ = false;
};

/// Host steady clock now, in the model's units.
host_us host_now();

}  // namespace oscrig::controller
