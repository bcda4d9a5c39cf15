#include "controller/session_logic.hpp"

#include <algorithm>

namespace oscrig::controller {

request_kind kind_of_command(std::string_view command) {
    if (command == "camera.getOptions" || command == "camera.listFiles") {
        return request_kind::read_command;
    }
    if (command == "camera.setOptions") {
        return request_kind::set_options;
    }
    if (command == "camera.takePicture" || command == "camera.startCapture") {
        return request_kind::capture;
    }
    if (command == "camera.stopCapture") {
        return request_kind::stop_capture;
    }
    return request_kind::other_command;
}

bool is_idempotent(request_kind kind) {
    switch (kind) {
        case request_kind::info:
        case request_kind::state:
        case request_kind::status:
        case request_kind::read_command:
        case request_kind::set_options:
            return true;
        case request_kind::capture:
        case request_kind::stop_capture:
        case request_kind::other_command:
            return false;
    }
    return false;
}

bool is_transient(const failure& error, std::string_view camera_error_code) {
    if (camera_error_code == "serverError" || camera_error_code == "serviceUnavailable") {
        return true;
    }
    if (!camera_error_code.empty()) {
        return false;
    }
    const auto& code = error.code;
    if (code == errc::timed_out || code == errc::connection_closed || code == errc::empty_body ||
        code == errc::malformed_reply) {
        return true;
    }
    // parse_* report an HTTP error without an OSC body as http_status with "HTTP NNN" in the
    // detail; only 5xx is worth repeating.
    if (code == errc::http_status) {
        return error.detail.rfind("HTTP 5", 0) == 0;
    }
    // Socket errors such as connection refused: the camera may be rebooting.
    return code.category() != oscrig_category();
}

session_logic::session_logic(retry_policy policy) : policy_(policy) {}

decision session_logic::decide(const attempt& result) const {
    if (!result.error) {
        decision ok;
        ok.state = camera_state::ready;
        return ok;
    }
    return decide_failure(result);
}

decision session_logic::decide_failure(const attempt& result) const {
    const failure& error = *result.error;
    decision next;
    next.reason = error.to_string();

    if (error.code == errc::unactivated) {
        // Retrying cannot help: only the vendor app activates a camera.
        next.state = camera_state::needs_activation;
        next.reason = std::string(activation_message);
        return next;
    }
    if (error.code == errc::cancelled) {
        return next;
    }
    if (error.code == errc::auth_failed || error.code == errc::interface_unusable) {
        next.state = camera_state::error;
        return next;
    }

    if (error.code == errc::disabled_command) {
        // The camera dropped out of the capture mode, for example into standby. Setting the
        // mode again wakes it; after max_disabled_attempts the camera is reported.
        if (result.kind == request_kind::capture && result.number < policy_.max_disabled_attempts) {
            next.step = next_step::reapply_capture_mode;
            next.delay = backoff(result.number);
            next.state = camera_state::busy;
            return next;
        }
        next.state = camera_state::error;
        return next;
    }

    const bool reachable_error = error.code != errc::timed_out &&
                                 error.code != errc::connection_closed &&
                                 error.code.category() == oscrig_category();
    if (is_idempotent(result.kind) && is_transient(error, result.camera_error_code) &&
        result.number < policy_.max_read_attempts) {
        next.step = next_step::retry;
        next.delay = backoff(result.number);
        return next;
    }
    // Captures, stops and deletes are never sent again blindly: the first one may have
    // reached the camera and taken a picture.
    next.state = reachable_error ? camera_state::error : camera_state::unreachable;
    return next;
}

std::chrono::milliseconds session_logic::backoff(int failed_attempts) const {
    auto delay = policy_.first_backoff;
    for (int i = 1; i < failed_attempts && delay < policy_.max_backoff; ++i) {
        delay *= 2;
    }
    return std::min(delay, policy_.max_backoff);
}

request_gate::request_gate(std::chrono::milliseconds interval) : interval_(interval) {}

request_gate::clock::duration request_gate::wait_at(clock::time_point now) const {
    if (!last_) {
        return clock::duration::zero();
    }
    const auto next_allowed = *last_ + interval_;
    if (now >= next_allowed) {
        return clock::duration::zero();
    }
    return next_allowed - now;
}

void request_gate::record(clock::time_point now) {
    last_ = now;
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_option_names(
    const std::vector<std::string>& names) {
    if (names.size() < 2) {
        return {names, {}};
    }
    const auto middle = names.begin() + static_cast<std::ptrdiff_t>(names.size() / 2);
    return {std::vector<std::string>(names.begin(), middle),
            std::vector<std::string>(middle, names.end())};
}

}  // namespace oscrig::controller
