// Prometheus metrics of one fleet, kept in a prometheus-cpp registry and rendered in the
// Prometheus text exposition format for /metrics.
//
// prometheus-cpp's types stay inside metrics.cpp, so this header names none of them.
#pragma once

#include "controller/fleet.hpp"

#include <memory>
#include <string>

namespace oscrig::dashboard {

/// Camera and rig metrics, with every series of a camera created as soon as the camera appears
/// in the fleet and removed when it leaves.
///
/// Not thread-safe: call update() and render() on one thread.
class fleet_metrics {
public:
    /// Creates the rig series and one set of series per camera the fleet has now.
    fleet_metrics(const controller::fleet& fleet, std::string version);
    ~fleet_metrics();

    fleet_metrics(const fleet_metrics&) = delete;
    fleet_metrics& operator=(const fleet_metrics&) = delete;

    /// Reads the fleet and brings every series up to date: adds and removes cameras, sets
    /// gauges, adds counter increments, and observes the arrival spread of shots not seen yet.
    void update();

    /// Returns every series in the text exposition format, version 0.0.4.
    std::string render() const;

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace oscrig::dashboard
