// Decisions of a camera session without I/O: whether a failed request is retried, after what
// delay and with what first, what camera state an outcome implies, and how often /osc/info and
// /osc/state may be requested.
#pragma once

#include "controller/camera_snapshot.hpp"
#include "controller/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oscrig::controller {

/// What a request does to the camera, which decides whether it may be repeated.
enum class request_kind {
    info,          // GET /osc/info
    state,         // POST /osc/state
    status,        // POST /osc/commands/status
    read_command,  // getOptions, listFiles: no effect on the camera
    set_options,   // camera.setOptions: repeating it sets the same values again
    capture,       // takePicture, startCapture: repeating it may take a second capture
    stop_capture,  // stopCapture
    other_command, // delete and anything unknown: never repeated
};

/// Classifies an execute command by name.
request_kind kind_of_command(std::string_view command);

/// True for kinds that may be sent again without changing what the camera does.
bool is_idempotent(request_kind kind);

struct retry_policy {
    int max_read_attempts = 4;      // info, state, status and read commands, first one included
    int max_disabled_attempts = 3;  // capture attempts while the camera replies disabledCommand
    std::chrono::milliseconds first_backoff{250};  // doubled after each failed read
    std::chrono::milliseconds max_backoff{4000};
};

enum class next_step {
    done,                     // accept the outcome, success or failure
    retry,                    // send the same request again after `delay`
    reapply_capture_mode,     // send setOptions with the capture mode, then the request again
};

struct decision {
    next_step step = next_step::done;
    std::chrono::milliseconds delay{0};
    // Camera state this outcome implies, when it implies one.
    std::optional<camera_state> state;
    std::string reason;  // for the snapshot and the log, empty on success
};

/// One finished attempt of a request as the session saw it.
struct attempt {
    request_kind kind = request_kind::read_command;
    int number = 1;  // 1-based
    // Nothing on success. On an OSC error reply: the classified code with the camera's
    // message as detail.
    std::optional<failure> error;
    std::string camera_error_code;  // the OSC error code when the camera sent one, trimmed
};

inline constexpr std::string_view activation_message =
    "activate the camera in the Insta360 app";

class session_logic {
public:
    explicit session_logic(retry_policy policy = {});

    /// Decides what follows `result`.
    decision decide(const attempt& result) const;

    const retry_policy& policy() const { return policy_; }

private:
    decision decide_failure(const attempt& result) const;
    std::chrono::milliseconds backoff(int failed_attempts) const;

    retry_policy policy_;
};

/// True for errors after which the same read may succeed: timeouts, closed connections, empty
/// or malformed bodies, HTTP 5xx and the OSC codes serverError and serviceUnavailable.
bool is_transient(const failure& error, std::string_view camera_error_code);

/// Spaces requests to one endpoint: at most one per `interval`.
class request_gate {
public:
    using clock = std::chrono::steady_clock;

    explicit request_gate(std::chrono::milliseconds interval = std::chrono::milliseconds{1000});

    /// Time to wait at `now` before the next request may go out.
    clock::duration wait_at(clock::time_point now) const;

    /// Records a request sent at `now`.
    void record(clock::time_point now);

private:
    std::chrono::milliseconds interval_;
    std::optional<clock::time_point> last_;
};

/// Splits option names in two halves for a getOptions list that the camera rejected as
/// invalidParameterName. A single name is not split: the camera rejects that name.
std::pair<std::vector<std::string>, std::vector<std::string>> split_option_names(
    const std::vector<std::string>& names);

}  // namespace oscrig::controller
