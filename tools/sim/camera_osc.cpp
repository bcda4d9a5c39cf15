// The OSC endpoints of a simulated camera: info, state, checkForUpdates, execute and status.
#include "tools/sim/camera.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace oscrig::sim {
namespace {

// Arrival records kept per camera; older ones are dropped first.
constexpr std::size_t max_arrivals = 100'000;

// /osc/info and /osc/state closer together than this count as too frequent. The margin keeps
// a client that polls exactly once a second from being counted because of timer jitter.
constexpr std::int64_t min_info_state_interval_us = 1'000'000 - 10'000;

nlohmann::json api_list() {
    return {"/osc/info", "/osc/state", "/osc/checkForUpdates", "/osc/commands/execute",
            "/osc/commands/status"};
}

std::string mac_from(std::string_view serial, int salt) {
    std::uint32_t hash = 2166136261u + static_cast<std::uint32_t>(salt);
    for (const char c : serial) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    }
    return fmt::format("58:38:79:{:02X}:{:02X}:{:02X}", (hash >> 16) & 0xFF, (hash >> 8) & 0xFF,
                       hash & 0xFF);
}

}  // namespace

double camera::battery_percent(std::int64_t now_us) const {
    const double minutes = static_cast<double>(now_us - battery_reference_us_) / 60e6;
    const double change = params_.battery_drain_per_minute * minutes;
    const double level = params_.charging ? battery_reference_percent_ + change
                                          : battery_reference_percent_ - change;
    return std::clamp(level, 0.0, 100.0);
}

bool camera::card_full() const {
    return params_.faults.card_full || params_.remaining_space < params_.photo_bytes;
}

std::string camera::card_state() const {
    if (params_.card_state == "pass" && card_full()) {
        return "noSpace";
    }
    return params_.card_state;
}

bool camera::is_capturing(std::int64_t now_us) const {
    if (recording_since_us_) {
        return true;
    }
    return std::any_of(commands_.begin(), commands_.end(), [&](const auto& entry) {
        return entry.second.name == "camera.takePicture" && !entry.second.completed &&
               (params_.faults.stuck_in_progress || entry.second.done_us > now_us);
    });
}

http_reply camera::handle_info(const http_request& request) {
    if (last_info_us_ && request.arrival_us - *last_info_us_ < min_info_state_interval_us) {
        count_violation("info_rate");
    }
    last_info_us_ = request.arrival_us;
    info_read_ = true;

    const long uptime_s = static_cast<long>(camera_clock_us(request.arrival_us) / 1'000'000);
    nlohmann::json info = {{"manufacturer", "Arashi Vision"},
                           {"model", params_.model},
                           {"serialNumber", params_.serial},
                           {"firmwareVersion", params_.firmware},
                           {"supportUrl", "https://www.insta360.com/support/"},
                           {"endpoints", {{"httpPort", port_}, {"httpUpdatesPort", port_}}},
                           {"gps", false},
                           {"gyro", true},
                           {"uptime", uptime_s},
                           {"api", api_list()},
                           {"apiLevel", {2}},
                           {"_vendorVersion", "v1.1_build1"}};
    if (params_.flavour == flavour::theta) {
        info["manufacturer"] = "RICOH";
        info["supportUrl"] = "https://theta360.com/en/support/";
        info["apiLevel"] = {1, 2};
        info.erase("_vendorVersion");
        info["_bluetoothMacAddress"] = mac_from(params_.serial, 1);
        info["_wlanMacAddress"] = mac_from(params_.serial, 2);
    }
    return json_reply(200, info);
}

nlohmann::json camera::state_object(std::int64_t now_us) {
    const double level = std::round(battery_percent(now_us)) / 100.0;
    if (params_.flavour == flavour::insta360) {
        return {{"_cardState", card_state()},
                {"batteryLevel", level},
                {"storageUri", url_for(directory_path())}};
    }
    std::string latest;
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
        if (!it->video) {
            latest = url_for(it->path);
            break;
        }
    }
    const char* battery_state = !params_.charging           ? "disconnect"
                                : battery_percent(now_us) >= 100 ? "charged"
                                                                 : "charging";
    return {{"batteryLevel", level},
            {"storageUri", url_for(directory_path())},
            {"_apiVersion", api_version_},
            {"_batteryState", battery_state},
            {"_cameraError", nlohmann::json::array()},
            {"_captureStatus", is_capturing(now_us) ? "shooting" : "idle"},
            {"_capturedPictures", 0},
            {"_latestFileUrl", latest},
            {"_recordableTime", 0},
            {"_recordedTime",
             recording_since_us_ ? (now_us - *recording_since_us_) / 1'000'000 : 0},
            {"_function", "normal"}};
}

