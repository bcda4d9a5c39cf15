// Differences between two versions of a rig, by camera name, for reloading a running service.
// I/O-free.
#pragma once

#include "config/rig.hpp"

#include <string>
#include <vector>

namespace oscrig::controller {

struct rig_diff {
    // Camera names, each list in the order of the rig that contains the camera.
    std::vector<std::string> added;      // only in the new rig
    std::vector<std::string> removed;    // only in the old rig
    std::vector<std::string> changed;    // in both, with a difference that needs a new session
    std::vector<std::string> unchanged;  // in both, and the session can stay

    /// True when no camera needs to be started, stopped or restarted.
    bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

/// Compares the cameras of two rigs by name.
///
/// A camera is changed when anything its session uses differs: host, port, interface, source
/// address, auth, one-way delay, the rig's request timeouts and status poll interval, or its
/// effective capture settings.
/// The effective settings are the rig defaults merged with the camera's overrides, so a new
/// rig-wide default changes every camera that does not override that field. The camera's line
/// in the file is ignored, so moving its entry changes nothing. Rig settings that the service
/// applies without a new session (name, output folder, health interval, sync) are not
/// compared.
rig_diff diff_rigs(const config::rig& old_rig, const config::rig& new_rig);

/// Returns true when the two entries would give the same session; see diff_rigs().
bool same_session_settings(const config::rig& old_rig, const config::camera_config& old_camera,
                           const config::rig& new_rig, const config::camera_config& new_camera);

}  // namespace oscrig::controller
