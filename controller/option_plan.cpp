#include "controller/option_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

namespace oscrig::osc {
namespace {

using nlohmann::json;

// Relative tolerance for numeric option values. Cameras report shutter speeds such as 1/30 s
// as 0.03333, which is 1e-4 away from the exact value.
constexpr double numeric_tolerance = 1e-3;

bool numbers_match(double a, double b) {
    if (a == b) {
        return true;
    }
    double scale = std::max(std::fabs(a), std::fabs(b));
    return std::fabs(a - b) <= numeric_tolerance * scale;
}

bool values_match(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) {
        return numbers_match(a.get<double>(), b.get<double>());
    }
    return a == b;
}

std::string summarize(const json& value) {
    constexpr std::size_t max_length = 80;
    std::string text = value.dump();
    if (text.size() > max_length) {
        text.resize(max_length);
        text += "...";
    }
    return text;
}

// Outcome of looking a value up in an option's Support list.
struct support_check {
    std::optional<json> value;  // the list's own spelling of the value, when it may be sent
    std::string reason;         // why it may not, otherwise
};

// Checks a requested value against `<name>Support`. An option whose Support list is missing,
// empty or has a single entry cannot be set on this camera.
support_check check_supported(const camera_options& current, const std::string& name,
                              const json& requested) {
    json list = current.supported_values(name);
    std::string list_name = name + "Support";
    if (list.empty()) {
        return {std::nullopt, "camera did not report " + list_name};
    }
    if (list.size() == 1) {
        return {std::nullopt,
                list_name + " has one entry " + summarize(list) + ", so the option cannot be set"};
    }
    for (const auto& candidate : list) {
        if (values_match(candidate, requested)) {
            return {candidate, {}};
        }
    }
    return {std::nullopt, summarize(requested) + " is not in " + list_name + " " + summarize(list)};
}

bool list_contains(const camera_options& current, const std::string& name, const json& value) {
    json list = current.supported_values(name);
    if (list.size() < 2) {
        return false;
    }
    return std::any_of(list.begin(), list.end(),
                       [&](const json& candidate) { return values_match(candidate, value); });
}

class planner {
  public:
    planner(const config::capture_settings& settings, const camera_options& current,
            const camera_info& info)
        : settings_(settings), current_(current), info_(info) {}

    option_plan run() {
        plan_capture_mode();
        bool photo = !settings_.mode || *settings_.mode == config::capture_mode::photo;
        plan_photo_only("hdr", settings_.hdr.has_value(), photo, [&] { plan_hdr(); });
        plan_photo_only("photoStitching", settings_.photo_stitching.has_value(), photo,
                        [&] { plan_photo_stitching(); });
        plan_exposure();
        finish();
        return std::move(plan_);
    }

  private:
    void skip(std::string name, std::string reason) {
        plan_.skipped.push_back({std::move(name), std::move(reason)});
    }

    // Adds `name: requested` when the camera's Support list contains the value, and records
    // why not otherwise.
    void set_if_supported(const std::string& name, const json& requested) {
        auto check = check_supported(current_, name, requested);
        if (!check.value) {
            skip(name, check.reason);
            return;
        }
        plan_.options[name] = *check.value;
    }

    void plan_capture_mode() {
        if (!settings_.mode) {
            return;
        }
        switch (*settings_.mode) {
            case config::capture_mode::photo:
                set_capture_mode("image");
                break;
            case config::capture_mode::video:
                set_capture_mode("video");
                // Insta360 records a timelapse in video mode when _videoType was left on
                // timelapse, so a plain video sets it back to normal where the camera has it.
                if (plan_.mode_supported && list_contains(current_, "_videoType", "normal")) {
                    plan_.options["_videoType"] = "normal";
                }
                break;
            case config::capture_mode::timelapse:
                plan_timelapse();
                break;
        }
    }

    // Sets captureMode, checking captureModeSupport only when the camera reported it: Insta360
    // does not document captureModeSupport, yet accepts image and video. Unlike other options,
    // a one-entry list still allows its mode, since every camera has some capture mode.
    void set_capture_mode(const std::string& mode) {
        if (current_.values.contains("captureModeSupport")) {
            json list = current_.supported_values("captureMode");
            bool listed = std::find(list.begin(), list.end(), json(mode)) != list.end();
            if (!listed) {
                skip("captureMode",
                     summarize(json(mode)) + " is not in captureModeSupport " + summarize(list));
                plan_.mode_supported = false;
                return;
            }
        }
        plan_.options["captureMode"] = mode;
    }

