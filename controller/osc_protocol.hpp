// Open Spherical Camera protocol without I/O: request bodies, and replies parsed into types.
//
// Accepts the shapes real cameras send, not only the ones the OSC specification shows: error
// bodies without `name` or `state`, error codes with stray whitespace, HTTP 4xx and 5xx with or
// without a JSON body, and the Insta360 and RICOH vendor keys.
#pragma once

#include "controller/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::osc {

// Headers that every OSC request carries besides Host and Content-Length.
inline constexpr std::string_view content_type = "application/json;charset=utf-8";
inline constexpr std::string_view accept = "application/json";
inline constexpr std::string_view xsrf_header = "X-XSRF-Protected";

/// Body of POST /osc/commands/execute. `parameters` is left out when null.
std::string make_execute_body(std::string_view command, const nlohmann::json& parameters = {});

/// Body of POST /osc/commands/status.
std::string make_status_body(std::string_view command_id);

struct camera_error {
    std::string code;  // trimmed of surrounding whitespace
    std::string message;
};

enum class command_state { done, in_progress, error };

/// A command object from /osc/commands/execute or /osc/commands/status.
struct command_reply {
    std::string name;  // may be empty: some cameras leave it out of error bodies
    command_state state = command_state::error;
    std::string id;                   // set while in progress
    std::optional<double> completion;  // progress.completion, 0..1
    // The results object, or null. A top-level `_fileUrls` (THETA startCapture) is moved in.
    nlohmann::json results;
    std::optional<camera_error> error;

    /// Returns every file URL in the results, in order and without repeats: fileUrl,
    /// _fileGroup, fileUrls and _fileUrls.
    std::vector<std::string> file_urls() const;
};

/// Maps a camera error code to the oscrig error it stands for (unactivated, disabled_command,
/// unsupported, or camera_error for the rest).
errc classify_camera_error(std::string_view code);

/// Parses the reply to an execute or status request. An OSC error object, whatever its HTTP
/// status, parses into a reply with state error. Fails with empty_body, malformed_reply or
/// http_status when the body says nothing usable.
outcome<command_reply> parse_command_reply(int http_status, std::string_view body);

struct camera_info {
    std::string manufacturer;
    std::string model;
    std::string serial_number;
    std::string firmware_version;
    std::vector<int> api_levels;  // [1] when the camera leaves apiLevel out
    std::optional<long> uptime_seconds;
    nlohmann::json raw;

    bool is_ricoh() const;    // manufacturer names RICOH
    bool is_insta360() const;  // manufacturer "Arashi Vision" or model names Insta360
};

outcome<camera_info> parse_info(int http_status, std::string_view body);

struct camera_state {
    std::string fingerprint;
    std::optional<double> battery_level;  // 0..1
    std::string storage_uri;
    std::string card_state;       // Insta360 _cardState: pass, noCard, noSpace, ...
    std::string capture_status;   // RICOH _captureStatus: idle, shooting, ...
    std::string battery_state;    // RICOH _batteryState: charging, charged, disconnect
    std::optional<int> api_version;  // RICOH _apiVersion
    nlohmann::json raw;
};

outcome<camera_state> parse_state(int http_status, std::string_view body);

/// Options from a done camera.getOptions reply, with the vendor quirks unwrapped
/// (`_MuteEnable: {_MuteEnable: 0}` becomes `_MuteEnable: 0`).
struct camera_options {
    nlohmann::json values;  // object of option name to value

    std::optional<std::uint64_t> remaining_space() const;  // bytes
    std::optional<std::uint64_t> total_space() const;      // bytes
    std::optional<int> battery_percent() const;            // _batteryCapacity.powerLevel
    std::optional<bool> charging() const;                  // _batteryCapacity.powerType == 1
    std::optional<std::int64_t> sys_timestamp_us() const;  // _sysTimestamp
    /// Values of `<name>Support`, or an empty array when the camera did not report it.
    nlohmann::json supported_values(std::string_view name) const;
};

outcome<camera_options> options_from_reply(const command_reply& reply);

/// One entry of a camera.listFiles reply.
struct file_entry {
    std::string name;
    std::string file_url;
    std::optional<std::uint64_t> size;
    std::string date_time_zone;
    std::string thumbnail_base64;
};

struct file_list {
    std::vector<file_entry> entries;
    std::optional<long> total_entries;
};

outcome<file_list> file_list_from_reply(const command_reply& reply);

}  // namespace oscrig::osc
