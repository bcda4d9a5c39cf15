// Decides which camera.setOptions values to send for a rig's capture settings, given what
// the camera reported it supports, and checks afterwards that the camera took them.
//
// An option is only sent when the camera's getOptions reply lists the value in the option's
// `<name>Support` list. Every other requested option is reported back instead of sent.
#pragma once

#include "config/rig.hpp"
#include "controller/osc_protocol.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace oscrig::osc {

/// A capture setting that the plan changed or left out, with the reason a person can act on.
struct option_note {
    std::string name;  // OSC option name, such as "hdr" or "_timelapseInterval"
    std::string reason;
};

struct option_plan {
    nlohmann::json options = nlohmann::json::object();  // the `options` of camera.setOptions
    std::vector<option_note> skipped;                   // requested but not sent
    std::vector<option_note> adjusted;  // sent with a value other than the one requested
    // False when the requested capture mode cannot be set up on this camera, for example a
    // timelapse on a THETA. The camera must then not take part in the shot.
    bool mode_supported = true;
    // True when options.captureMode differs from the camera's current captureMode, so the
    // vendor's settle time applies before the capture command.
    bool changes_capture_mode = false;
};

/// Plans the setOptions object for `settings` (already merged with the camera's overrides).
/// `current` is the camera's getOptions reply for session_option_names(), and `info` selects
/// the vendor rules. An unset setting is never sent.
option_plan plan_options(const config::capture_settings& settings, const camera_options& current,
                         const camera_info& info);

/// Option names to request with camera.getOptions at session start: the values and Support
/// lists that plan_options reads, plus storage, battery and clock. Lists only names the vendor
/// is known to accept, because one unknown name fails the whole getOptions call.
std::vector<std::string> session_option_names(const camera_info& info);

/// Option names to request with camera.getOptions on each health poll: storage, battery,
/// clock and the capture mode.
std::vector<std::string> health_option_names(const camera_info& info);

/// Names of the options in a setOptions object, to request when reading them back.
std::vector<std::string> option_names(const nlohmann::json& options);

/// An option whose read-back value differs from the one sent.
struct option_mismatch {
    std::string name;
    nlohmann::json sent;
    nlohmann::json read_back;  // null when the camera did not report the option
};

/// Compares the options sent with camera.setOptions against a later getOptions reply. Cameras
/// have replied done and kept the old value, so a done reply alone proves nothing. Numbers
/// match within a relative 0.1 %, since cameras round values such as shutter speeds.
std::vector<option_mismatch> verify_options(const nlohmann::json& sent,
                                            const camera_options& read_back);

/// Describes a mismatch for a log line or report warning.
std::string to_string(const option_mismatch& mismatch);

/// Compares the files a capture returned with what the settings ask for and returns warnings
/// for the shot report. HDR with on-device stitching must give one image, and HDR without it
/// on Insta360 gives three unstitched images. A capture without any file URL is always
/// flagged. RAW `.dng` files beside the images are not counted.
std::vector<std::string> check_capture_files(const config::capture_settings& settings,
                                             const camera_info& info,
                                             const std::vector<std::string>& file_urls);

}  // namespace oscrig::osc