    void plan_timelapse() {
        // RICOH THETA shoots timelapses as captureMode "interval" with captureInterval and
        // captureNumber, a different flow from startCapture/stopCapture on a video.
        if (!list_contains(current_, "_videoType", "timelapse")) {
            std::string reason = info_.is_ricoh()
                                     ? "timelapse on RICOH THETA needs captureMode interval, "
                                       "which oscrig does not drive"
                                     : "camera does not list timelapse in _videoTypeSupport";
            skip("captureMode", std::move(reason));
            plan_.mode_supported = false;
            return;
        }
        set_capture_mode("video");
        if (!plan_.mode_supported) {
            return;
        }
        plan_.options["_videoType"] = "timelapse";
        if (settings_.timelapse_interval) {
            plan_timelapse_interval(*settings_.timelapse_interval);
        }
    }

    // Picks the supported interval nearest to the request, in seconds.
    // NOTE: Insta360 documents _timelapseInterval both in milliseconds and in seconds. Its
    // examples and Support lists use seconds (0.2 to 120), which is what this assumes.
    void plan_timelapse_interval(double requested_seconds) {
        const std::string name = "_timelapseInterval";
        json list = current_.supported_values(name);
        std::optional<json> nearest;
        double nearest_distance = 0.0;
        for (const auto& candidate : list) {
            if (!candidate.is_number()) {
                continue;
            }
            double distance = std::fabs(candidate.get<double>() - requested_seconds);
            if (!nearest || distance < nearest_distance) {
                nearest = candidate;
                nearest_distance = distance;
            }
        }
        if (!nearest || list.size() < 2) {
            skip(name, "camera did not report a list of intervals in " + name + "Support");
            return;
        }
        plan_.options[name] = *nearest;
        if (!numbers_match(nearest->get<double>(), requested_seconds)) {
            plan_.adjusted.push_back({name, "requested " + summarize(json(requested_seconds)) +
                                                " s, nearest supported is " + summarize(*nearest) +
                                                " s"});
        }
    }

    template <class Plan>
    void plan_photo_only(const std::string& name, bool requested, bool photo, Plan plan) {
        if (!requested) {
            return;
        }
        if (!photo) {
            skip(name, "applies to photo mode only");
            return;
        }
        plan();
    }

    void plan_hdr() { set_if_supported("hdr", *settings_.hdr ? "hdr" : "off"); }

    // photoStitching is only sent when the camera can stitch: a Support list of just "none"
    // means the model has no on-device stitching, and Insta360 documents that the option must
    // then be left out.
    void plan_photo_stitching() {
        const std::string& requested = *settings_.photo_stitching;
        json list = current_.supported_values("photoStitching");
        bool can_stitch = std::any_of(list.begin(), list.end(), [](const json& value) {
            return value.is_string() && value.get<std::string>() != "none";
        });
        if (!can_stitch) {
            skip("photoStitching", "camera has no on-device stitching (photoStitchingSupport " +
                                       summarize(list) + ")");
            return;
        }
        set_if_supported("photoStitching", requested);
    }

    void plan_exposure() {
        // NOTE: Insta360 does not document exposureProgramSupport, so session_option_names()
        // does not request it and an exposure program is reported as skipped on Insta360.
        if (settings_.exposure_program) {
            set_if_supported("exposureProgram", *settings_.exposure_program);
        }
        if (settings_.iso) {
            set_if_supported("iso", *settings_.iso);
        }
        if (settings_.shutter_speed) {
            set_if_supported("shutterSpeed", *settings_.shutter_speed);
        }
        if (settings_.white_balance) {
            set_if_supported("whiteBalance", *settings_.white_balance);
        }
    }

    void finish() {
        auto planned = plan_.options.find("captureMode");
        if (planned == plan_.options.end()) {
            return;
        }
        auto current_mode = current_.values.find("captureMode");
        plan_.changes_capture_mode =
            current_mode == current_.values.end() || *current_mode != *planned;
    }

