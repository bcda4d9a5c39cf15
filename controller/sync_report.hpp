// Trigger synchronisation figures of a shot: the estimated arrival of each camera's trigger
// request and the spread of those arrivals across the rig. I/O-free.
#pragma once

#include "controller/clock_model.hpp"
#include "controller/shot_report.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::controller {

/// One-way delay to a camera, used to move its release earlier.
struct delay_estimate {
    double delay_us = 0;
    // Bound on the delay's error, as an estimate: half the median round trip when the delay is
    // estimated from round trips, because only the sum of both directions is observable. 0 for
    // a delay configured in the rig file, which is taken as exact.
    double uncertainty_us = 0;
};

/// Chooses the one-way delay for a camera: the rig file's value when set, otherwise half the
/// lowest of the clock model's recent round trips, otherwise zero with zero uncertainty.
delay_estimate choose_delay(const std::optional<std::chrono::microseconds>& configured,
                            const clock_model& clock);

/// Plans one release instant per camera so that every request arrives at the same host instant:
/// the camera with the longest delay is released at `first_release` and each other one later by
/// the difference of the delays. Returns the instants in the order of `delays`.
std::vector<host_us> plan_releases(const std::vector<delay_estimate>& delays,
                                   host_us first_release);

/// Fills the estimated arrival of a released trigger request on both clocks. The release is
/// taken as the midpoint of `before` and `after` (host steady clock, around the final byte's
/// send), and its uncertainty includes half that interval. Without a clock estimate only the
/// host-clock arrival is set.
void estimate_arrival(trigger_record& record, host_us before, host_us after,
                      const delay_estimate& delay, const clock_model& clock);

/// Spread of the estimated host-clock arrivals of one command across the cameras. Cameras
/// whose record has no estimated arrival (missed, failed, or fired without staging) are left
/// out and not counted. The bound is the widest spread the uncertainties allow: the largest
/// (arrival + uncertainty) of one camera minus (arrival - uncertainty) of another, 0 for a
/// single camera.
sync_summary summarize_trigger(std::string_view command,
                               const std::vector<const trigger_record*>& records);

/// One summary per trigger command of the shot, in the order the commands first appear.
std::vector<sync_summary> summarize_shot(const std::vector<camera_shot>& cameras);

/// Formats a summary for the shoot command's output, for example
/// "4 cameras, arrival spread 0.21 ms (bound 0.90 ms)".
std::string format_sync_summary(const sync_summary& summary);

/// Formats one line per trigger command of the shot: the summary, then the cameras that missed
/// the release or had their request sent again whole, for example
/// "camera.takePicture: 3 cameras, arrival spread 0.21 ms (bound 0.90 ms); missed: cam4".
std::vector<std::string> format_shot_sync(const shot_report& report);

}  // namespace oscrig::controller
