// The record of one shot: what was sent to each camera, what came back, every file downloaded,
// and the trigger timing. Written as shot.json in the shot folder.
#pragma once

#include "config/rig.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::controller {

/// One HTTP exchange with a camera. Times are host wall clock, microseconds since the Unix
/// epoch, taken when the request was handed to the socket and when the reply was complete.
struct request_record {
    std::string method;  // GET or POST
    std::string target;  // /osc/commands/execute, ...
    std::string command;  // camera.takePicture, ..., empty for info and state
    std::int64_t sent_us = 0;
    std::int64_t received_us = 0;
    int http_status = 0;  // 0 when no reply arrived
    nlohmann::json reply;  // parsed body, or the raw text when it was not JSON
    std::string error;     // empty on success
};

struct file_record {
    std::string url;
    std::string local_path;  // relative to the shot folder, empty when not written
    std::uint64_t bytes = 0;
    std::string sha256;  // lowercase hex, empty when not complete
    std::string error;   // empty on success
};

/// Timing of one trigger request (start, or stop for video) on one camera. Host times are
/// steady-clock microseconds; camera times are the camera's `_sysTimestamp` clock.
struct trigger_record {
    std::string command;
    std::optional<std::int64_t> planned_release_us;
    std::optional<std::int64_t> actual_release_us;
    std::optional<double> estimated_arrival_host_us;
    std::optional<double> estimated_arrival_camera_us;
    std::optional<double> arrival_uncertainty_us;     // on both clocks, from delay and model
    std::optional<double> one_way_delay_us;           // used to move the release earlier
    bool resent_whole = false;  // the staged connection closed and the request was sent again
    bool missed = false;        // the camera was not ready at the fire instant
    bool rejected = false;      // the trigger got an error reply, or no reply
    std::string note;
};

struct camera_shot {
    std::string name;
    std::string host;
    bool delivered = false;  // every file the camera returned is downloaded and checked
    std::string error;       // reason when not delivered
    std::vector<std::string> warnings;  // e.g. stitching asked for but not done
    // Steps taken for this camera's vendor, e.g. the wait after a THETA captureMode change.
    std::vector<std::string> vendor_steps;
    std::vector<request_record> requests;
    std::vector<trigger_record> triggers;
    std::vector<file_record> files;
};

/// Spread of estimated arrivals for one trigger across cameras.
struct sync_summary {
    std::string command;
    std::size_t cameras = 0;
    std::optional<double> arrival_spread_us;
    // Largest possible spread: over every pair of different cameras, the late one's arrival
    // plus its uncertainty minus the early one's arrival minus its uncertainty.
    std::optional<double> spread_bound_us;
};

struct shot_report {
    std::string rig;
    std::string shot_id;
    config::capture_mode mode = config::capture_mode::photo;
    std::string sync;  // "staged" or "none"
    std::int64_t started_us = 0;   // host wall clock
    std::int64_t finished_us = 0;
    std::optional<double> duration_seconds;  // video and timelapse only
    std::vector<camera_shot> cameras;
    std::vector<sync_summary> sync_summaries;

    /// True when the shot has at least one camera and every camera delivered.
    bool all_delivered() const;
    nlohmann::json to_json() const;
};

}  // namespace oscrig::controller