    const config::capture_settings& settings_;
    const camera_options& current_;
    const camera_info& info_;
    option_plan plan_;
};

std::string lower_case(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return result;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Returns the file name part of a URL, lowercased, without query or fragment.
std::string file_name_of(const std::string& url) {
    std::string_view path = url;
    auto query = path.find_first_of("?#");
    if (query != std::string_view::npos) {
        path = path.substr(0, query);
    }
    auto slash = path.rfind('/');
    if (slash != std::string_view::npos) {
        path = path.substr(slash + 1);
    }
    return lower_case(path);
}

}  // namespace

option_plan plan_options(const config::capture_settings& settings, const camera_options& current,
                         const camera_info& info) {
    return planner(settings, current, info).run();
}

std::vector<std::string> session_option_names(const camera_info& info) {
    std::vector<std::string> names = {
        "captureMode",  "exposureProgram",     "iso",          "isoSupport",
        "shutterSpeed", "shutterSpeedSupport", "whiteBalance", "whiteBalanceSupport",
        "totalSpace",   "remainingSpace",
    };
    if (info.is_insta360()) {
        // The names Insta360 documents for getOptions. It documents neither
        // captureModeSupport nor exposureProgramSupport, so those are not requested.
        for (const char* name :
             {"hdr", "hdrSupport", "photoStitching", "photoStitchingSupport", "_videoType",
              "_videoTypeSupport", "_timelapseInterval", "_timelapseIntervalSupport",
              "_batteryCapacity", "_sysTimestamp", "_dateTime"}) {
            names.emplace_back(name);
        }
        return names;
    }
    names.emplace_back("captureModeSupport");
    names.emplace_back("exposureProgramSupport");
    names.emplace_back("dateTimeZone");
    return names;
}

std::vector<std::string> health_option_names(const camera_info& info) {
    std::vector<std::string> names = {"captureMode", "totalSpace", "remainingSpace"};
    if (info.is_insta360()) {
        names.emplace_back("_batteryCapacity");
        names.emplace_back("_sysTimestamp");
    }
    return names;
}

std::vector<std::string> option_names(const json& options) {
    std::vector<std::string> names;
    if (!options.is_object()) {
        return names;
    }
    for (const auto& item : options.items()) {
        names.push_back(item.key());
    }
    return names;
}

std::vector<option_mismatch> verify_options(const json& sent, const camera_options& read_back) {
    std::vector<option_mismatch> mismatches;
    if (!sent.is_object()) {
        return mismatches;
    }
    for (const auto& [name, value] : sent.items()) {
        json reported;  // stays null when the option is missing from the reply
        if (read_back.values.is_object()) {
            auto it = read_back.values.find(name);
            if (it != read_back.values.end()) {
                reported = *it;
            }
        }
        if (!values_match(value, reported)) {
            mismatches.push_back({name, value, reported});
        }
    }
    return mismatches;
}

std::string to_string(const option_mismatch& mismatch) {
    if (mismatch.read_back.is_null()) {
        return mismatch.name + ": sent " + summarize(mismatch.sent) +
               ", camera did not report it when read back";
    }
    return mismatch.name + ": sent " + summarize(mismatch.sent) + ", camera reports " +
           summarize(mismatch.read_back);
}

std::vector<std::string> check_capture_files(const config::capture_settings& settings,
                                             const camera_info& info,
                                             const std::vector<std::string>& file_urls) {
    std::vector<std::string> warnings;
    if (file_urls.empty()) {
        warnings.emplace_back("camera returned no file URL for the capture");
        return warnings;
    }
    bool photo = !settings.mode || *settings.mode == config::capture_mode::photo;
    if (!photo) {
        return warnings;
    }

    // Some models add a RAW companion (.dng) to each image, which does not show whether
    // stitching happened.
    std::size_t images = 0;
    for (const auto& url : file_urls) {
        if (!ends_with(file_name_of(url), ".dng")) {
            ++images;
        }
    }

    bool hdr = settings.hdr.value_or(false);
    bool stitched = settings.photo_stitching.value_or("none") == "ondevice";
    if (stitched && images != 1) {
        std::string setting = hdr ? "HDR with on-device stitching" : "on-device stitching";
        warnings.push_back(setting + " should give one stitched image, camera returned " +
                           std::to_string(images) + ": stitching was probably not done");
    } else if (hdr && !stitched && info.is_insta360() && images != 3) {
        warnings.push_back(
            "HDR without on-device stitching on Insta360 gives three images, "
            "camera returned " +
            std::to_string(images) + ": HDR was probably not applied");
    }
    return warnings;
}

}  // namespace oscrig::osc
