// Capture, file listing and deletion commands of a simulated camera.
#include "tools/sim/camera.hpp"

#include "tools/sim/clock.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

namespace oscrig::sim {
namespace {

// Maximum number of takePicture commands kept for /osc/commands/status. Status requests for
// older ids fail with invalidParameterValue.
constexpr std::size_t max_commands = 1000;

nlohmann::json error_reply(std::string_view command, std::string_view code,
                           std::string_view message) {
    return {{"name", command}, {"state", "error"}, {"error", {{"code", code}, {"message", message}}}};
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

/// Names that try to leave the download folder once a client joins them to a path.
const std::vector<std::string>& hostile_names() {
    static const std::vector<std::string> names = {
        "../../escape.jpg", "%2Fetc%2Foscrig-escape.jpg", "..%2F..%2Fescape.jpg", ""};
    return names;
}

}  // namespace

std::string camera::directory_path() const {
    if (params_.flavour == flavour::theta) {
        // THETA storage ids are 32 hex digits; this one is derived from the serial.
        std::uint64_t hash = 1469598103934665603ULL;
        for (const char c : params_.serial) {
            hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
        }
        return fmt::format("/files/{:016x}{:016x}/100RICOH/", hash, hash * 31 + 7);
    }
    return "/DCIM/Camera01/";
}

std::string camera::url_for(const std::string& path) const {
    return fmt::format("http://{}:{}{}", host_, port_, path);
}

std::string camera::camera_date_time(std::int64_t now_us, bool with_zone) const {
    const std::int64_t wall_us =
        now_us + (wall_now_us() - monotonic_now_us()) + date_time_offset_us_;
    const std::time_t seconds = static_cast<std::time_t>(wall_us / 1'000'000);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y:%m:%d %H:%M:%S", &parts);
    return with_zone ? std::string(text) + time_zone_ : std::string(text);
}

std::string camera::next_command_id() {
    const int number = next_command_number_++;
    return params_.flavour == flavour::theta ? std::to_string(number)
                                             : fmt::format("{:06}", number);
}

std::string camera::next_file_stem(std::int64_t now_us, bool video) {
    // "2026:01:04 14:22:00" becomes "20260104_142200".
    std::string stamp = camera_date_time(now_us, false);
    stamp.erase(std::remove(stamp.begin(), stamp.end(), ':'), stamp.end());
    std::replace(stamp.begin(), stamp.end(), ' ', '_');
    return fmt::format("{}_{}", video ? "VID" : "IMG", stamp);
}

void camera::add_file(stored_file file) {
    const std::uint64_t size = file.content->size();
    params_.remaining_space -= std::min(params_.remaining_space, size);
    files_.push_back(std::move(file));
}

std::vector<std::string> camera::store_photos(const command_record& record,
                                              std::int64_t now_us) {
    const int count = record.hdr_bracket ? 3 : 1;
    const std::string stem = next_file_stem(now_us, false);
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
        const int number = ++next_file_number_;
        const std::string file_name =
            params_.flavour == flavour::theta ? fmt::format("R{:07}.JPG", 10000 + number)
                                              : fmt::format("{}_00_{:03}.jpg", stem, number % 1000);
        stored_file file;
        file.name = file_name;
        file.path = directory_path() + file_name;
        file.width = params_.photo_width;
        file.height = params_.photo_height;
        file.date_time_zone = camera_date_time(now_us, true);
        file.content =
            make_photo(name(), params_.serial, file_name, number, params_.photo_bytes);
        paths.push_back(file.path);
        add_file(std::move(file));
    }
    return paths;
}

std::vector<std::string> camera::store_hostile_files(std::int64_t now_us) {
    std::vector<std::string> paths;
    for (const auto& hostile : hostile_names()) {
        stored_file file;
        file.name = hostile;
        file.path = directory_path() + hostile;
        file.width = params_.photo_width;
        file.height = params_.photo_height;
        file.date_time_zone = camera_date_time(now_us, true);
        file.content = make_photo(name(), params_.serial, hostile, 0, 0);
        paths.push_back(file.path);
        add_file(std::move(file));
    }
    spdlog::info("[{}] capture returns hostile file names", name());
    return paths;
}

std::vector<std::string> camera::store_videos(std::int64_t now_us) {
    const double seconds = static_cast<double>(now_us - *recording_since_us_) / 1e6;
    std::uint64_t bytes = params_.video_bytes;
    if (bytes == 0) {
        double played_seconds = seconds;
        if (options_.value("_videoType", "normal") == "timelapse") {
            // One frame per interval, played back at 30 frames per second.
            const double interval = std::max(0.001, options_.value("_timelapseInterval", 4.0));
            played_seconds = seconds / interval / 30.0;
        }
        bytes = static_cast<std::uint64_t>(played_seconds *
                                           static_cast<double>(params_.video_bytes_per_second));
    }

    std::vector<std::string> file_names;
    const int number = ++next_file_number_;
    if (params_.flavour == flavour::theta) {
        file_names.push_back(fmt::format("R{:07}.MP4", 10000 + number));
    } else {
        // One file per lens: 10 is the back lens, 00 the front, listed in that order.
        const std::string stem = next_file_stem(*recording_since_us_, true);
        file_names.push_back(fmt::format("{}_10_{:03}.mp4", stem, number % 1000));
        file_names.push_back(fmt::format("{}_00_{:03}.mp4", stem, number % 1000));
    }

    std::vector<std::string> paths;
    for (const auto& file_name : file_names) {
        stored_file file;
        file.name = file_name;
        file.path = directory_path() + file_name;
        file.video = true;
        file.width = params_.flavour == flavour::theta ? 3840 : 5760;
        file.height = params_.flavour == flavour::theta ? 1920 : 2880;
        file.date_time_zone = camera_date_time(now_us, true);
        file.content = make_video(name(), params_.serial, file_name, bytes, video_pattern_);
        paths.push_back(file.path);
        add_file(std::move(file));
    }
    return paths;
}

std::optional<nlohmann::json> camera::capture_blocked(std::string_view command,
                                                      std::int64_t now_us, int& status) {
    if (!info_read_ || !state_read_) {
        count_violation("capture_before_info_state");
    }
    const bool picture = command == "camera.takePicture";
    if (picture && is_capturing(now_us)) {
        count_violation("capture_in_progress");
        status = 400;
        return error_reply(command, "disabledCommand", "Camera is busy with another capture.");
    }
    if (params_.faults.unactivated && params_.flavour == flavour::insta360) {
        status = 400;
        return error_reply(command, "unactivated",
                           "Please activate your camera in insta360 official app.");
    }
    const std::string mode = options_.value("captureMode", "image");
    const char* required_mode = picture ? "image" : "video";
    if (asleep_ || mode != required_mode) {
        status = 400;
        return error_reply(command, "disabledCommand",
                           fmt::format("Currently camera is not working in {} mode", required_mode));
    }
    if (capture_mode_changed_us_ >= 0 &&
        now_us - capture_mode_changed_us_ < params_.capture_mode_wait_ms * 1000LL) {
        status = 400;
        return error_reply(command, "disabledCommand",
                           "Capture mode is still changing; retry in a second.");
    }
    if (card_state() != "pass") {
        status = 400;
        // NOTE: no vendor documents the error code for a full or missing card. The simulator's
        // own code "noFreeSpace" lets a client report the problem instead of retrying.
        return error_reply(command, "noFreeSpace",
                           fmt::format("Card state is {}: no picture can be stored.",
                                       card_state()));
    }
    return std::nullopt;
}

nlohmann::json camera::take_picture(std::int64_t now_us, int& status) {
    if (auto blocked = capture_blocked("camera.takePicture", now_us, status)) {
        return *blocked;
    }
    command_record record;
    record.name = "camera.takePicture";
    record.started_us = now_us;
    record.done_us = now_us + static_cast<std::int64_t>(params_.capture_time_ms) * 1000;
    record.hdr_bracket = params_.flavour == flavour::insta360 &&
                         options_.value("hdr", "off") == "hdr" &&
                         options_.value("photoStitching", "none") == "none";
    if (params_.faults.hostile_file_names > 0) {
        --params_.faults.hostile_file_names;
        record.hostile = true;
    }

    const std::string id = next_command_id();
    commands_[id] = record;
    command_order_.push_back(id);
    if (command_order_.size() > max_commands) {
        commands_.erase(command_order_.front());
        command_order_.pop_front();
    }
    spdlog::info("[{}] takePicture {} started", name(), id);
    return command_progress(id, commands_[id], now_us);
}

void camera::complete_due_commands(std::int64_t now_us) {
    if (params_.faults.stuck_in_progress) {
        return;
    }
    for (auto& [id, record] : commands_) {
        if (record.completed || record.done_us > now_us) {
            continue;
        }
        record.completed = true;
        std::vector<std::string> paths;
        if (record.hostile) {
            paths = store_hostile_files(record.done_us);
        }
        for (auto& path : store_photos(record, record.done_us)) {
            paths.push_back(std::move(path));
        }

        nlohmann::json results;
        if (params_.flavour == flavour::theta) {
            results["fileUrl"] = url_for(paths.front());
        } else {
            nlohmann::json urls = nlohmann::json::array();
            for (const auto& path : paths) {
                urls.push_back(url_for(path));
            }
            results["fileUrl"] = urls.front();
            results["_fileGroup"] = urls;
            results["_localFileGroup"] = paths;
        }
        record.final_reply = {{"name", record.name}, {"state", "done"}, {"results", results}};
        spdlog::info("[{}] takePicture {} done with {} files", name(), id, paths.size());
    }
}

nlohmann::json camera::command_progress(const std::string& id, const command_record& record,
                                        std::int64_t now_us) const {
    if (record.completed) {
        return record.final_reply;
    }
    const double span = static_cast<double>(std::max<std::int64_t>(1, record.done_us -
                                                                           record.started_us));
    double completion = static_cast<double>(now_us - record.started_us) / span;
    completion = std::clamp(std::floor(completion * 100) / 100, 0.0, 0.99);
    return {{"name", record.name},
            {"state", "inProgress"},
            {"id", id},
            {"progress", {{"completion", completion}}}};
}

nlohmann::json camera::start_capture(std::int64_t now_us, int& status) {
    if (auto blocked = capture_blocked("camera.startCapture", now_us, status)) {
        return *blocked;
    }
    if (recording_since_us_) {
        status = 400;
        return error_reply("camera.startCapture", "disabledCommand", "Camera is already recording.");
    }
    recording_since_us_ = now_us;
    spdlog::info("[{}] recording started", name());
    return {{"name", "camera.startCapture"}, {"state", "done"}};
}

nlohmann::json camera::stop_capture(std::int64_t now_us, int& status) {
    if (!recording_since_us_) {
        status = 400;
        return error_reply("camera.stopCapture", "disabledCommand", "Camera is not recording.");
    }
    std::vector<std::string> paths;
    if (params_.faults.hostile_file_names > 0) {
        --params_.faults.hostile_file_names;
        paths = store_hostile_files(now_us);
    }
    for (auto& path : store_videos(now_us)) {
        paths.push_back(std::move(path));
    }
    recording_since_us_.reset();

    nlohmann::json urls = nlohmann::json::array();
    for (const auto& path : paths) {
        urls.push_back(url_for(path));
    }
    nlohmann::json results = {{"fileUrls", urls}};
    if (params_.flavour == flavour::insta360) {
        results["_localFileUrls"] = paths;
    }
    spdlog::info("[{}] recording stopped with {} files", name(), paths.size());
    return {{"name", "camera.stopCapture"}, {"state", "done"}, {"results", results}};
}

nlohmann::json camera::list_files(const nlohmann::json& parameters, int& status) {
    const std::string_view command = "camera.listFiles";
    if (!parameters.is_object() || !parameters.contains("fileType") ||
        !parameters.contains("entryCount")) {
        status = 400;
        return error_reply(command, "missingParameter",
                           "Parameters fileType and entryCount are required.");
    }
    const nlohmann::json& type = parameters["fileType"];
    if (!type.is_string() || (type != "image" && type != "video" && type != "all")) {
        status = 400;
        return error_reply(command, "invalidParameterValue",
                           "Parameter fileType must be image, video or all.");
    }
    const nlohmann::json& count = parameters["entryCount"];
    const nlohmann::json start = parameters.value("startPosition", nlohmann::json(0));
    if (!count.is_number_integer() || count.get<long>() < 0 || !start.is_number_integer() ||
        start.get<long>() < 0) {
        status = 400;
        return error_reply(command, "invalidParameterValue",
                           "Parameters entryCount and startPosition must be integers >= 0.");
    }
    const bool thumbnails =
        parameters.contains("maxThumbSize") && !parameters["maxThumbSize"].is_null();

    std::vector<const stored_file*> matching;
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
        if (type == "all" || (type == "video") == it->video) {
            matching.push_back(&*it);
        }
    }
    nlohmann::json entries = nlohmann::json::array();
    const std::size_t first = static_cast<std::size_t>(start.get<long>());
    const std::size_t limit = static_cast<std::size_t>(count.get<long>());
    for (std::size_t i = first; i < matching.size() && entries.size() < limit; ++i) {
        const stored_file& file = *matching[i];
        nlohmann::json entry = {{"name", file.name},
                                {"fileUrl", url_for(file.path)},
                                {"size", file.content->size()},
                                {"width", file.width},
                                {"height", file.height},
                                {"dateTimeZone", file.date_time_zone},
                                {"isProcessed", true},
                                {"previewUrl", ""}};
        if (params_.flavour == flavour::insta360) {
            entry["_localFileUrl"] = file.path;
        }
        if (thumbnails) {
            const std::string thumbnail =
                encode_label_jpeg({name()}, fmt::format("oscrig-sim thumbnail {}", file.name));
            entry["thumbnail"] = base64(thumbnail);
            entry[params_.flavour == flavour::theta ? "_thumbSize" : "_thumbnailSize"] =
                thumbnail.size();
        }
        entries.push_back(std::move(entry));
    }
    return {{"name", command},
            {"state", "done"},
            {"results", {{"entries", entries}, {"totalEntries", matching.size()}}}};
}

