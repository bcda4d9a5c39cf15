// A session with one camera: its connection, its one-request queue, what it last reported and
// its clock model.
//
// Every request to the camera goes through the session's request_queue, so exactly one request
// is in flight per camera, from any caller: shot steps, health polls and downloads wait their
// turn. Code that needs several requests back to back without anyone in between (a staged
// trigger) takes a lease, the only way to reach the http_client directly.
//
// Threading: all members run on the executor's thread (one io_context for every camera).
#pragma once

#include "config/rig.hpp"
#include "controller/camera_snapshot.hpp"
#include "controller/clock_model.hpp"
#include "controller/error.hpp"
#include "controller/http_client.hpp"
#include "controller/osc_protocol.hpp"
#include "controller/request_queue.hpp"
#include "controller/session_logic.hpp"
#include "controller/shot_report.hpp"
#include "controller/vendor_profile.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::controller {

struct session_settings {
    config::request_timeouts timeouts;
    std::chrono::milliseconds status_poll_interval{1000};
    // At most one /osc/info and one /osc/state per interval. The margin over the 1 s limit of
    // the OSC guidance keeps arrivals 1 s apart when network delay varies.
    std::chrono::milliseconds info_state_interval{1100};
    retry_policy retries;
    int clock_burst = 8;  // _sysTimestamp samples taken at start, 0 for none
    // Option names requested at start; empty means the session's default list.
    std::vector<std::string> capability_options;
};

/// Builds the settings of a rig's sessions from the rig file.
session_settings settings_from_rig(const config::rig& rig);

class camera_session {
public:
    /// Exclusive use of the camera's connection, for a request sequence that no other request
    /// may interrupt.
    /// Requests made through the lease are not recorded by the session: the holder records
    /// them with record().
    class lease {
    public:
        lease(lease&&) noexcept = default;
        lease& operator=(lease&&) noexcept = default;

        http_client& client() { return *client_; }
        void release() { ticket_.release(); }

    private:
        friend class camera_session;
        lease(request_queue::ticket ticket, http_client* client)
            : ticket_(std::move(ticket)), client_(client) {}

        request_queue::ticket ticket_;
        http_client* client_;
    };

    camera_session(boost::asio::any_io_executor executor, config::camera_config camera,
                   session_settings settings);
    camera_session(const camera_session&) = delete;
    camera_session& operator=(const camera_session&) = delete;

    /// Connects and reads /osc/info, /osc/state and the capability options, then applies the
    /// vendor profile's start-up steps (API level switch, camera time on THETA) and takes the
    /// clock burst where the camera has _sysTimestamp. Fails with the first error that
    /// retries did not cure, and the snapshot's state and reason then give the cause
    /// (unreachable, needs_activation, error). A camera time that cannot be set is a
    /// vendor step and a warning, not a failure.
    boost::asio::awaitable<outcome<void>> start();

    /// GET /osc/info, waiting when the last one was less than info_state_interval ago.
    boost::asio::awaitable<outcome<osc::camera_info>> fetch_info();

    /// POST /osc/state, rate-limited like fetch_info().
    boost::asio::awaitable<outcome<osc::camera_state>> fetch_state();

    /// POST /osc/commands/execute with the session's retry rules (session_logic). Returns the
    /// first reply, which may be in progress; wait_done() follows it to the end. An OSC error
    /// reply is a failure whose code is classify_camera_error() of the camera's code.
    boost::asio::awaitable<outcome<osc::command_reply>> execute(
        std::string_view command, const nlohmann::json& parameters = {});

    /// Polls /osc/commands/status every status_poll_interval until the command is done or in
    /// error, within `limit`. A reply that is already final is returned unchanged.
    boost::asio::awaitable<outcome<osc::command_reply>> wait_done(
        osc::command_reply reply, std::chrono::milliseconds limit);

    /// Sends camera.getOptions for `names`. When the camera rejects the list as
    /// invalidParameterName, the list is split until the rejected names are known. Those names
    /// are left out from then on.
    boost::asio::awaitable<outcome<osc::camera_options>> get_options(
        std::vector<std::string> names);

    /// Takes one clock sample with getOptions _sysTimestamp and adds it to the clock model.
    boost::asio::awaitable<outcome<void>> sample_clock();

    /// Downloads one file URL (absolute, or a path on the camera) through the queue.
    boost::asio::awaitable<outcome<download_result>> download(std::string url,
                                                              std::filesystem::path file,
                                                              std::uint64_t resume_from,
                                                              download_progress progress = {});

    /// Waits for the queue and returns exclusive use of the connection.
    boost::asio::awaitable<lease> acquire();

    /// Closes the connection and makes every later request fail with cancelled.
    void cancel();
    bool cancelled() const { return cancelled_; }

