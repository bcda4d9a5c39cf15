// Trigger: sends one capture command (takePicture, startCapture, stopCapture) to every camera of
// a shot, and records when each request left.
//
// A trigger only fires: the shot runner has applied the options before and follows each reply
// to the end afterwards. Two implementations exist: concurrent_trigger below, which starts
// every camera's request at once from the event loop, and the staged release of
// controller/staged_trigger.hpp.
#pragma once

#include "controller/camera_session.hpp"
#include "controller/error.hpp"
#include "controller/osc_protocol.hpp"
#include "controller/shot_report.hpp"

#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace oscrig::controller {

/// One camera's part of a trigger.
struct trigger_target {
    camera_session* session = nullptr;
    std::string command;     // camera.takePicture, camera.startCapture, camera.stopCapture
    nlohmann::json parameters;  // null for none
};

/// What one camera answered. `reply` is the first reply (often in progress); `record` has the
/// host times at which the request left.
struct trigger_outcome {
    outcome<osc::command_reply> reply = make_failure(errc::not_ready, "not fired");
    trigger_record record;
};

class trigger {
public:
    virtual ~trigger() = default;

    /// Name for reports: "staged" or "none".
    virtual std::string method() const = 0;

    /// Sends each target's command and returns one outcome per target, in the order of
    /// `targets`. A camera that fails never stops the others. Completes when every camera
    /// answered or failed.
    virtual boost::asio::awaitable<std::vector<trigger_outcome>> fire(
        std::vector<trigger_target> targets) = 0;
};

/// Starts every camera's request at the same moment from the event loop, through each
/// session's queue, with no staging and no delay compensation.
class concurrent_trigger final : public trigger {
public:
    std::string method() const override { return "none"; }

    boost::asio::awaitable<std::vector<trigger_outcome>> fire(
        std::vector<trigger_target> targets) override;
};

}  // namespace oscrig::controller
