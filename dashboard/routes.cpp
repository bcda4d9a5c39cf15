#include "dashboard/routes.hpp"

#include "dashboard/file_path.hpp"
#include "dashboard/fleet_json.hpp"
#include "dashboard/page.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>

namespace oscrig::dashboard {
namespace {

// Scripts and styles come only from this server, and data only goes back to it. Thumbnails
// are data: URLs.
constexpr std::string_view page_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

constexpr std::chrono::milliseconds max_shot_duration{24 * 3600 * 1000};

reply json_reply(unsigned status, const nlohmann::json& body) {
    reply result;
    result.status = status;
    result.body = json_text(body);
    return result;
}

reply text_reply(unsigned status, std::string body) {
    reply result;
    result.status = status;
    result.content_type = "text/plain; charset=utf-8";
    result.body = std::move(body);
    return result;
}

reply asset_reply(std::string_view content_type, std::string_view body) {
    reply result;
    result.content_type = content_type;
    result.body = body;
    result.headers.emplace_back("Content-Security-Policy", page_security_policy);
    result.headers.emplace_back("Cache-Control", "no-cache");
    return result;
}

reply method_not_allowed(std::string_view allowed) {
    reply result = error_reply(405, "method not allowed, use " + std::string(allowed));
    result.headers.emplace_back("Allow", allowed);
    return result;
}

std::string_view content_type_for(const std::filesystem::path& path) {
    std::string extension = path.extension().string();
    for (char& c : extension) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (extension == ".jpg" || extension == ".jpeg") {
        return "image/jpeg";
    }
    if (extension == ".mp4") {
        return "video/mp4";
    }
    if (extension == ".json") {
        return "application/json";
    }
    if (extension == ".dng") {
        return "image/x-adobe-dng";
    }
    return "application/octet-stream";
}

// Compares in time independent of where the first difference is, so that response times do
// not reveal a prefix of the token.
bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return difference == 0;
}

// True when a browser's Origin header names this server, or there is no Origin header (curl,
// scripts). Blocks other web pages from posting to the API through the user's browser.
bool is_same_origin(std::string_view origin, std::string_view host) {
    if (origin.empty()) {
        return true;
    }
    constexpr std::string_view scheme = "http://";
    return origin.starts_with(scheme) && origin.substr(scheme.size()) == host;
}

outcome<controller::shot_request> parse_shot_request(std::string_view body) {
    controller::shot_request request;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return request;  // an empty body requests a photo with the rig's settings
    }
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        return make_failure(errc::malformed_reply, "the body is not a JSON object");
    }
    for (const auto& [key, value] : json.items()) {
        if (key != "mode" && key != "duration_ms" && key != "sync") {
            return make_failure(errc::malformed_reply, "unknown field \"" + key + "\"");
        }
    }
    if (json.contains("mode")) {
        const auto& mode = json["mode"];
        const auto parsed = mode.is_string() ? parse_mode(mode.get<std::string>()) : std::nullopt;
        if (!parsed) {
            return make_failure(errc::malformed_reply,
                                "mode must be \"photo\", \"video\" or \"timelapse\"");
        }
        request.mode = *parsed;
    }
    if (json.contains("duration_ms")) {
        const auto& duration = json["duration_ms"];
        if (!duration.is_number_integer() || duration.get<std::int64_t>() <= 0 ||
            duration.get<std::int64_t>() > max_shot_duration.count()) {
            return make_failure(errc::malformed_reply,
                                "duration_ms must be an integer from 1 to 86400000");
        }
        if (request.mode == config::capture_mode::photo) {
            return make_failure(errc::malformed_reply,
                                "duration_ms applies to video and timelapse only");
        }
        request.duration = std::chrono::milliseconds(duration.get<std::int64_t>());
    }
    if (json.contains("sync")) {
        const auto& sync = json["sync"];
        if (sync == "staged") {
            request.sync = config::sync_method::staged;
        } else if (sync == "none") {
            request.sync = config::sync_method::none;
        } else {
            return make_failure(errc::malformed_reply, "sync must be \"staged\" or \"none\"");
        }
    }
    return request;
}

// Maps a failed shot control call to a status: not_ready means a shot is running (or no
// recording is), anything else means the fleet cannot take shots now.
reply control_failure(const failure& error) {
    const unsigned status = error.code == errc::not_ready ? 409 : 503;
    return error_reply(status, error.to_string());
}

}  // namespace

reply error_reply(unsigned status, std::string_view message) {
    return json_reply(status, {{"error", message}});
}

router::router(controller::fleet& fleet, fleet_metrics& metrics, route_settings settings)
    : fleet_(fleet), metrics_(metrics), settings_(std::move(settings)) {}

reply router::handle(const request_view& request) {
    std::string_view path = request.target.substr(0, request.target.find('?'));
    if (request.method == "GET") {
        return handle_get(path);
    }
    if (request.method == "POST") {
        return handle_post(path, request);
    }
    return method_not_allowed(path.starts_with("/api/shots") ? "GET, POST" : "GET");
}

