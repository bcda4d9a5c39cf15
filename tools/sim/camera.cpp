#include "tools/sim/camera.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace oscrig::sim {
namespace {

std::string_view path_of(std::string_view target) {
    const std::size_t query = target.find('?');
    return query == std::string_view::npos ? target : target.substr(0, query);
}

}  // namespace

std::optional<std::string> http_request::header(std::string_view lower_name) const {
    const auto it = headers.find(std::string(lower_name));
    if (it == headers.end()) {
        return std::nullopt;
    }
    return it->second;
}

camera::camera(camera_params params, std::size_t index, std::int64_t start_us,
               std::uint64_t seed)
    : params_(std::move(params)),
      index_(index),
      start_us_(start_us),
      random_(seed * 7'777'777 + index) {
    battery_reference_percent_ = params_.battery_level;
    battery_reference_us_ = start_us;
    last_command_us_ = start_us;
    video_pattern_ = make_video_pattern(params_.serial);
    if (!params_.user.empty()) {
        auth_.emplace(params_.model, params_.user, params_.password, random_());
    }
    if (params_.flavour == flavour::theta) {
        next_command_number_ = 2790;
        api_version_ = params_.api_version;
        options_ = {{"captureMode", "image"},  {"iso", 0},
                    {"shutterSpeed", 0},       {"exposureProgram", 2},
                    {"whiteBalance", "auto"},  {"_filter", "off"},
                    {"exposureDelay", 0},      {"sleepDelay", 65535},
                    {"offDelay", 65535},       {"fileFormat", {{"type", "jpeg"}, {"width", 6720},
                                                               {"height", 3360}}}};
    } else {
        next_command_number_ = 1990 + static_cast<int>(index * 100);
        options_ = {{"iso", 100},
                    {"shutterSpeed", 0.001},
                    {"hdr", "off"},
                    {"photoStitching", "none"},
                    {"captureInterval", 3000},
                    {"captureMode", "image"},
                    {"_videoType", "normal"},
                    {"_timelapseResolution", "5.7K"},
                    {"_timelapseInterval", 4},
                    {"exposureProgram", 2},
                    {"exposureDelay", 0},
                    {"_topBottomCorrection", 0},
                    {"whiteBalance", "auto"},
                    {"_MuteEnable", 0}};
    }
}

void camera::set_address(std::string host, std::uint16_t port) {
    host_ = std::move(host);
    port_ = port;
}

void camera::set_unreachable(bool value) {
    params_.faults.unreachable = value;
    if (!value) {
        // A camera that comes back behaves like one that was switched on again.
        info_read_ = false;
        state_read_ = false;
    }
}

std::int64_t camera::camera_clock_us(std::int64_t host_us) const {
    const double elapsed = static_cast<double>(host_us - start_us_);
    return *params_.clock_offset_us +
           static_cast<std::int64_t>(elapsed * (1.0 + params_.drift_ppm * 1e-6));
}

std::int64_t camera::sample_network_delay_us() {
    std::int64_t delay = params_.one_way_delay_us;
    if (params_.jitter_us > 0) {
        delay += static_cast<std::int64_t>(random_() % static_cast<std::uint64_t>(
                                                          params_.jitter_us + 1));
    }
    return delay;
}

void camera::request_finished() {
    if (in_flight_ > 0) {
        --in_flight_;
    }
}

void camera::count_violation(const std::string& kind) {
    ++violation_counts_[kind];
    spdlog::debug("[{}] protocol violation: {}", name(), kind);
}

http_reply camera::json_reply(int status, const nlohmann::json& body) {
    http_reply reply;
    reply.status = status;
    reply.headers.emplace_back("Content-Type", "application/json;charset=utf-8");
    reply.body = body.dump();
    return reply;
}

