#include "dashboard/fleet_json.hpp"

#include <algorithm>
#include <chrono>

namespace oscrig::dashboard {
namespace {

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
    if (!value) {
        return nullptr;
    }
    return *value;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

// Percent-encodes one path segment, so that names with spaces, '#' or '?' stay one segment.
std::string encode_segment(std::string_view segment) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    for (unsigned char c : segment) {
        if (is_unreserved(c)) {
            encoded += static_cast<char>(c);
        } else {
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 0x0f];
        }
    }
    return encoded;
}

// Link under /files for a downloaded copy, or empty when the file was not written.
std::string file_href(const std::string& shot_id, const controller::file_record& file) {
    if (file.local_path.empty() || !file.error.empty()) {
        return {};
    }
    std::string href = "/files/" + encode_segment(shot_id);
    std::string_view rest = file.local_path;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        href += '/';
        href += encode_segment(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
    return href;
}

std::string last_segment(const std::string& text) {
    const auto slash = text.find_last_of('/');
    return slash == std::string::npos ? text : text.substr(slash + 1);
}

nlohmann::json trigger_json(const controller::trigger_record& trigger) {
    return {
        {"command", trigger.command},
        {"planned_release_us", optional_json(trigger.planned_release_us)},
        {"actual_release_us", optional_json(trigger.actual_release_us)},
        {"estimated_arrival_host_us", optional_json(trigger.estimated_arrival_host_us)},
        {"arrival_uncertainty_us", optional_json(trigger.arrival_uncertainty_us)},
        {"missed", trigger.missed},
        {"resent_whole", trigger.resent_whole},
        {"note", trigger.note},
    };
}

nlohmann::json file_json(const std::string& shot_id, const controller::file_record& file) {
    const std::string name = last_segment(file.local_path.empty() ? file.url : file.local_path);
    return {
        {"name", name},
        {"url", file.url},
        {"local_path", file.local_path},
        {"bytes", file.bytes},
        {"sha256", file.sha256},
        {"error", file.error},
        {"href", file_href(shot_id, file)},
    };
}

nlohmann::json camera_shot_json(const std::string& shot_id, const controller::camera_shot& camera) {
    nlohmann::json triggers = nlohmann::json::array();
    for (const auto& trigger : camera.triggers) {
        triggers.push_back(trigger_json(trigger));
    }
    nlohmann::json files = nlohmann::json::array();
    for (const auto& file : camera.files) {
        files.push_back(file_json(shot_id, file));
    }
    return {
        {"name", camera.name},
        {"host", camera.host},
        {"delivered", camera.delivered},
        {"error", camera.error},
        {"warnings", camera.warnings},
        {"triggers", std::move(triggers)},
        {"files", std::move(files)},
    };
}

}  // namespace

std::string_view state_name(controller::camera_state state) {
    return camera_states.at(static_cast<std::size_t>(state));
}

std::string_view mode_name(config::capture_mode mode) {
    switch (mode) {
    case config::capture_mode::photo:
        return "photo";
    case config::capture_mode::video:
        return "video";
    case config::capture_mode::timelapse:
        return "timelapse";
    }
    return "photo";
}

std::optional<config::capture_mode> parse_mode(std::string_view name) {
    for (auto mode : {config::capture_mode::photo, config::capture_mode::video,
                      config::capture_mode::timelapse}) {
        if (mode_name(mode) == name) {
            return mode;
        }
    }
    return std::nullopt;
}

std::string_view card_state_name(std::string_view reported) {
    const auto found = std::find(card_states.begin(), card_states.end(), reported);
    return found == card_states.end() ? std::string_view{"unknown"} : *found;
}

std::string json_text(const nlohmann::json& value) {
    const std::string dumped = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // These characters can only occur inside JSON strings, where \u escapes mean the same.
    std::string text;
    text.reserve(dumped.size());
    for (char c : dumped) {
        switch (c) {
        case '<':
            text += "\\u003c";
            break;
        case '>':
            text += "\\u003e";
            break;
        case '&':
            text += "\\u0026";
            break;
        default:
            text += c;
        }
    }
    return text;
}

