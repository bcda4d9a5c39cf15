#include "controller/camera_session.hpp"

#include "controller/file_naming.hpp"
#include "controller/option_plan.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace oscrig::controller {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::string_view execute_target = "/osc/commands/execute";
constexpr std::string_view status_target = "/osc/commands/status";

/// Parses a reply body for the request record: JSON when it is JSON, the text otherwise.
json body_for_record(const std::string& body) {
    if (body.empty()) {
        return nullptr;
    }
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        return body;
    }
    return parsed;
}

/// Turns an OSC error reply into the failure callers see, keeping the camera's code and
/// message in the detail.
failure failure_of_reply(const osc::command_reply& reply, std::string_view command) {
    const std::string code = reply.error ? reply.error->code : std::string("unknown");
    const std::string message = reply.error ? reply.error->message : std::string();
    std::string detail = fmt::format("{} answered {}", command, code);
    if (!message.empty()) {
        detail += ": " + message;
    }
    return make_failure(osc::classify_camera_error(code), std::move(detail));
}

}  // namespace

session_settings settings_from_rig(const config::rig& rig) {
    session_settings settings;
    settings.timeouts = rig.timeouts;
    settings.status_poll_interval = rig.status_poll_interval;
    return settings;
}

camera_session::camera_session(asio::any_io_executor executor, config::camera_config camera,
                               session_settings settings)
    : executor_(executor),
      camera_(std::move(camera)),
      settings_(std::move(settings)),
      logic_(settings_.retries),
      client_(executor, camera_, settings_.timeouts),
      queue_(executor),
      info_gate_(settings_.info_state_interval),
      state_gate_(settings_.info_state_interval) {
    snapshot_.name = camera_.name;
    snapshot_.host = camera_.host;
    snapshot_.port = camera_.port;
    snapshot_.interface = camera_.interface;
}

asio::awaitable<outcome<void>> camera_session::start() {
    set_state(camera_state::connecting);
    spdlog::info("[{}] starting session with {}:{}", camera_.name, camera_.host, camera_.port);

    auto info = co_await fetch_info();
    if (!info) {
        co_return info.error();
    }
    auto state = co_await fetch_state();
    if (!state) {
        co_return state.error();
    }
    profile_ = osc::select_vendor_profile(*info);
    if (osc::needs_api_level_switch(profile_, *info, *state)) {
        auto switched = co_await switch_api_level();
        if (!switched) {
            co_return switched.error();
        }
    }

    std::vector<std::string> names = settings_.capability_options;
    if (names.empty()) {
        names = osc::session_option_names(*info);
    }
    auto options = co_await get_options(std::move(names));
    if (!options) {
        co_return options.error();
    }
    // Insta360 _dateTime carries no UTC offset, so oscrig leaves that clock alone: the trigger
    // and the reports use _sysTimestamp and the host clock instead.
    if (profile_.set_time_alone) {
        co_await set_camera_time();
    }

    const bool has_clock = profile_.has_sys_timestamp && options_ &&
                           options_->sys_timestamp_us().has_value();
    if (!has_clock) {
        // NOTE: choose_delay() estimates the one-way delay from clock samples only, so such a
        // camera is released with the rig's one_way_delay, or with none.
        note_vendor_step("no _sysTimestamp, so the clock model has no samples and the trigger "
                         "estimates no arrival on the camera clock");
    }
    for (int i = 0; has_clock && i < settings_.clock_burst; ++i) {
        auto sampled = co_await sample_clock();
        if (!sampled) {
            co_return sampled.error();
        }
    }

    set_state(camera_state::ready);
    spdlog::info("[{}] ready: {} {}, firmware {}, serial {}", camera_.name, info->manufacturer,
                 info->model, info->firmware_version, info->serial_number);
    co_return outcome<void>{};
}