http_reply camera::handle(const http_request& request) {
    const std::string path(path_of(request.target));
    if (path.starts_with("/sim/")) {
        try {
            return handle_sim(request);
        } catch (const std::exception& e) {
            return json_reply(400, {{"error", e.what()}});
        }
    }

    // Everything below is a request a real camera would see.
    ++request_counts_["total"];
    if (in_flight_ > 0) {
        count_violation("concurrent_request");
    }
    ++in_flight_;

    http_reply reply;
    try {
        reply = route(request, path);
    } catch (const std::exception& e) {
        spdlog::error("[{}] {} {} failed: {}", name(), request.method, request.target, e.what());
        reply = http_reply{};
        reply.status = 500;
        reply.headers.emplace_back("Content-Type", "text/plain");
        reply.body = fmt::format("oscrig-sim failed: {}", e.what());
    }
    reply.delay_us += (static_cast<std::int64_t>(params_.reply_delay_ms) +
                       params_.faults.slow_reply_ms) * 1000;
    reply.counted_in_flight = true;
    return reply;
}

http_reply camera::route(const http_request& request, const std::string& path) {
    complete_due_commands(request.arrival_us);

    http_reply reply;
    if (params_.faults.http_500 > 0) {
        --params_.faults.http_500;
        reply.status = 500;
        reply.headers.emplace_back("Content-Type", "text/plain");
        reply.body = "Internal Server Error";
    } else if (auto refused = authenticate(request)) {
        reply = std::move(*refused);
    } else if (path.starts_with("/osc/")) {
        check_headers(request);
        ++request_counts_[path];
        if (path == "/osc/info" && request.method == "GET") {
            reply = handle_info(request);
        } else if (path == "/osc/state" && request.method == "POST") {
            reply = handle_state(request);
        } else if (path == "/osc/checkForUpdates" && request.method == "POST") {
            reply = handle_check_for_updates(request);
        } else if (path == "/osc/commands/execute" && request.method == "POST") {
            reply = handle_execute(request);
        } else if (path == "/osc/commands/status" && request.method == "POST") {
            reply = handle_status(request);
        } else {
            reply = json_reply(path == "/osc/info" || path == "/osc/state" ||
                                       path.starts_with("/osc/commands/") ||
                                       path == "/osc/checkForUpdates"
                                   ? 405
                                   : 404,
                               {{"error",
                                 {{"code", "unknownCommand"},
                                  {"message", fmt::format("{} {} is not supported.",
                                                          request.method, path)}}}});
        }
        apply_reply_faults(reply);
    } else {
        ++request_counts_["download"];
        reply = handle_file(request);
    }
    return reply;
}