nlohmann::json camera_json(const controller::camera_snapshot& camera, bool with_thumbnail) {
    nlohmann::json last_poll = nullptr;
    if (camera.last_successful_poll) {
        const auto since_epoch = camera.last_successful_poll->time_since_epoch();
        last_poll = std::chrono::duration<double>(since_epoch).count();
    }
    nlohmann::json result = {
        {"name", camera.name},
        {"host", camera.host},
        {"port", camera.port},
        {"interface", camera.interface},
        {"state", state_name(camera.state)},
        {"reason", camera.reason},
        {"manufacturer", camera.manufacturer},
        {"model", camera.model},
        {"serial_number", camera.serial_number},
        {"firmware_version", camera.firmware_version},
        {"battery_ratio", optional_json(camera.battery_ratio)},
        {"charging", optional_json(camera.charging)},
        {"card_state", camera.card_state},
        {"remaining_bytes", optional_json(camera.remaining_bytes)},
        {"total_bytes", optional_json(camera.total_bytes)},
        {"clock_offset_seconds", optional_json(camera.clock_offset_seconds)},
        {"clock_uncertainty_seconds", optional_json(camera.clock_uncertainty_seconds)},
        {"round_trip_seconds", optional_json(camera.round_trip_seconds)},
        {"requests_total", camera.requests_total},
        {"failures_total", camera.failures_total},
        {"last_successful_poll_seconds", std::move(last_poll)},
        {"version", camera.version},
    };
    if (with_thumbnail) {
        result["thumbnail_jpeg_base64"] = camera.last_thumbnail_base64;
    }
    return result;
}

nlohmann::json shot_summary_json(const controller::shot_report& shot) {
    nlohmann::json cameras = nlohmann::json::array();
    bool all_delivered = true;
    for (const auto& camera : shot.cameras) {
        cameras.push_back(camera_shot_json(shot.shot_id, camera));
        all_delivered = all_delivered && camera.delivered;
    }
    nlohmann::json summaries = nlohmann::json::array();
    for (const auto& summary : shot.sync_summaries) {
        summaries.push_back({
            {"command", summary.command},
            {"cameras", summary.cameras},
            {"arrival_spread_us", optional_json(summary.arrival_spread_us)},
            {"spread_bound_us", optional_json(summary.spread_bound_us)},
        });
    }
    return {
        {"rig", shot.rig},
        {"shot_id", shot.shot_id},
        {"mode", mode_name(shot.mode)},
        {"sync", shot.sync},
        {"started_us", shot.started_us},
        {"finished_us", shot.finished_us},
        {"duration_seconds", optional_json(shot.duration_seconds)},
        {"all_delivered", all_delivered},
        {"sync_summaries", std::move(summaries)},
        {"cameras", std::move(cameras)},
    };
}

nlohmann::json fleet_update_json(const controller::fleet& fleet) {
    nlohmann::json cameras = nlohmann::json::array();
    for (const auto& camera : fleet.cameras()) {
        cameras.push_back(camera_json(camera, true));
    }
    const auto current = fleet.current_shot();
    const auto counters = fleet.counters();
    const auto shots = fleet.shots();
    return {
        {"rig", fleet.rig_name()},
        {"cameras", std::move(cameras)},
        {"current_shot", current ? shot_summary_json(*current) : nlohmann::json(nullptr)},
        {"counters",
         {
             {"shots_total", counters.shots_total},
             {"shot_failures_total", counters.shot_failures_total},
             {"downloaded_bytes_total", counters.downloaded_bytes_total},
         }},
        {"last_shot_id", shots.empty() ? std::string{} : shots.back().shot_id},
    };
}

}  // namespace oscrig::dashboard