nlohmann::json camera::delete_files(const nlohmann::json& parameters, int& status) {
    if (!parameters.is_object() || !parameters.contains("fileUrls") ||
        !parameters["fileUrls"].is_array()) {
        status = 400;
        return {{"error", {{"code", "missingParameter"},
                           {"message", "Parameter fileUrls is missing."}}}};
    }
    // Every URL is checked before anything is deleted: one unknown URL fails the whole call.
    std::set<std::string> doomed;
    for (const auto& item : parameters["fileUrls"]) {
        const std::string url = item.is_string() ? item.get<std::string>() : item.dump();
        if (url == "all" || url == "image" || url == "video") {
            for (const auto& file : files_) {
                if (url == "all" || (url == "video") == file.video) {
                    doomed.insert(file.path);
                }
            }
            continue;
        }
        std::string path = url;
        if (path.starts_with("http://")) {
            const std::size_t slash = path.find('/', 7);
            path = slash == std::string::npos ? "" : path.substr(slash);
        }
        const bool exists = std::any_of(files_.begin(), files_.end(),
                                        [&](const stored_file& f) { return f.path == path; });
        if (!exists) {
            status = 400;
            return {{"error", {{"code", "invalidParameterValue"},
                               {"message", fmt::format("Parameter {} doesn't exist.", url)}}}};
        }
        doomed.insert(path);
    }
    std::erase_if(files_, [&](const stored_file& file) {
        if (!doomed.contains(file.path)) {
            return false;
        }
        params_.remaining_space =
            std::min(params_.total_space, params_.remaining_space + file.content->size());
        return true;
    });
    spdlog::info("[{}] deleted {} files", name(), doomed.size());
    return {{"name", "camera.delete"},
            {"results", {{"fileUrls", nlohmann::json::array()}}},
            {"state", "done"}};
}

}  // namespace oscrig::sim
