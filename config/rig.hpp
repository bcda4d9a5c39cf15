// Rig definition: the cameras of one rig and how to drive them, as read from a YAML file.
//
// This library depends on nothing else of oscrig. Every field is documented with its unit and
// default in docs/rig.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::config {

enum class capture_mode { photo, video, timelapse };

std::string_view to_string(capture_mode mode);

/// Capture options. Every field is optional so that a camera's overrides can be merged over the
/// rig's defaults; an unset field is not sent to the camera at all.
struct capture_settings {
    std::optional<capture_mode> mode;
    std::optional<bool> hdr;
    std::optional<std::string> photo_stitching;  // "none" or "ondevice"
    std::optional<int> exposure_program;         // OSC values: 1 manual, 2 auto, 4 shutter, 9 ISO
    std::optional<int> iso;                      // 0 means auto
    std::optional<double> shutter_speed;         // seconds, 0 means auto
    std::optional<std::string> white_balance;    // OSC names: "auto", "daylight", ...
    std::optional<double> timelapse_interval;    // seconds between timelapse frames

    /// Returns these settings with every field that `overrides` sets replaced by its value.
    capture_settings merged_with(const capture_settings& overrides) const;
};

/// Deadlines of the requests a session makes. Each is the whole time a request may take.
struct request_timeouts {
    std::chrono::milliseconds connect{3000};
    std::chrono::milliseconds info_state{5000};     // GET /osc/info, POST /osc/state
    std::chrono::milliseconds command{15000};       // POST /osc/commands/execute
    std::chrono::milliseconds status{5000};         // POST /osc/commands/status
    std::chrono::milliseconds download_stall{15000};  // no body byte for this long ends a download
};

/// HTTP Digest credentials for cameras on a shared network (THETA client mode).
struct auth_settings {
    std::string user;
    std::string password;      // inline password, empty when password_env is used
    std::string password_env;  // name of the environment variable that holds the password
};

/// Trigger synchronisation of a shot.
enum class sync_method { staged, none };

struct sync_settings {
    sync_method method = sync_method::staged;
    std::chrono::milliseconds staging_window{500};  // staged request to release, at most
    bool abort_if_not_ready = false;  // abort the whole shot when a camera misses the release
};

struct camera_config {
    std::string name;
    std::string host = "192.168.42.1";
    std::uint16_t port = 80;
    std::string interface;       // network device the session's sockets are bound to, or empty
    std::string source_address;  // local address bound before connect, or empty
    capture_settings overrides;
    std::optional<auth_settings> auth;
    // Fixed one-way delay to the camera for trigger compensation; when unset it is estimated
    // from round trips.
    std::optional<std::chrono::microseconds> one_way_delay;
    int line = 0;  // 1-based line of the camera's entry in the rig file, 0 when not from a file
};

/// Rig-wide capture settings of a file that sets none: photo mode, every other field unset.
inline capture_settings default_rig_capture() {
    capture_settings settings;
    settings.mode = capture_mode::photo;
    return settings;
}

struct rig {
    std::string name;
    std::filesystem::path output_dir = "shots";
    capture_settings capture = default_rig_capture();  // rig-wide defaults
    request_timeouts timeouts;
    std::chrono::milliseconds status_poll_interval{1000};
    std::chrono::milliseconds health_interval{5000};  // oscrig serve, at least 1 s
    sync_settings sync;
    std::vector<camera_config> cameras;
    std::filesystem::path source_file;  // the file this rig was read from, or empty

    /// Returns the capture settings for one camera: rig defaults merged with its overrides.
    capture_settings settings_for(const camera_config& camera) const;
};

/// One problem found in a rig file, positioned for an editor: `file:line:column: path: message`.
struct config_error {
    std::string file;
    int line = 0;    // 1-based, 0 when the problem has no position (an unreadable file)
    int column = 0;  // 1-based
    std::string path;  // dotted path such as "cameras[1].port", empty for the document
    std::string message;

    std::string to_string() const;
};

/// Every problem of a file, or the rig when there were none.
struct load_result {
    std::optional<rig> value;
    std::vector<config_error> errors;
};

/// Reads and validates a rig file. Never throws for bad input: all problems are in `errors`.
/// On success `source_file` is `path`, and a relative output directory is taken as relative to
/// the folder of the file. Reading stops with an error once a file exceeds `max_rig_file_size`.
load_result load_rig_file(const std::filesystem::path& path);

/// Largest rig file that load_rig_file reads, in bytes. Real rig files are a few kilobytes, so
/// the limit only stops a wrong path (a device, a video) from being read whole.
inline constexpr std::size_t max_rig_file_size = 1024 * 1024;

/// Parses rig YAML text; `file_name` only labels the errors. Relative output directories are
/// kept as written.
load_result parse_rig(std::string_view yaml_text, const std::string& file_name);

}  // namespace oscrig::config
