#include "controller/session_logic.hpp"

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

namespace oscrig::controller {
namespace {

using namespace std::chrono_literals;

attempt failed(request_kind kind, int number, errc code, std::string camera_code = {}) {
    attempt result;
    result.kind = kind;
    result.number = number;
    result.error = make_failure(code, "test");
    result.camera_error_code = std::move(camera_code);
    return result;
}

TEST(SessionLogic, SuccessMeansReady) {
    session_logic logic;
    attempt ok;
    ok.kind = request_kind::capture;
    const decision next = logic.decide(ok);
    EXPECT_EQ(next.step, next_step::done);
    ASSERT_TRUE(next.state);
    EXPECT_EQ(*next.state, camera_state::ready);
    EXPECT_TRUE(next.reason.empty());
}

TEST(SessionLogic, DisabledCommandReappliesModeThreeTimes) {
    session_logic logic;  // max_disabled_attempts = 3
    const decision first =
        logic.decide(failed(request_kind::capture, 1, errc::disabled_command, "disabledCommand"));
    EXPECT_EQ(first.step, next_step::reapply_capture_mode);
    EXPECT_GT(first.delay, 0ms);

    const decision second =
        logic.decide(failed(request_kind::capture, 2, errc::disabled_command, "disabledCommand"));
    EXPECT_EQ(second.step, next_step::reapply_capture_mode);

    const decision third =
        logic.decide(failed(request_kind::capture, 3, errc::disabled_command, "disabledCommand"));
    EXPECT_EQ(third.step, next_step::done);
    ASSERT_TRUE(third.state);
    EXPECT_EQ(*third.state, camera_state::error);
}

TEST(SessionLogic, DisabledCommandBoundFollowsPolicy) {
    retry_policy policy;
    policy.max_disabled_attempts = 1;
    session_logic logic(policy);
    const decision next =
        logic.decide(failed(request_kind::capture, 1, errc::disabled_command, "disabledCommand"));
    EXPECT_EQ(next.step, next_step::done);
}

TEST(SessionLogic, UnactivatedIsNeverRetried) {
    session_logic logic;
    for (const auto kind : {request_kind::capture, request_kind::read_command,
                            request_kind::info}) {
        const decision next = logic.decide(failed(kind, 1, errc::unactivated, "unactivated"));
        EXPECT_EQ(next.step, next_step::done);
        ASSERT_TRUE(next.state);
        EXPECT_EQ(*next.state, camera_state::needs_activation);
        EXPECT_EQ(next.reason, "activate the camera in the Insta360 app");
    }
}

TEST(SessionLogic, ReadsRetryOnTransientErrors) {
    session_logic logic;
    const struct {
        errc code;
        const char* camera_code;
    } cases[] = {
        {errc::camera_error, "serverError"},
        {errc::camera_error, "serviceUnavailable"},
        {errc::empty_body, ""},
        {errc::timed_out, ""},
        {errc::connection_closed, ""},
        {errc::malformed_reply, ""},
    };
    for (const auto kind : {request_kind::info, request_kind::state, request_kind::status,
                            request_kind::read_command}) {
        for (const auto& c : cases) {
            const decision next = logic.decide(failed(kind, 1, c.code, c.camera_code));
            EXPECT_EQ(next.step, next_step::retry)
                << "kind " << static_cast<int>(kind) << " code " << static_cast<int>(c.code);
            EXPECT_GT(next.delay, 0ms);
        }
    }
}

TEST(SessionLogic, ReadRetriesAreBounded) {
    session_logic logic;  // max_read_attempts = 4
    EXPECT_EQ(logic.decide(failed(request_kind::state, 3, errc::timed_out)).step,
              next_step::retry);
    const decision last = logic.decide(failed(request_kind::state, 4, errc::timed_out));
    EXPECT_EQ(last.step, next_step::done);
    ASSERT_TRUE(last.state);
    EXPECT_EQ(*last.state, camera_state::unreachable);
}

TEST(SessionLogic, BackoffGrowsAndIsCapped) {
    retry_policy policy;
    policy.max_read_attempts = 20;
    policy.first_backoff = 100ms;
    policy.max_backoff = 700ms;
    session_logic logic(policy);
    EXPECT_EQ(logic.decide(failed(request_kind::info, 1, errc::timed_out)).delay, 100ms);
    EXPECT_EQ(logic.decide(failed(request_kind::info, 2, errc::timed_out)).delay, 200ms);
    EXPECT_EQ(logic.decide(failed(request_kind::info, 3, errc::timed_out)).delay, 400ms);
    EXPECT_EQ(logic.decide(failed(request_kind::info, 4, errc::timed_out)).delay, 700ms);
    EXPECT_EQ(logic.decide(failed(request_kind::info, 10, errc::timed_out)).delay, 700ms);
}

TEST(SessionLogic, CaptureIsNeverRetriedBlindly) {
    session_logic logic;
    for (const auto kind : {request_kind::capture, request_kind::stop_capture,
                            request_kind::other_command}) {
        for (const auto code : {errc::timed_out, errc::connection_closed, errc::empty_body}) {
            const decision next = logic.decide(failed(kind, 1, code));
            EXPECT_EQ(next.step, next_step::done) << static_cast<int>(kind);
        }
        const decision server =
            logic.decide(failed(kind, 1, errc::camera_error, "serverError"));
        EXPECT_EQ(server.step, next_step::done) << static_cast<int>(kind);
    }
}

TEST(SessionLogic, PermanentCameraErrorsAreNotRetried) {
    session_logic logic;
    const decision unknown =
        logic.decide(failed(request_kind::read_command, 1, errc::unsupported, "unknownCommand"));
    EXPECT_EQ(unknown.step, next_step::done);
    ASSERT_TRUE(unknown.state);
    EXPECT_EQ(*unknown.state, camera_state::error);

    const decision exclusive = logic.decide(
        failed(request_kind::state, 1, errc::camera_error, "cameraInExclusiveUse"));
    EXPECT_EQ(exclusive.step, next_step::done);

    const decision auth = logic.decide(failed(request_kind::info, 1, errc::auth_failed));
    EXPECT_EQ(auth.step, next_step::done);
}

TEST(SessionLogic, HttpStatusRetriesOnlyServerErrors) {
    session_logic logic;
    attempt server = failed(request_kind::info, 1, errc::http_status);
    server.error->detail = "HTTP 503 with an empty body";
    EXPECT_EQ(logic.decide(server).step, next_step::retry);

    attempt client = failed(request_kind::info, 1, errc::http_status);
    client.error->detail = "HTTP 404: not found";
    EXPECT_EQ(logic.decide(client).step, next_step::done);
}

TEST(SessionLogic, ConnectionRefusedIsUnreachableAfterRetries) {
    session_logic logic;
    attempt refused;
    refused.kind = request_kind::info;
    refused.number = 4;
    refused.error = failure{boost::asio::error::connection_refused, "connecting"};
    const decision next = logic.decide(refused);
    EXPECT_EQ(next.step, next_step::done);
    ASSERT_TRUE(next.state);
    EXPECT_EQ(*next.state, camera_state::unreachable);
}

TEST(SessionLogic, CommandKinds) {
    EXPECT_EQ(kind_of_command("camera.getOptions"), request_kind::read_command);
    EXPECT_EQ(kind_of_command("camera.listFiles"), request_kind::read_command);
    EXPECT_EQ(kind_of_command("camera.setOptions"), request_kind::set_options);
    EXPECT_EQ(kind_of_command("camera.takePicture"), request_kind::capture);
    EXPECT_EQ(kind_of_command("camera.startCapture"), request_kind::capture);
    EXPECT_EQ(kind_of_command("camera.stopCapture"), request_kind::stop_capture);
    EXPECT_EQ(kind_of_command("camera.delete"), request_kind::other_command);
    EXPECT_TRUE(is_idempotent(request_kind::read_command));
    EXPECT_FALSE(is_idempotent(request_kind::capture));
    EXPECT_FALSE(is_idempotent(request_kind::other_command));
}

TEST(RequestGate, SpacesRequests) {
    request_gate gate(1000ms);
    const auto start = request_gate::clock::time_point{} + 10s;
    EXPECT_EQ(gate.wait_at(start), request_gate::clock::duration::zero());
    gate.record(start);
    EXPECT_EQ(gate.wait_at(start + 300ms), 700ms);
    EXPECT_EQ(gate.wait_at(start + 1000ms), request_gate::clock::duration::zero());
    EXPECT_EQ(gate.wait_at(start + 5s), request_gate::clock::duration::zero());
}

TEST(SessionLogic, SplitOptionNames) {
    const std::vector<std::string> names{"a", "b", "c", "d", "e"};
    auto [first, second] = split_option_names(names);
    EXPECT_EQ(first, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(second, (std::vector<std::string>{"c", "d", "e"}));

    auto [single, none] = split_option_names({"only"});
    EXPECT_EQ(single, (std::vector<std::string>{"only"}));
    EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace oscrig::controller