template <class T, class Once>
asio::awaitable<outcome<T>> camera_session::with_read_retries(request_kind kind, std::string what,
                                                              Once& once) {
    for (int number = 1;; ++number) {
        if (cancelled_) {
            co_return make_failure(errc::cancelled, what);
        }
        outcome<T> result = co_await once();
        attempt tried;
        tried.kind = kind;
        tried.number = number;
        if (!result) {
            tried.error = result.error();
            tried.camera_error_code = last_error_code_;
        }
        const decision next = logic_.decide(tried);
        note_outcome(next);
        if (next.step == next_step::retry) {
            spdlog::info("[{}] retrying {} in {} ms: {}", camera_.name, what, next.delay.count(),
                         next.reason);
            co_await sleep(next.delay);
            continue;
        }
        if (!result) {
            spdlog::warn("[{}] {} failed: {}", camera_.name, what, result.error().to_string());
        }
        co_return result;
    }
}

asio::awaitable<outcome<osc::camera_info>> camera_session::fetch_info() {
    auto once = [this] { return fetch_info_once(); };
    co_return co_await with_read_retries<osc::camera_info>(request_kind::info,
                                                           std::string("GET /osc/info"), once);
}

asio::awaitable<outcome<osc::camera_info>> camera_session::fetch_info_once() {
    co_await wait_for_gate(info_gate_);
    http_request request;
    request.method = "GET";
    request.target = "/osc/info";
    request.timeout = settings_.timeouts.info_state;
    auto response = co_await exchange(std::move(request), {});
    if (!response) {
        co_return response.error();
    }
    auto info = osc::parse_info(response->status, response->body);
    if (info) {
        info_ = *info;
        snapshot_.manufacturer = info->manufacturer;
        snapshot_.model = info->model;
        snapshot_.serial_number = info->serial_number;
        snapshot_.firmware_version = info->firmware_version;
        changed();
    }
    co_return info;
}

asio::awaitable<outcome<osc::camera_state>> camera_session::fetch_state() {
    auto once = [this] { return fetch_state_once(); };
    co_return co_await with_read_retries<osc::camera_state>(request_kind::state,
                                                            std::string("POST /osc/state"), once);
}

asio::awaitable<outcome<osc::camera_state>> camera_session::fetch_state_once() {
    co_await wait_for_gate(state_gate_);
    http_request request;
    request.method = "POST";
    request.target = "/osc/state";
    request.timeout = settings_.timeouts.info_state;
    auto response = co_await exchange(std::move(request), {});
    if (!response) {
        co_return response.error();
    }
    auto state = osc::parse_state(response->status, response->body);
    if (state) {
        apply_state(*state);
    }
    co_return state;
}

// Not a coroutine itself: execute_command() owns copies of the arguments, so a caller may
// start it and await it later.
asio::awaitable<outcome<osc::command_reply>> camera_session::execute(std::string_view command,
                                                                     const json& parameters) {
    return execute_command(std::string(command), parameters);
}

asio::awaitable<outcome<osc::command_reply>> camera_session::execute_command(std::string command,
                                                                             json parameters) {
    const request_kind kind = kind_of_command(command);
    for (int number = 1;; ++number) {
        if (cancelled_) {
            co_return make_failure(errc::cancelled, std::string(command));
        }
        auto reply = co_await execute_once(command, parameters);
        attempt tried;
        tried.kind = kind;
        tried.number = number;
        if (!reply) {
            tried.error = reply.error();
        } else if (reply->state == osc::command_state::error) {
            tried.error = failure_of_reply(*reply, command);
            tried.camera_error_code = last_error_code_;
        }

        const decision next = logic_.decide(tried);
        note_outcome(next);
        if (next.step == next_step::retry) {
            spdlog::info("[{}] retrying {} in {} ms: {}", camera_.name, command,
                         next.delay.count(), next.reason);
            co_await sleep(next.delay);
            continue;
        }
        if (next.step == next_step::reapply_capture_mode) {
            spdlog::info("[{}] {} returned disabledCommand, setting the capture mode again "
                         "(attempt {} of {})",
                         camera_.name, command, number + 1, logic_.policy().max_disabled_attempts);
            auto reapplied = co_await reapply_capture_mode();
            if (!reapplied) {
                spdlog::warn("[{}] setting the capture mode again failed: {}", camera_.name,
                             reapplied.error().to_string());
            }
            co_await sleep(next.delay);
            continue;
        }
        if (tried.error) {
            spdlog::warn("[{}] {} failed: {}", camera_.name, command, tried.error->to_string());
            co_return *tried.error;
        }
        if (kind == request_kind::capture && snapshot_.state == camera_state::needs_activation) {
            set_state(camera_state::ready);
        }
        if (command == "camera.setOptions" && parameters.contains("options")) {
            // Remember the mode, so that a camera that fell out of it can be put back.
            const auto& options = parameters["options"];
            if (options.contains("captureMode")) {
                json mode = json::object();
                mode["captureMode"] = options["captureMode"];
                if (options.contains("_videoType")) {
                    mode["_videoType"] = options["_videoType"];
                }
                capture_mode_ = std::move(mode);
            }
        }
        co_return reply;
    }
}