reply router::handle_get(std::string_view path) {
    if (path == "/" || path == "/index.html") {
        return asset_reply("text/html; charset=utf-8", page_html());
    }
    if (path == "/page.css") {
        return asset_reply("text/css; charset=utf-8", page_css());
    }
    if (path == "/page.js") {
        return asset_reply("text/javascript; charset=utf-8", page_js());
    }
    if (path == "/-/healthy") {
        return text_reply(200, "oscrig is healthy\n");
    }
    if (path == "/-/ready") {
        return is_ready() ? text_reply(200, "oscrig is ready\n")
                          : text_reply(503, "oscrig is not ready: cameras are still connecting\n");
    }
    if (path == "/metrics") {
        metrics_.update();
        return reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}, {},
                     false};
    }
    if (path == "/events") {
        reply result;
        result.event_stream = true;
        return result;
    }
    if (path.starts_with("/api/")) {
        return handle_api_get(path);
    }
    if (path.starts_with("/files/")) {
        return find_file(path.substr(std::string_view("/files/").size()));
    }
    return error_reply(404, "not found: " + std::string(path));
}

reply router::handle_api_get(std::string_view path) {
    if (path == "/api/cameras") {
        nlohmann::json cameras = nlohmann::json::array();
        for (const auto& camera : fleet_.cameras()) {
            cameras.push_back(camera_json(camera, true));
        }
        return json_reply(200, {{"rig", fleet_.rig_name()}, {"cameras", std::move(cameras)}});
    }
    if (path == "/api/shots") {
        nlohmann::json shots = nlohmann::json::array();
        for (const auto& shot : fleet_.shots()) {
            shots.push_back(shot_summary_json(shot));
        }
        return json_reply(200, {{"shots", std::move(shots)}});
    }
    if (path.starts_with("/api/shots/")) {
        return find_shot(path.substr(std::string_view("/api/shots/").size()));
    }
    if (path == "/api/current-shot") {
        const auto shot = fleet_.current_shot();
        return shot ? json_reply(200, shot_summary_json(*shot))
                    : error_reply(404, "no shot is running");
    }
    if (path == "/api/recording/stop") {
        return method_not_allowed("POST");
    }
    return error_reply(404, "not found: " + std::string(path));
}

reply router::find_file(std::string_view relative) {
    const auto found = find_download(fleet_.output_dir(), relative);
    if (found.status == file_lookup::invalid_path) {
        return error_reply(400, "invalid file path, expected /files/SHOT_ID/CAMERA/NAME");
    }
    if (found.status == file_lookup::not_found) {
        return error_reply(404, "file not found");
    }
    reply result;
    result.content_type = content_type_for(found.path);
    result.file = found.path;
    return result;
}

reply router::handle_post(std::string_view path, const request_view& request) {
    const bool known = path == "/api/shots" || path == "/api/recording/stop";
    if (!known) {
        if (path.starts_with("/api/") || path == "/metrics" || path == "/events") {
            return method_not_allowed("GET");
        }
        return error_reply(404, "not found: " + std::string(path));
    }
    if (!is_authorized(request.authorization)) {
        reply result = error_reply(401, "missing or invalid bearer token in Authorization");
        result.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"oscrig\"");
        return result;
    }
    if (!is_same_origin(request.origin, request.host)) {
        return error_reply(403, "cross-origin request rejected: Origin " +
                                    std::string(request.origin) + " is not this server");
    }
    if (path == "/api/shots") {
        return start_shot(request.body);
    }
    return stop_recording();
}

reply router::start_shot(std::string_view body) {
    const auto request = parse_shot_request(body);
    if (!request) {
        return error_reply(400, "invalid shot request: " + request.error().detail);
    }
    const auto id = fleet_.start_shot(*request);
    if (!id) {
        return control_failure(id.error());
    }
    reply result = json_reply(202, {{"shot_id", *id}});
    result.headers.emplace_back("Location", "/api/shots/" + *id);
    return result;
}

reply router::stop_recording() {
    const auto id = fleet_.stop_recording();
    if (!id) {
        return control_failure(id.error());
    }
    return json_reply(200, {{"shot_id", *id}});
}

reply router::find_shot(std::string_view id) {
    const auto decoded = percent_decode(id);
    if (!decoded || decoded->empty()) {
        return error_reply(400, "invalid shot id");
    }
    if (const auto current = fleet_.current_shot(); current && current->shot_id == *decoded) {
        return json_reply(200, current->to_json());
    }
    for (const auto& shot : fleet_.shots()) {
        if (shot.shot_id == *decoded) {
            return json_reply(200, shot.to_json());
        }
    }
    return error_reply(404, "shot not found: " + *decoded);
}

bool router::is_authorized(std::string_view authorization) const {
    if (settings_.bearer_token.empty()) {
        return true;
    }
    constexpr std::string_view scheme = "Bearer ";
    if (!authorization.starts_with(scheme)) {
        return false;
    }
    return equal_constant_time(authorization.substr(scheme.size()), settings_.bearer_token);
}

bool router::is_ready() const {
    if (settings_.ready_check) {
        return settings_.ready_check();
    }
    for (const auto& camera : fleet_.cameras()) {
        if (camera.state == controller::camera_state::connecting) {
            return false;
        }
    }
    return true;
}

}  // namespace oscrig::dashboard