    /// Switches the recording of requests for take_records() on or off (default off, so that a
    /// long-running process does not accumulate health polls).
    void record_requests(bool on) { recording_ = on; }
    /// Adds a request to the records that take_records() returns, when recording is on.
    void record(request_record entry);
    /// Returns and clears the records of requests since the last call.
    std::vector<request_record> take_records();

    const std::string& name() const { return camera_.name; }
    const config::camera_config& camera() const { return camera_; }
    const session_settings& settings() const { return settings_; }
    const camera_snapshot& snapshot() const { return snapshot_; }
    const std::optional<osc::camera_info>& info() const { return info_; }
    const std::optional<osc::camera_state>& state() const { return state_; }
    const std::optional<osc::camera_options>& options() const { return options_; }
    const std::vector<std::string>& rejected_options() const { return rejected_options_; }
    /// Vendor profile chosen from /osc/info; the default (vendor other) before start().
    const osc::vendor_profile& profile() const { return profile_; }
    /// Returns and clears the vendor-specific steps taken since the last call, one sentence
    /// each, for the shot report.
    std::vector<std::string> take_vendor_steps();
    /// Adds a vendor-specific step and logs it with the camera name.
    void note_vendor_step(std::string step);
    clock_model& clock() { return clock_; }
    /// Returns the host steady-clock instant at which the last request with a reply was handed
    /// to the socket, or 0 before the first.
    host_us last_sent_host_us() const { return last_sent_host_us_; }

    const clock_model& clock() const { return clock_; }

    /// Sets the snapshot's state and reason, logging a change once.
    void set_state(camera_state state, std::string reason = {});

    /// Registers a function called after every snapshot change.
    void on_change(std::function<void(const camera_snapshot&)> listener);

private:
    boost::asio::awaitable<outcome<http_response>> exchange(http_request request,
                                                             std::string command);
    boost::asio::awaitable<outcome<osc::command_reply>> execute_command(std::string command,
                                                                        nlohmann::json parameters);
    boost::asio::awaitable<outcome<osc::command_reply>> execute_once(
        std::string_view command, const nlohmann::json& parameters);
    boost::asio::awaitable<outcome<osc::camera_info>> fetch_info_once();
    boost::asio::awaitable<outcome<osc::camera_state>> fetch_state_once();
    boost::asio::awaitable<outcome<osc::command_reply>> status_once(std::string id);
    boost::asio::awaitable<outcome<osc::command_reply>> status_with_retries(std::string id);
    // Repeats `once()` while session_logic decides to retry; defined in camera_session.cpp. `once` is
    // taken by reference: with a closure passed by value, GCC 12.2 freed its captured string
    // twice. Callers keep it alive until the returned awaitable completes.
    template <class T, class Once>
    boost::asio::awaitable<outcome<T>> with_read_retries(request_kind kind, std::string what,
                                                         Once& once);
    boost::asio::awaitable<outcome<osc::command_reply>> reapply_capture_mode();
    boost::asio::awaitable<outcome<void>> switch_api_level();
    boost::asio::awaitable<void> set_camera_time();
    boost::asio::awaitable<outcome<nlohmann::json>> get_option_values(
        std::vector<std::string> names);
    boost::asio::awaitable<void> wait_for_gate(request_gate& gate);
    boost::asio::awaitable<void> sleep(std::chrono::milliseconds duration);
    void apply_options(const osc::camera_options& options);
    void apply_state(const osc::camera_state& state);
    void count_request(bool failed, const http_response* response);
    void note_outcome(const decision& next);
    void changed();

    boost::asio::any_io_executor executor_;
    config::camera_config camera_;
    session_settings settings_;
    session_logic logic_;
    http_client client_;
    request_queue queue_;
    request_gate info_gate_;
    request_gate state_gate_;
    clock_model clock_;
    bool cancelled_ = false;
    bool recording_ = false;
    // Trimmed OSC error code of the last execute or status reply, empty when it had none.
    std::string last_error_code_;
    // Host steady-clock times of the last completed exchange, for clock samples.
    host_us last_sent_host_us_ = 0;
    host_us last_received_host_us_ = 0;
    std::int64_t last_received_wall_us_ = 0;

    std::optional<osc::camera_info> info_;
    std::optional<osc::camera_state> state_;
    std::optional<osc::camera_options> options_;
    std::vector<std::string> rejected_options_;
    osc::vendor_profile profile_;
    std::vector<std::string> vendor_steps_;
    // captureMode last set through setOptions, re-sent when the camera replies disabledCommand.
    std::optional<nlohmann::json> capture_mode_;
    camera_snapshot snapshot_;
    std::vector<request_record> records_;
    std::vector<std::function<void(const camera_snapshot&)>> listeners_;
};

}  // namespace oscrig::controller