asio::awaitable<outcome<osc::command_reply>> camera_session::execute_once(
    std::string_view command, const json& parameters) {
    last_error_code_.clear();
    http_request request;
    request.method = "POST";
    request.target = std::string(execute_target);
    request.body = osc::make_execute_body(command, parameters);
    request.timeout = settings_.timeouts.command;
    request.idempotent = is_idempotent(kind_of_command(command));
    auto response = co_await exchange(std::move(request), std::string(command));
    if (!response) {
        co_return response.error();
    }
    auto reply = osc::parse_command_reply(response->status, response->body);
    if (reply && reply->error) {
        last_error_code_ = reply->error->code;
    }
    co_return reply;
}

asio::awaitable<outcome<osc::command_reply>> camera_session::reapply_capture_mode() {
    json mode;
    if (capture_mode_) {
        mode = *capture_mode_;
    } else if (options_ && options_->values.contains("captureMode")) {
        mode = json{{"captureMode", options_->values["captureMode"]}};
    } else {
        co_return make_failure(errc::disabled_command,
                               "the capture mode to set again is not known");
    }
    const json parameters{{"options", mode}};
    auto reply = co_await execute_once(std::string_view{"camera.setOptions"}, parameters);
    if (reply && reply->state == osc::command_state::error) {
        co_return failure_of_reply(*reply, "camera.setOptions");
    }
    // The capture that follows fails again on a camera still switching modes (THETA).
    if (reply && profile_.capture_mode_settle.count() > 0) {
        note_vendor_step(fmt::format("waited {} ms after setting the capture mode again",
                                     profile_.capture_mode_settle.count()));
        co_await sleep(profile_.capture_mode_settle);
    }
    co_return reply;
}

asio::awaitable<outcome<void>> camera_session::switch_api_level() {
    const json parameters{{"options", {{"clientVersion", 2}}}};
    auto reply = co_await execute(std::string_view{"camera.setOptions"}, parameters);
    if (!reply) {
        failure error = reply.error();
        error.detail = "switching to OSC API level 2 failed: " + error.detail;
        co_return error;
    }
    auto state = co_await fetch_state();
    if (!state) {
        co_return state.error();
    }
    if (state->api_version != 2) {
        co_return make_failure(errc::unsupported,
                               fmt::format("the camera still runs OSC API level {} after "
                                           "setOptions clientVersion 2",
                                           state->api_version.value_or(0)));
    }
    note_vendor_step("switched from OSC API level 1 to 2 with setOptions clientVersion 2");
    co_return outcome<void>{};
}

asio::awaitable<void> camera_session::set_camera_time() {
    const auto now = std::chrono::system_clock::now();
    const std::string sent =
        osc::format_camera_time(profile_, now, osc::local_utc_offset(now));
    const std::string& option = profile_.time_option;

    json values = json::object();
    values[option] = sent;
    const json parameters{{"options", values}};
    auto reply = co_await execute(std::string_view{"camera.setOptions"}, parameters);
    if (!reply) {
        note_vendor_step(fmt::format("{} not set: {}", option, reply.error().to_string()));
        co_return;
    }

    std::vector<std::string> names{option};
    auto read_back = co_await get_options(std::move(names));
    if (!read_back) {
        note_vendor_step(fmt::format("{} set alone to {}, reading it back failed: {}", option,
                                     sent, read_back.error().to_string()));
        co_return;
    }
    const auto& read_values = read_back->values;
    const std::string returned = read_values.contains(option) && read_values[option].is_string()
                                     ? read_values[option].get<std::string>()
                                     : std::string();

    // Two seconds cover the set, the read back and a second boundary between them.
    if (auto problem = osc::compare_camera_time(sent, returned, std::chrono::seconds{2})) {
        note_vendor_step(fmt::format("{} set alone to {}, read back differs: {}", option, sent,
                                     *problem));
        co_return;
    }
    note_vendor_step(fmt::format("{} set alone to {} and read back", option, sent));
}

