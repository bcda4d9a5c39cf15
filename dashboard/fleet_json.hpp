// JSON views of the fleet for the API, the event stream and the page. I/O-free.
#pragma once

#include "controller/fleet.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace oscrig::dashboard {

/// Card states Insta360 reports in `_cardState`, plus "unknown" for anything else, including
/// cameras that do not report one. Every camera gets one metric series per entry.
inline constexpr std::array<std::string_view, 7> card_states = {
    "pass", "noCard", "noSpace", "invalidFormat", "writeProtect", "otherError", "unknown"};

/// Camera states in the spelling of the API and the metric labels.
inline constexpr std::array<std::string_view, 6> camera_states = {
    "connecting", "ready", "busy", "unreachable", "needs_activation", "error"};

std::string_view state_name(controller::camera_state state);
std::string_view mode_name(config::capture_mode mode);
std::optional<config::capture_mode> parse_mode(std::string_view name);

/// Maps a camera's `_cardState` to an entry of card_states.
std::string_view card_state_name(std::string_view reported);

/// Serializes `value` for an HTTP body. Invalid UTF-8 from a camera becomes U+FFFD instead of
/// an exception, and '<', '>' and '&' are written as \u escapes so that no reply contains
/// markup, even when a browser is made to read it as HTML.
std::string json_text(const nlohmann::json& value);

/// One camera for the API. `with_thumbnail` adds the base64 JPEG, the largest field.
nlohmann::json camera_json(const controller::camera_snapshot& camera, bool with_thumbnail);

/// A shot without its request records: what the page's history and timeline need.
nlohmann::json shot_summary_json(const controller::shot_report& shot);

/// Everything the page redraws on a change, sent as one server-sent event.
nlohmann::json fleet_update_json(const controller::fleet& fleet);

}  // namespace oscrig::dashboard
