// Per-vendor protocol differences that the OSC specification leaves open, chosen from the
// camera's /osc/info reply. Pure data plus the functions that pick and apply it.
#pragma once

#include "controller/osc_protocol.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace oscrig::osc {

enum class vendor { insta360, ricoh, other };

std::string_view to_string(vendor value);

struct vendor_profile {
    osc::vendor vendor = osc::vendor::other;

    // Wait between a setOptions that changes captureMode and the next capture command: about
    // one second on THETA, none on Insta360.
    std::chrono::milliseconds capture_mode_settle{0};

    // Option that sets the camera clock, or empty when oscrig has none for this camera:
    // "dateTimeZone" on THETA (local time with its UTC offset, "YYYY:MM:DD hh:mm:ss+hh:mm"),
    // "_dateTime" on Insta360 (local time without a zone, "YYYY:MM:DD hh:mm:ss").
    std::string time_option;
    bool time_includes_offset = false;
    // True when the time option goes in a setOptions call of its own and is read back before
    // other options are set (THETA).
    bool set_time_alone = false;

    bool has_capture_status = false;  // /osc/state carries RICOH _captureStatus
    bool has_sys_timestamp = false;   // getOptions carries Insta360 _sysTimestamp (µs)
    // THETA S and SC boot into OSC API level 1 and switch to level 2 with
    // `camera.setOptions {options: {clientVersion: 2}}`.
    bool switch_to_api_level_2 = false;
};

/// Selects the profile for a camera from its /osc/info reply.
vendor_profile select_vendor_profile(const camera_info& info);

/// True when the camera runs API level 1 now and the profile allows a switch to level 2. The
/// caller then sends `setOptions {clientVersion: 2}` before anything else.
bool needs_api_level_switch(const vendor_profile& profile, const camera_info& info,
                            const camera_state& state);

/// Formats a UTC instant for the profile's time option, shifted to local time by
/// `utc_offset` and suffixed with the offset when the camera stores it. Returns an empty
/// string when the profile has no time option.
std::string format_camera_time(const vendor_profile& profile,
                               std::chrono::system_clock::time_point utc_time,
                               std::chrono::minutes utc_offset);

/// Returns the reason not to start a capture when `state` reports a RICOH _captureStatus other
/// than idle, because the camera rejects a capture while it records or shoots. Returns nothing
/// when the profile has no _captureStatus, the field is missing or the camera is idle.
std::optional<std::string> capture_status_problem(const vendor_profile& profile,
                                                  const camera_state& state);

/// Returns the host's UTC offset at `utc_time` from the C library's local time zone (TZ).
std::chrono::minutes local_utc_offset(std::chrono::system_clock::time_point utc_time);

/// Compares the camera time read back after a set with the value sent, both in the format of
/// format_camera_time(). Returns a description of the difference, or nothing when the clock
/// time is within `tolerance` of the value sent and the UTC offsets, where present, are equal.
/// The tolerance covers the time between the set and the read back.
std::optional<std::string> compare_camera_time(std::string_view sent, std::string_view read_back,
                                               std::chrono::seconds tolerance);

}  // namespace oscrig::osc