std::vector<std::string> camera_session::take_vendor_steps() {
    return std::exchange(vendor_steps_, {});
}

void camera_session::note_vendor_step(std::string step) {
    spdlog::info("[{}] vendor step: {}", camera_.name, step);
    // A long-running process restarts sessions without taking shots, so only the latest
    // steps are kept.
    constexpr std::size_t kept_steps = 32;
    if (vendor_steps_.size() >= kept_steps) {
        vendor_steps_.erase(vendor_steps_.begin());
    }
    vendor_steps_.push_back(std::move(step));
}

asio::awaitable<outcome<osc::command_reply>> camera_session::wait_done(
    osc::command_reply reply, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const std::string command = reply.name;
    while (reply.state == osc::command_state::in_progress) {
        if (reply.id.empty()) {
            co_return make_failure(errc::malformed_reply,
                                   fmt::format("{} is in progress without a command id",
                                               command));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return make_failure(errc::timed_out,
                                   fmt::format("{} (id {}) still in progress after {} ms",
                                               command, reply.id, limit.count()));
        }
        co_await sleep(settings_.status_poll_interval);
        const std::string id = reply.id;
        auto status = co_await status_with_retries(id);
        if (!status) {
            co_return status.error();
        }
        reply = std::move(*status);
        // Some cameras leave the name and id out of later replies.
        if (reply.name.empty()) {
            reply.name = command;
        }
        if (reply.id.empty() && reply.state == osc::command_state::in_progress) {
            reply.id = id;
        }
    }
    if (reply.state == osc::command_state::error) {
        auto error = failure_of_reply(reply, command.empty() ? "command" : command);
        const decision next = logic_.decide({request_kind::status, 1, error, last_error_code_});
        note_outcome(next);
        spdlog::warn("[{}] {} failed: {}", camera_.name, command, error.to_string());
        co_return error;
    }
    co_return reply;
}

asio::awaitable<outcome<osc::command_reply>> camera_session::status_with_retries(std::string id) {
    auto once = [this, &id] { return status_once(id); };
    co_return co_await with_read_retries<osc::command_reply>(
        request_kind::status, std::string("POST /osc/commands/status"), once);
}

asio::awaitable<outcome<osc::command_reply>> camera_session::status_once(std::string id) {
    last_error_code_.clear();
    http_request request;
    request.method = "POST";
    request.target = std::string(status_target);
    request.body = osc::make_status_body(id);
    request.timeout = settings_.timeouts.status;
    auto response = co_await exchange(std::move(request), std::string());
    if (!response) {
        co_return response.error();
    }
    auto reply = osc::parse_command_reply(response->status, response->body);
    // A status reply of state error is the command's outcome, not a failed poll, so it is
    // returned as a reply for wait_done() to judge. Only serverError-like codes are retried.
    if (reply && reply->error) {
        last_error_code_ = reply->error->code;
        if (is_transient(make_failure(errc::camera_error), last_error_code_)) {
            co_return failure_of_reply(*reply, "status");
        }
    }
    co_return reply;
}

asio::awaitable<outcome<osc::camera_options>> camera_session::get_options(
    std::vector<std::string> names) {
    std::erase_if(names, [this](const std::string& name) {
        return std::find(rejected_options_.begin(), rejected_options_.end(), name) !=
               rejected_options_.end();
    });
    auto values = co_await get_option_values(std::move(names));
    if (!values) {
        co_return values.error();
    }
    osc::camera_options options{std::move(*values)};
    apply_options(options);
    co_return options;
}

