#include "controller/rig_diff.hpp"

#include <tuple>
#include <unordered_map>

namespace oscrig::controller {
namespace {

bool same_capture(const config::capture_settings& a, const config::capture_settings& b) {
    return std::tie(a.mode, a.hdr, a.photo_stitching, a.exposure_program, a.iso,
                    a.shutter_speed, a.white_balance, a.timelapse_interval) ==
           std::tie(b.mode, b.hdr, b.photo_stitching, b.exposure_program, b.iso,
                    b.shutter_speed, b.white_balance, b.timelapse_interval);
}

bool same_auth(const std::optional<config::auth_settings>& a,
               const std::optional<config::auth_settings>& b) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    if (!a) {
        return true;
    }
    return std::tie(a->user, a->password, a->password_env) ==
           std::tie(b->user, b->password, b->password_env);
}

bool same_timeouts(const config::request_timeouts& a, const config::request_timeouts& b) {
    return std::tie(a.connect, a.info_state, a.command, a.status, a.download_stall) ==
           std::tie(b.connect, b.info_state, b.command, b.status, b.download_stall);
}

}  // namespace

bool same_session_settings(const config::rig& old_rig, const config::camera_config& old_camera,
                           const config::rig& new_rig, const config::camera_config& new_camera) {
    const bool same_connection =
        std::tie(old_camera.host, old_camera.port, old_camera.interface,
                 old_camera.source_address, old_camera.one_way_delay) ==
        std::tie(new_camera.host, new_camera.port, new_camera.interface,
                 new_camera.source_address, new_camera.one_way_delay);
    if (!same_connection) {
        return false;
    }
    if (!same_auth(old_camera.auth, new_camera.auth)) {
        return false;
    }
    // Sessions copy the timeouts and the status poll interval when they are created.
    if (!same_timeouts(old_rig.timeouts, new_rig.timeouts) ||
        old_rig.status_poll_interval != new_rig.status_poll_interval) {
        return false;
    }
    return same_capture(old_rig.settings_for(old_camera), new_rig.settings_for(new_camera));
}

rig_diff diff_rigs(const config::rig& old_rig, const config::rig& new_rig) {
    std::unordered_map<std::string, const config::camera_config*> old_by_name;
    for (const auto& camera : old_rig.cameras) {
        old_by_name.emplace(camera.name, &camera);
    }
    std::unordered_map<std::string, const config::camera_config*> new_by_name;
    for (const auto& camera : new_rig.cameras) {
        new_by_name.emplace(camera.name, &camera);
    }

    rig_diff diff;
    for (const auto& camera : new_rig.cameras) {
        const auto old_entry = old_by_name.find(camera.name);
        if (old_entry == old_by_name.end()) {
            diff.added.push_back(camera.name);
        } else if (same_session_settings(old_rig, *old_entry->second, new_rig, camera)) {
            diff.unchanged.push_back(camera.name);
        } else {
            diff.changed.push_back(camera.name);
        }
    }
    for (const auto& camera : old_rig.cameras) {
        if (!new_by_name.contains(camera.name)) {
            diff.removed.push_back(camera.name);
        }
    }
    return diff;
}

}  // namespace oscrig::controller
