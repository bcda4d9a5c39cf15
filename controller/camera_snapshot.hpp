// What the controller currently knows about one camera, for reports, metrics and the dashboard.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oscrig::controller {

enum class camera_state { connecting, ready, busy, unreachable, needs_activation, error };

std::string_view to_string(camera_state state);

struct camera_snapshot {
    std::string name;
    std::string host;
    std::uint16_t port = 0;
    std::string interface;

    camera_state state = camera_state::connecting;
    std::string reason;  // why the camera is in this state, empty when ready

    std::string manufacturer;
    std::string model;
    std::string serial_number;
    std::string firmware_version;

    std::optional<double> battery_ratio;  // 0..1
    std::optional<bool> charging;
    std::string card_state;  // Insta360 _cardState, empty when the camera does not report it
    std::optional<std::uint64_t> remaining_bytes;
    std::optional<std::uint64_t> total_bytes;

    std::optional<double> clock_offset_seconds;  // camera clock minus host steady clock
    std::optional<double> clock_uncertainty_seconds;
    std::optional<double> round_trip_seconds;  // last health request

    std::uint64_t requests_total = 0;
    std::uint64_t failures_total = 0;
    std::optional<std::chrono::system_clock::time_point> last_successful_poll;

    std::string last_thumbnail_base64;  // JPEG from listFiles, empty when none yet
    std::uint64_t version = 0;  // increases on every change, for change notification
};

}  // namespace oscrig::controller
