// The controller as the dashboard and the JSON API see it: camera snapshots, shot history and
// shot control. Free of Asio so that the dashboard's page and metrics code stays light.
//
// Threading: every member is called on the controller's event-loop thread, and listeners are
// invoked on that thread too.
#pragma once

#include "config/rig.hpp"
#include "controller/camera_snapshot.hpp"
#include "controller/error.hpp"
#include "controller/shot_report.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::controller {

struct shot_request {
    config::capture_mode mode = config::capture_mode::photo;
    // Video and timelapse: record this long, then stop. Unset: record until stop_recording().
    std::optional<std::chrono::milliseconds> duration;
    std::optional<config::sync_method> sync;  // unset: the rig's setting
};

/// Rig-wide counters since the process started.
struct fleet_counters {
    std::uint64_t shots_total = 0;
    std::uint64_t shot_failures_total = 0;  // shots where some camera did not deliver
    std::uint64_t downloaded_bytes_total = 0;
};

class fleet {
public:
    virtual ~fleet() = default;

    virtual std::string rig_name() const = 0;
    virtual std::vector<camera_snapshot> cameras() const = 0;
    /// Finished shots, oldest first, at most the last 100.
    virtual std::vector<shot_report> shots() const = 0;
    /// The shot being taken, with what is known so far, or nothing when idle.
    virtual std::optional<shot_report> current_shot() const = 0;
    virtual fleet_counters counters() const = 0;
    /// Folder the shot folders are written to; downloaded copies are served from here.
    virtual std::filesystem::path output_dir() const = 0;

    /// Starts a shot in the background and returns its id. Fails with not_ready while another
    /// shot is running.
    virtual outcome<std::string> start_shot(const shot_request& request) = 0;
    /// Stops the video or timelapse being recorded. Fails with not_ready when none is.
    virtual outcome<std::string> stop_recording() = 0;

    /// Registers a function called after any snapshot, shot or counter changed. Calls are
    /// coalesced: one call may stand for several changes.
    virtual void on_change(std::function<void()> listener) = 0;
};

}  // namespace oscrig::controller