std::string camera::fingerprint(std::int64_t now_us) {
    // The fingerprint changes whenever a state field or the set of files changes.
    const std::string source =
        state_object(now_us).dump() + std::to_string(files_.size()) + options_.dump();
    if (source != fingerprint_source_) {
        fingerprint_source_ = source;
        ++fingerprint_number_;
    }
    if (params_.flavour == flavour::theta) {
        return fmt::format("FIG_{:04}", fingerprint_number_);
    }
    return fmt::format("FPR_{}", fingerprint_number_);
}

http_reply camera::handle_state(const http_request& request) {
    if (last_state_us_ && request.arrival_us - *last_state_us_ < min_info_state_interval_us) {
        count_violation("state_rate");
    }
    last_state_us_ = request.arrival_us;
    state_read_ = true;
    return json_reply(200, {{"fingerprint", fingerprint(request.arrival_us)},
                            {"state", state_object(request.arrival_us)}});
}

http_reply camera::handle_check_for_updates(const http_request& request) {
    // NOTE: returns at once, even when the request sets waitTimeout to wait for a change.
    return json_reply(200, {{"stateFingerprint", fingerprint(request.arrival_us)},
                            {"throttleTimeout", 1}});
}

http_reply camera::handle_execute(const http_request& request) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return json_reply(400, {{"state", "error"},
                                {"error", {{"code", "invalidParameterValue"},
                                           {"message", "Request body is not a JSON object."}}}});
    }
    if (!body.contains("name") || !body["name"].is_string()) {
        return json_reply(400, {{"state", "error"},
                                {"error", {{"code", "missingParameter"},
                                           {"message", "Parameter name is missing."}}}});
    }
    const std::string command = body["name"].get<std::string>();
    const nlohmann::json parameters =
        body.contains("parameters") ? body["parameters"] : nlohmann::json::object();
    const std::int64_t now = request.arrival_us;

    arrivals_.push_back({{"command", command},
                         {"host_monotonic_us", now},
                         {"host_wall_us", request.arrival_wall_us},
                         {"camera_us", camera_clock_us(now)}});
    if (arrivals_.size() > max_arrivals) {
        arrivals_.pop_front();
    }
    ++request_counts_[command];

    // A camera that idled too long falls asleep and only a captureMode change wakes it.
    const double idle_limit_s = params_.faults.disabled_after_idle_s;
    if (idle_limit_s > 0 &&
        static_cast<double>(now - last_command_us_) > idle_limit_s * 1e6) {
        if (!asleep_) {
            spdlog::info("[{}] asleep after {:.1f} s without a command", name(),
                         static_cast<double>(now - last_command_us_) / 1e6);
        }
        asleep_ = true;
    }
    last_command_us_ = now;

    int status = 200;
    nlohmann::json reply;
    if (command == "camera.getOptions") {
        reply = get_options(parameters, now, status);
    } else if (command == "camera.setOptions") {
        reply = set_options(parameters, now, status);
    } else if (command == "camera.takePicture") {
        reply = take_picture(now, status);
    } else if (command == "camera.startCapture") {
        reply = start_capture(now, status);
    } else if (command == "camera.stopCapture") {
        reply = stop_capture(now, status);
    } else if (command == "camera.listFiles") {
        reply = list_files(parameters, status);
    } else if (command == "camera.delete") {
        reply = delete_files(parameters, status);
    } else {
        status = 400;
        reply = {{"name", command},
                 {"state", "error"},
                 {"error", {{"code", "unknownCommand"},
                            {"message", fmt::format("Command {} is not supported.", command)}}}};
    }
    return json_reply(status, reply);
}

http_reply camera::handle_status(const http_request& request) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    std::string id;
    if (body.is_object() && body.contains("id") && body["id"].is_string()) {
        id = body["id"].get<std::string>();
    }
    const auto it = commands_.find(id);
    if (it == commands_.end()) {
        return json_reply(400, {{"state", "error"},
                                {"error", {{"code", "invalidParameterValue"},
                                           {"message",
                                            fmt::format("Parameter id {} doesn't exist.", id)}}}});
    }
    return json_reply(200, command_progress(id, it->second, request.arrival_us));
}

}  // namespace oscrig::sim
