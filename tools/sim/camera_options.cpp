// camera.getOptions and camera.setOptions of a simulated camera, with each model's Support lists.
#include "tools/sim/camera.hpp"

#include "tools/sim/clock.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <ctime>

namespace oscrig::sim {
namespace {

/// Support lists of the Insta360 ONE X2, as its OSC documentation lists them.
const nlohmann::json& insta360_support() {
    static const nlohmann::json support = {
        {"isoSupport",
         {0, 100, 125, 160, 200, 250, 320, 400, 500, 640, 800, 1000, 1250, 1600, 2000, 2500,
          3200}},
        {"shutterSpeedSupport",
         {0,        120,      100,      80,       60,       50,       40,       30,      15,
          8,        2,        1,        0.5,      0.2,      0.1,      0.06666,  0.03333, 0.02,
          0.01666,  0.01,     0.00833,  0.002,    0.001,    0.0005,   0.00025,  0.000125}},
        {"hdrSupport", {"off", "hdr"}},
        {"photoStitchingSupport", {"none", "ondevice"}},
        {"captureIntervalSupport", {{"minInterval", 3}, {"maxInterval", 120}}},
        {"captureModeSupport", {"image", "video"}},
        {"_videoTypeSupport", {"normal", "timelapse"}},
        {"_timelapseResolutionSupport", {"5.7K", "8K"}},
        {"_timelapseIntervalSupport", {0.2, 0.5, 1, 2, 4, 10, 30, 60, 120}},
        {"exposureProgramSupport", {1, 2, 4, 9}},
        {"exposureDelaySupport", {0, 3, 5, 10, 15}},
        {"whiteBalanceSupport",
         {"auto", "incandescent", "fluorescent", "daylight", "cloudy-daylight"}},
    };
    return support;
}

/// Support lists of the RICOH THETA Z1 for the options the simulator models.
const nlohmann::json& theta_support() {
    static const nlohmann::json support = {
        {"captureModeSupport", {"image", "video"}},
        {"isoSupport", {0, 80, 100, 125, 160, 200, 250, 320, 400, 500, 640, 800, 1000, 1250,
                        1600, 2000, 2500, 3200, 4000, 5000, 6400}},
        {"shutterSpeedSupport", {0, 0.00004, 0.000125, 0.00025, 0.0005, 0.001, 0.002, 0.004,
                                 0.008, 0.01666, 0.03333, 0.06666, 0.125, 0.25, 0.5, 1, 2, 4, 8,
                                 15, 30, 60}},
        {"exposureProgramSupport", {1, 2, 3, 4, 9}},
        {"whiteBalanceSupport",
         {"auto", "daylight", "shade", "cloudy-daylight", "incandescent", "_warmWhiteFluorescent",
          "_dayLightFluorescent", "_dayWhiteFluorescent", "fluorescent", "_bulbFluorescent"}},
        {"_filterSupport", {"off", "DR Comp", "Noise Reduction", "hdr", "Hh hdr"}},
        {"exposureDelaySupport", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
        {"sleepDelaySupport", {60, 120, 180, 300, 600, 1800, 65535}},
        {"offDelaySupport", {300, 600, 1200, 1800, 3600, 65535}},
        {"fileFormatSupport",
         {{{"type", "jpeg"}, {"width", 6720}, {"height", 3360}},
          {{"type", "mp4"}, {"width", 3840}, {"height", 1920}, {"_codec", "H.264/MPEG-4 AVC"}}}},
    };
    return support;
}

/// Returns whether `value` is in `list`. Numbers compare with a relative tolerance of 1e-6, so
/// that a client's 0.001000 matches the listed 0.001.
bool in_list(const nlohmann::json& list, const nlohmann::json& value) {
    for (const auto& item : list) {
        if (item.is_number() && value.is_number()) {
            const double a = item.get<double>();
            const double b = value.get<double>();
            if (std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(a))) {
                return true;
            }
        } else if (item == value) {
            return true;
        }
    }
    return false;
}

/// Options whose value Insta360 wraps in an object of the same name.
bool wrapped_option(std::string_view name) {
    return name == "_MuteEnable" || name == "_topBottomCorrection";
}

}  // namespace

std::optional<nlohmann::json> camera::option_value(const std::string& name,
                                                   std::int64_t now_us) const {
    const bool theta = params_.flavour == flavour::theta;
    const nlohmann::json& support = theta ? theta_support() : insta360_support();
    if (support.contains(name)) {
        return support[name];
    }
    if (name == "totalSpace") {
        return params_.total_space;
    }
    if (name == "remainingSpace") {
        return card_full() ? 0 : params_.remaining_space;
    }
    if (theta) {
        if (name == "remainingPictures") {
            return card_full() ? 0 : params_.remaining_space / std::max<std::uint64_t>(1, params_.photo_bytes);
        }
        if (name == "remainingVideoSeconds") {
            return params_.remaining_space /
                   std::max<std::uint64_t>(1, params_.video_bytes_per_second);
        }
        if (name == "dateTimeZone") {
            return camera_date_time(now_us, true);
        }
        if (name == "clientVersion") {
            return api_version_;
        }
    } else {
        if (name == "_batteryCapacity") {
            return nlohmann::json{{"powerType", params_.charging ? 1 : 0},
                                  {"powerLevel", static_cast<int>(battery_percent(now_us))}};
        }
        if (name == "_sysTimestamp") {
            return camera_clock_us(now_us);
        }
        if (name == "_dateTime") {
            return camera_date_time(now_us, false);
        }
        if (wrapped_option(name) && options_.contains(name)) {
            return nlohmann::json{{name, options_[name]}};
        }
    }
    if (options_.contains(name)) {
        return options_[name];
    }
    return std::nullopt;
}

std::optional<std::string> camera::validate_option(const std::string& name,
                                                   const nlohmann::json& value) const {
    const bool theta = params_.flavour == flavour::theta;
    const nlohmann::json& support = theta ? theta_support() : insta360_support();
    const std::string support_name = name + "Support";

    if (!theta && name == "_dateTime") {
        std::tm parts{};
        const std::string text = value.is_string() ? value.get<std::string>() : "";
        const char* end = strptime(text.c_str(), "%Y:%m:%d %H:%M:%S", &parts);
        return end != nullptr && *end == '\0' ? std::nullopt
                                              : std::optional<std::string>("invalidParameterValue");
    }
    if (theta && name == "clientVersion") {
        return value == 1 || value == 2 ? std::nullopt
                                        : std::optional<std::string>("invalidParameterValue");
    }
    if (theta && name == "dateTimeZone") {
        return value.is_string() && value.get<std::string>().size() == 25
                   ? std::nullopt
                   : std::optional<std::string>("invalidParameterValue");
    }
    if (!theta && wrapped_option(name)) {
        const nlohmann::json plain =
            value.is_object() && value.contains(name) ? value[name] : value;
        return plain == 0 || plain == 1 ? std::nullopt
                                        : std::optional<std::string>("invalidParameterValue");
    }
    if (!theta && name == "captureInterval") {
        // The vendor lists the range in seconds and the current value in milliseconds.
        if (!value.is_number()) {
            return "invalidParameterValue";
        }
        const double v = value.get<double>();
        const bool seconds = v >= 3 && v <= 120;
        const bool milliseconds = v >= 3000 && v <= 120000;
        return seconds || milliseconds ? std::nullopt
                                       : std::optional<std::string>("invalidParameterValue");
    }
    if (!options_.contains(name) || !support.contains(support_name)) {
        return "invalidParameterName";
    }
    return in_list(support[support_name], value)
               ? std::nullopt
               : std::optional<std::string>("invalidParameterValue");
}

nlohmann::json camera::get_options(const nlohmann::json& parameters, std::int64_t now_us,
                                   int& status) {
    const std::string_view command = "camera.getOptions";
    if (!parameters.is_object() || !parameters.contains("optionNames") ||
        !parameters["optionNames"].is_array()) {
        status = 400;
        return {{"name", command},
                {"state", "error"},
                {"error", {{"code", "missingParameter"},
                           {"message", "Parameter optionNames is missing."}}}};
    }
    nlohmann::json options = nlohmann::json::object();
    for (const auto& item : parameters["optionNames"]) {
        const std::string option = item.is_string() ? item.get<std::string>() : item.dump();
        auto value = option_value(option, now_us);
        if (!value) {
            status = 400;
            // Insta360 firmware sends this code with a trailing space; RICOH without.
            const bool theta = params_.flavour == flavour::theta;
            return {{"name", command},
                    {"state", "error"},
                    {"error", {{"code", theta ? "invalidParameterName" : "invalidParameterName "},
                               {"message", theta ? fmt::format("{} is not supported.", option)
                                                 : std::string("parameter is not supported.")}}}};
        }
        options[option] = std::move(*value);
    }
    return {{"name", command}, {"state", "done"}, {"results", {{"options", options}}}};
}

nlohmann::json camera::set_options(const nlohmann::json& parameters, std::int64_t now_us,
                                   int& status) {
    const bool theta = params_.flavour == flavour::theta;
    if (!parameters.is_object() || !parameters.contains("options") ||
        !parameters["options"].is_object()) {
        status = 400;
        return {{"error", {{"code", "missingParameter"},
                           {"message", "Parameter options is missing."}}}};
    }
    const nlohmann::json& options = parameters["options"];

    // Validate every option first, so a rejected call changes nothing.
    for (const auto& [option, value] : options.items()) {
        if (const auto code = validate_option(option, value)) {
            status = 400;
            const std::string message =
                *code == "invalidParameterName"
                    ? fmt::format("Parameter options contains unsupported option {}.", option)
                    : fmt::format("Parameter options contains invalid value {} for option {}.",
                                  value.dump(), option);
            nlohmann::json reply = {{"error", {{"code", *code}, {"message", message}}}};
            if (theta) {
                reply["name"] = "camera.setOptions";
                reply["state"] = "error";
            }
            return reply;
        }
    }

    for (const auto& [option, value] : options.items()) {
        if (option == "_dateTime" || option == "dateTimeZone") {
            std::tm parts{};
            strptime(value.get<std::string>().c_str(), "%Y:%m:%d %H:%M:%S", &parts);
            const std::int64_t camera_wall = static_cast<std::int64_t>(timegm(&parts)) * 1'000'000;
            const std::int64_t host_wall = now_us + (wall_now_us() - monotonic_now_us());
            date_time_offset_us_ = camera_wall - host_wall;
            if (option == "dateTimeZone") {
                // validate_option() checked the length: 19 characters of time, then the offset.
                time_zone_ = value.get<std::string>().substr(19);
            }
            continue;
        }
        if (option == "clientVersion") {
            api_version_ = value.get<int>();
            continue;
        }
        if (option == "captureMode") {
            // Any captureMode wakes a sleeping camera; a real change starts THETA's mode switch.
            asleep_ = false;
            if (theta && options_[option] != value) {
                capture_mode_changed_us_ = now_us;
            }
        }
        if (wrapped_option(option) && value.is_object()) {
            options_[option] = value[option];
        } else {
            options_[option] = value;
        }
    }
    spdlog::debug("[{}] options set: {}", name(), options.dump());
    return {{"name", "camera.setOptions"}, {"state", "done"}};
}

}  // namespace oscrig::sim
