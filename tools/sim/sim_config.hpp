// Parameters of the simulated cameras: defaults, the YAML config file and the fault switches.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::sim {

enum class flavour { insta360, theta };

std::string_view to_string(flavour value);
std::optional<flavour> parse_flavour(std::string_view text);

/// Faults a camera shows on request. A counter applies to that many of the next replies and
/// counts down. Zero or false switches a fault off.
struct fault_settings {
    bool unactivated = false;
    double disabled_after_idle_s = 0;  // 0 = never falls asleep
    bool card_full = false;
    int slow_reply_ms = 0;
    int drop_mid_reply = 0;                 // next N replies cut after half their bytes
    std::uint64_t drop_mid_download_at = 0;  // file byte offset at which downloads are cut, 0 = off
    int http_500 = 0;                       // next N requests get HTTP 500
    int malformed_json = 0;                 // next N JSON replies carry invalid JSON
    bool stuck_in_progress = false;
    int empty_body = 0;  // next N JSON replies carry an empty body
    bool unreachable = false;
    int hostile_file_names = 0;  // next N captures return hostile file URLs

    nlohmann::json to_json() const;

    /// Sets one fault from a JSON value. Throws std::invalid_argument naming the fault and the
    /// accepted values when the name is unknown or the value has the wrong type.
    void set(std::string_view name, const nlohmann::json& value);
};

struct camera_params {
    std::string name;
    std::optional<std::uint16_t> port;  // unset: base port + index, or free when base is 0
    sim::flavour flavour = sim::flavour::insta360;
    std::string model;     // empty: the flavour's model
    std::string serial;    // empty: derived from the seed and the camera index
    std::string firmware;  // empty: the flavour's firmware

    std::optional<std::int64_t> clock_offset_us;  // unset: derived from the seed and the index
    double drift_ppm = 0;
    int reply_delay_ms = 0;
    std::int64_t one_way_delay_us = 0;
    std::int64_t jitter_us = 0;  // each direction adds a uniform 0..jitter_us on top
    int capture_time_ms = 1500;  // takePicture stays in progress for this long
    int capture_mode_wait_ms = 1000;  // THETA: captures this soon after a mode change fail
    // THETA: OSC API level at start, 1 or 2. setOptions clientVersion switches it.
    int api_version = 2;

    double battery_level = 100;  // percent
    double battery_drain_per_minute = 0.1;  // percent per minute; charging adds it instead
    bool charging = false;
    std::string card_state = "pass";
    std::uint64_t total_space = 64'000'000'000;
    std::uint64_t remaining_space = 60'000'000'000;

    std::uint64_t photo_bytes = 4'000'000;
    std::uint64_t video_bytes_per_second = 12'500'000;
    std::uint64_t video_bytes = 0;  // fixed size of each video file, 0 = from recording time
    int photo_width = 6080;
    int photo_height = 3040;

    std::string user;  // HTTP Digest user, empty = no authentication
    std::string password;

    fault_settings faults;
};

struct sim_settings {
    int cameras = 0;  // 0 = as many as the config lists, at least one
    std::string host = "127.0.0.1";
    int base_port = 18000;
    sim::flavour flavour = sim::flavour::insta360;
    std::uint64_t seed = 1;
    std::filesystem::path config_file;
};

/// Builds the parameters of every camera from the command line and the config file. Throws
/// std::runtime_error with the file, line and key of the first problem.
std::vector<camera_params> load_cameras(const sim_settings& settings);

}  // namespace oscrig::sim