void camera::check_headers(const http_request& request) {
    const auto accept = request.header("accept");
    if (!accept || accept->find("application/json") == std::string::npos) {
        count_violation("accept");
    }
    if (request.header("x-xsrf-protected") != "1") {
        count_violation("xsrf_protected");
    }
    if (request.method != "POST") {
        return;
    }
    auto content_type = request.header("content-type").value_or("");
    content_type.erase(std::remove(content_type.begin(), content_type.end(), ' '),
                       content_type.end());
    std::transform(content_type.begin(), content_type.end(), content_type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (content_type != "application/json;charset=utf-8") {
        count_violation("content_type");
    }
    if (!request.header("content-length")) {
        count_violation("content_length");
    }
}

std::optional<http_reply> camera::authenticate(const http_request& request) {
    if (!auth_) {
        return std::nullopt;
    }
    const auto verdict = auth_->check(request.method, request.target,
                                      request.header("authorization").value_or(""));
    if (verdict == digest_authenticator::verdict::accepted) {
        return std::nullopt;
    }
    if (verdict == digest_authenticator::verdict::rejected) {
        ++request_counts_["auth_rejected"];
        spdlog::info("[{}] digest authentication rejected for {} {}", name(), request.method,
                     request.target);
    }
    ++request_counts_["unauthorized"];
    http_reply reply;
    reply.status = 401;
    reply.headers.emplace_back("Content-Type", "text/plain");
    for (auto& challenge :
         auth_->challenges(verdict == digest_authenticator::verdict::stale_nonce)) {
        reply.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    }
    reply.body = "Unauthorized";
    return reply;
}

void camera::apply_reply_faults(http_reply& reply) {
    fault_settings& faults = params_.faults;
    if (faults.empty_body > 0) {
        --faults.empty_body;
        reply.body.clear();
    } else if (faults.malformed_json > 0) {
        --faults.malformed_json;
        // Cut inside the JSON text and add a stray byte, so no parser accepts it.
        reply.body = reply.body.substr(0, reply.body.size() / 2) + "\x01}";
    }
    if (faults.drop_mid_reply > 0) {
        --faults.drop_mid_reply;
        reply.cut_mid_reply = true;
    }
}

http_reply camera::handle_file(const http_request& request) {
    const std::string path(path_of(request.target));
    const auto it = std::find_if(files_.begin(), files_.end(),
                                 [&](const stored_file& f) { return f.path == path; });
    if (request.method != "GET" && request.method != "HEAD") {
        return json_reply(405, {{"error", {{"code", "unknownCommand"},
                                           {"message", "Files are only served with GET."}}}});
    }
    if (it == files_.end()) {
        http_reply reply;
        reply.status = 404;
        reply.headers.emplace_back("Content-Type", "text/plain");
        reply.body = fmt::format("No file at {}", path);
        return reply;
    }

    http_reply reply;
    const std::uint64_t size = it->content->size();
    reply.file = it->content;
    reply.file_begin = 0;
    reply.file_end = size;
    reply.headers.emplace_back("Content-Type", it->video ? "video/mp4" : "image/jpeg");
    reply.headers.emplace_back("Accept-Ranges", "bytes");

    // Only the open-ended form "bytes=N-" that resuming clients send is supported; other
    // range forms get the whole file, which RFC 9110 allows.
    if (const auto range = request.header("range"); range && range->starts_with("bytes=")) {
        const std::string spec = range->substr(6);
        const std::size_t dash = spec.find('-');
        if (dash != std::string::npos && dash > 0 && dash + 1 == spec.size()) {
            std::uint64_t begin = 0;
            try {
                begin = std::stoull(spec.substr(0, dash));
            } catch (const std::logic_error&) {
                begin = size + 1;
            }
            if (begin >= size) {
                http_reply unsatisfiable;
                unsatisfiable.status = 416;
                unsatisfiable.headers.emplace_back("Content-Range",
                                                   fmt::format("bytes */{}", size));
                return unsatisfiable;
            }
            reply.status = 206;
            reply.file_begin = begin;
            reply.headers.emplace_back("Content-Range",
                                       fmt::format("bytes {}-{}/{}", begin, size - 1, size));
        }
    }
    if (request.method == "HEAD") {
        reply.file_end = reply.file_begin;
        reply.headers.emplace_back("Content-Length", std::to_string(size - reply.file_begin));
    }
    if (params_.faults.drop_mid_download_at > 0 &&
        params_.faults.drop_mid_download_at > reply.file_begin &&
        params_.faults.drop_mid_download_at < reply.file_end) {
        reply.cut_file_at = params_.faults.drop_mid_download_at;
    }
    return reply;
}

namespace {

/// Checks every key and value type of a /sim/set body before any of it is applied.
void check_settings(const nlohmann::json& body) {
    enum class kind { number, count, boolean, text };
    static const std::map<std::string, kind> kinds = {
        {"battery_level", kind::number},         {"charging", kind::boolean},
        {"battery_drain_per_minute", kind::number}, {"card_state", kind::text},
        {"remaining_space", kind::count},        {"total_space", kind::count},
        {"capture_time_ms", kind::count},        {"reply_delay_ms", kind::count},
        {"one_way_delay_us", kind::count},       {"jitter_us", kind::count},
        {"photo_bytes", kind::count},            {"video_bytes", kind::count},
    };
    if (!body.is_object()) {
        throw std::invalid_argument("expected a JSON object of setting name to value");
    }
    for (const auto& [key, value] : body.items()) {
        const auto expected = kinds.find(key);
        if (expected == kinds.end()) {
            throw std::invalid_argument(fmt::format("unknown setting \"{}\"", key));
        }
        bool fits = false;
        std::string_view expected_text;
        switch (expected->second) {
            case kind::number:
                fits = value.is_number();
                expected_text = "a number";
                break;
            case kind::count:
                fits = value.is_number_unsigned();
                expected_text = "an integer of at least 0";
                break;
            case kind::boolean:
                fits = value.is_boolean();
                expected_text = "true or false";
                break;
            case kind::text:
                fits = value.is_string();
                expected_text = "a string";
                break;
        }
        if (!fits) {
            throw std::invalid_argument(fmt::format("invalid value {} for setting {}: expected {}",
                                                    value.dump(), key, expected_text));
        }
    }
}

}  // namespace

http_reply camera::handle_sim(const http_request& request) {
    const std::string path(path_of(request.target));
    const nlohmann::json body =
        request.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(request.body);

    if (path == "/sim/stats" && request.method == "GET") {
        nlohmann::json violations = nlohmann::json::object();
        std::uint64_t total = 0;
        for (const auto& [kind, count] : violation_counts_) {
            violations[kind] = count;
            total += count;
        }
        return json_reply(200, {{"camera", name()},
                                {"port", port_},
                                {"requests", request_counts_},
                                {"violations", violations},
                                {"violations_total", total},
                                {"connections", connections_},
                                {"files", files_.size()}});
    }
    if (path == "/sim/arrivals" && request.method == "GET") {
        nlohmann::json arrivals = nlohmann::json::array();
        for (const auto& arrival : arrivals_) {
            arrivals.push_back(arrival);
        }
        return json_reply(200, {{"camera", name()}, {"arrivals", arrivals}});
    }
    if (path == "/sim/faults") {
        if (request.method == "POST") {
            if (!body.is_object()) {
                throw std::invalid_argument("expected a JSON object of fault name to value");
            }
            fault_settings updated = params_.faults;
            for (const auto& [fault, value] : body.items()) {
                updated.set(fault, value);
            }
            params_.faults = updated;
            spdlog::info("[{}] faults set: {}", name(), body.dump());
        }
        return json_reply(200, params_.faults.to_json());
    }
    if (path == "/sim/set" && request.method == "POST") {
        check_settings(body);
        const std::int64_t now = request.arrival_us;
        for (const auto& [key, value] : body.items()) {
            if (key == "battery_level") {
                battery_reference_percent_ = value.get<double>();
                battery_reference_us_ = now;
            } else if (key == "charging") {
                battery_reference_percent_ = battery_percent(now);
                battery_reference_us_ = now;
                params_.charging = value.get<bool>();
            } else if (key == "battery_drain_per_minute") {
                battery_reference_percent_ = battery_percent(now);
                battery_reference_us_ = now;
                params_.battery_drain_per_minute = value.get<double>();
            } else if (key == "card_state") {
                params_.card_state = value.get<std::string>();
            } else if (key == "remaining_space") {
                params_.remaining_space = value.get<std::uint64_t>();
            } else if (key == "total_space") {
                params_.total_space = value.get<std::uint64_t>();
            } else if (key == "capture_time_ms") {
                params_.capture_time_ms = value.get<int>();
            } else if (key == "reply_delay_ms") {
                params_.reply_delay_ms = value.get<int>();
            } else if (key == "one_way_delay_us") {
                params_.one_way_delay_us = value.get<std::int64_t>();
            } else if (key == "jitter_us") {
                params_.jitter_us = value.get<std::int64_t>();
            } else if (key == "photo_bytes") {
                params_.photo_bytes = value.get<std::uint64_t>();
            } else if (key == "video_bytes") {
                params_.video_bytes = value.get<std::uint64_t>();
            } else {
                throw std::invalid_argument(fmt::format("unknown setting \"{}\"", key));
            }
        }
        spdlog::info("[{}] state set: {}", name(), body.dump());
        return json_reply(200, {{"battery_level", battery_percent(now)},
                                {"charging", params_.charging},
                                {"card_state", card_state()},
                                {"remaining_space", params_.remaining_space},
                                {"total_space", params_.total_space}});
    }
    if (path == "/sim/reset-stats" && request.method == "POST") {
        request_counts_.clear();
        violation_counts_.clear();
        connections_ = 0;
        arrivals_.clear();
        return json_reply(200, {{"camera", name()}, {"reset", true}});
    }
    return json_reply(404, {{"error", fmt::format("no simulator endpoint {} {}", request.method,
                                                  path)}});
}

}  // namespace oscrig::sim