asio::awaitable<outcome<json>> camera_session::get_option_values(std::vector<std::string> names) {
    if (names.empty()) {
        co_return json::object();
    }
    const json parameters{{"optionNames", names}};
    auto reply = co_await execute(std::string_view{"camera.getOptions"}, parameters);
    if (!reply) {
        // One name the model does not know fails the whole list, so halve the list until
        // the unknown names are found, and leave those out from then on.
        if (last_error_code_ != "invalidParameterName") {
            co_return reply.error();
        }
        if (names.size() == 1) {
            spdlog::info("[{}] camera does not know option {}, leaving it out", camera_.name,
                         names.front());
            rejected_options_.push_back(names.front());
            co_return json::object();
        }
        auto [first, second] = split_option_names(names);
        auto first_values = co_await get_option_values(std::move(first));
        if (!first_values) {
            co_return first_values.error();
        }
        auto second_values = co_await get_option_values(std::move(second));
        if (!second_values) {
            co_return second_values.error();
        }
        first_values->update(*second_values);
        co_return first_values;
    }
    auto options = osc::options_from_reply(*reply);
    if (!options) {
        co_return options.error();
    }
    if (auto camera_us = options->sys_timestamp_us()) {
        const auto steps_before = clock_.steps_detected();
        clock_.add_sample({last_sent_host_us_, last_received_host_us_, *camera_us,
                           last_received_wall_us_});
        if (clock_.steps_detected() != steps_before) {
            spdlog::warn("[{}] camera clock stepped (_sysTimestamp {}); the clock model keeps "
                         "only the {} samples since",
                         camera_.name, *camera_us, clock_.sample_count());
        }
    }
    co_return options->values;
}

asio::awaitable<outcome<void>> camera_session::sample_clock() {
    std::vector<std::string> names{std::string("_sysTimestamp")};
    auto options = co_await get_options(std::move(names));
    if (!options) {
        co_return options.error();
    }
    if (!options->sys_timestamp_us()) {
        co_return make_failure(errc::unsupported, "getOptions returned no _sysTimestamp");
    }
    co_return outcome<void>{};
}

asio::awaitable<outcome<download_result>> camera_session::download(std::string url,
                                                                   std::filesystem::path file,
                                                                   std::uint64_t resume_from,
                                                                   download_progress progress) {
    auto ticket = co_await queue_.acquire();
    const std::string target = target_of_url(url);
    if (cancelled_) {
        co_return make_failure(errc::cancelled, "GET " + target);
    }
    request_record entry;
    entry.method = "GET";
    entry.target = target;
    entry.sent_us = wall_now_us();
    auto result = co_await client_.download(target, std::move(file), resume_from,
                                            std::move(progress));
    entry.received_us = wall_now_us();
    if (result) {
        entry.http_status = result->status;
        entry.reply = json{{"bytes", result->bytes_written}};
    } else {
        entry.error = result.error().to_string();
    }
    count_request(!result, nullptr);
    record(std::move(entry));
    co_return result;
}

asio::awaitable<camera_session::lease> camera_session::acquire() {
    auto ticket = co_await queue_.acquire();
    co_return lease{std::move(ticket), &client_};
}

void camera_session::cancel() {
    if (!cancelled_) {
        spdlog::info("[{}] session cancelled", camera_.name);
    }
    cancelled_ = true;
    client_.close();
}

void camera_session::record(request_record entry) {
    if (recording_) {
        records_.push_back(std::move(entry));
    }
}

std::vector<request_record> camera_session::take_records() {
    return std::exchange(records_, {});
}

void camera_session::set_state(camera_state state, std::string reason) {
    if (snapshot_.state == state && snapshot_.reason == reason) {
        return;
    }
    if (state == camera_state::ready || state == camera_state::busy ||
        state == camera_state::connecting) {
        spdlog::debug("[{}] state {}", camera_.name, to_string(state));
    } else {
        spdlog::warn("[{}] state {}: {}", camera_.name, to_string(state), reason);
    }
    snapshot_.state = state;
    snapshot_.reason = std::move(reason);
    changed();
}

void camera_session::on_change(std::function<void(const camera_snapshot&)> listener) {
    listeners_.push_back(std::move(listener));
}

asio::awaitable<outcome<http_response>> camera_session::exchange(http_request request,
                                                                 std::string command) {
    auto ticket = co_await queue_.acquire();
    if (cancelled_) {
        co_return make_failure(errc::cancelled, request.method + " " + request.target);
    }
    request_record entry;
    entry.method = request.method;
    entry.target = request.target;
    entry.command = std::move(command);
    entry.sent_us = wall_now_us();

    auto response = co_await client_.send(std::move(request));
    entry.received_us = wall_now_us();
    if (response) {
        entry.sent_us = response->sent_wall_us;
        entry.received_us = response->received_wall_us;
        entry.http_status = response->status;
        entry.reply = body_for_record(response->body);
        last_sent_host_us_ = response->sent_host_us;
        last_received_host_us_ = response->received_host_us;
        last_received_wall_us_ = response->received_wall_us;
        count_request(response->status >= 400, &*response);
    } else {
        entry.error = response.error().to_string();
        count_request(true, nullptr);
    }
    record(std::move(entry));
    co_return response;
}

asio::awaitable<void> camera_session::wait_for_gate(request_gate& gate) {
    const auto wait = gate.wait_at(request_gate::clock::now());
    if (wait > request_gate::clock::duration::zero()) {
        co_await sleep(std::chrono::ceil<std::chrono::milliseconds>(wait));
    }
    gate.record(request_gate::clock::now());
}

asio::awaitable<void> camera_session::sleep(std::chrono::milliseconds duration) {
    asio::steady_timer timer(executor_, duration);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

void camera_session::apply_options(const osc::camera_options& options) {
    if (!options_) {
        options_ = options;
    } else {
        options_->values.update(options.values);
    }
    if (auto space = options.remaining_space()) {
        snapshot_.remaining_bytes = space;
    }
    if (auto space = options.total_space()) {
        snapshot_.total_bytes = space;
    }
    if (auto percent = options.battery_percent()) {
        snapshot_.battery_ratio = *percent / 100.0;
    }
    if (auto charging = options.charging()) {
        snapshot_.charging = charging;
    }
    const auto now = host_now();
    if (auto offset = clock_.offset_at(now)) {
        snapshot_.clock_offset_seconds = *offset / 1e6;
    }
    if (auto uncertainty = clock_.uncertainty_at(now)) {
        snapshot_.clock_uncertainty_seconds = *uncertainty / 1e6;
    }
    snapshot_.last_successful_poll = std::chrono::system_clock::now();
    changed();
}

void camera_session::apply_state(const osc::camera_state& state) {
    state_ = state;
    if (state.battery_level) {
        snapshot_.battery_ratio = state.battery_level;
    }
    if (!state.card_state.empty()) {
        snapshot_.card_state = state.card_state;
    }
    if (state.battery_state == "charging" || state.battery_state == "charged") {
        snapshot_.charging = true;
    } else if (state.battery_state == "disconnect") {
        snapshot_.charging = false;
    }
    snapshot_.last_successful_poll = std::chrono::system_clock::now();
    changed();
}

void camera_session::count_request(bool failed, const http_response* response) {
    ++snapshot_.requests_total;
    if (failed) {
        ++snapshot_.failures_total;
    }
    if (response != nullptr) {
        snapshot_.round_trip_seconds =
            static_cast<double>(response->received_host_us - response->sent_host_us) / 1e6;
    }
    changed();
}

void camera_session::note_outcome(const decision& next) {
    if (!next.state) {
        return;
    }
    // A working request does not clear needs_activation, because info and options work on an
    // unactivated camera; execute() clears it when a capture succeeds. Busy and connecting
    // stay until the code that set them changes them.
    if (*next.state == camera_state::ready &&
        (snapshot_.state == camera_state::needs_activation ||
         snapshot_.state == camera_state::busy || snapshot_.state == camera_state::connecting)) {
        return;
    }
    set_state(*next.state, next.reason);
}

void camera_session::changed() {
    ++snapshot_.version;
    for (const auto& listener : listeners_) {
        listener(snapshot_);
    }
}

}  // namespace oscrig::controller
