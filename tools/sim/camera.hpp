// One simulated camera without I/O: it turns a complete HTTP request, stamped with its arrival
// instant, into the reply to send and the delays and faults that go with it.
#pragma once

#include "tools/sim/digest.hpp"
#include "tools/sim/media.hpp"
#include "tools/sim/sim_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oscrig::sim {

struct http_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower case
    std::string body;
    std::int64_t arrival_us = 0;       // host CLOCK_MONOTONIC, simulated network delay included
    std::int64_t arrival_wall_us = 0;  // host CLOCK_REALTIME at the same instant

    /// Returns the value of header `lower_name`, or nothing when the request lacks it.
    std::optional<std::string> header(std::string_view lower_name) const;
};

struct http_reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // sent when `file` is null

    // A file download sends bytes [file_begin, file_end) of `file`.
    std::shared_ptr<const file_content> file;
    std::uint64_t file_begin = 0;
    std::uint64_t file_end = 0;
    std::optional<std::uint64_t> cut_file_at;  // close once this file offset is reached

    bool cut_mid_reply = false;  // send half of the reply's bytes, then close
    std::int64_t delay_us = 0;   // processing time before the reply leaves, network excluded
    bool counted_in_flight = false;  // caller must call request_finished() after sending
};

/// A file on the simulated card.
struct stored_file {
    std::string name;
    std::string path;  // URL path, as the camera serves it
    bool video = false;
    int width = 0;
    int height = 0;
    std::string date_time_zone;
    std::shared_ptr<const file_content> content;
};

class camera {
public:
    camera(camera_params params, std::size_t index, std::int64_t start_us, std::uint64_t seed);

    const camera_params& params() const { return params_; }
    const std::string& name() const { return params_.name; }

    /// Sets the address the camera's URLs name, once its port is known.
    void set_address(std::string host, std::uint16_t port);
    std::uint16_t port() const { return port_; }

    /// Handles one complete request. Bad input and internal errors become error replies, not
    /// exceptions.
    http_reply handle(const http_request& request);

    /// Ends the in-flight period of a request whose reply had counted_in_flight set.
    void request_finished();

    /// One-way network delay for one direction of one request: the fixed delay plus jitter.
    std::int64_t sample_network_delay_us();

    /// Whether the listener should be closed (fault unreachable or /sim/stop).
    bool unreachable() const { return params_.faults.unreachable; }
    /// Counts one accepted TCP connection for /sim/stats.
    void count_connection() { ++connections_; }
    void set_unreachable(bool value);

    /// Camera clock (`_sysTimestamp`) at a host CLOCK_MONOTONIC instant, in microseconds.
    std::int64_t camera_clock_us(std::int64_t host_us) const;

private:
    struct command_record {
        std::string name;
        std::int64_t started_us = 0;
        std::int64_t done_us = 0;  // when the capture completes
        bool completed = false;
        nlohmann::json final_reply;  // set once completed
        bool hdr_bracket = false;
        bool hostile = false;
    };

    // Request routing and checks (camera.cpp).
    http_reply route(const http_request& request, const std::string& path);
    http_reply handle_sim(const http_request& request);
    http_reply handle_file(const http_request& request);
    void check_headers(const http_request& request);
    void count_violation(const std::string& kind);
    http_reply json_reply(int status, const nlohmann::json& body);
    void apply_reply_faults(http_reply& reply);
    std::optional<http_reply> authenticate(const http_request& request);

    // OSC endpoints (camera_osc.cpp).
    http_reply handle_info(const http_request& request);
    http_reply handle_state(const http_request& request);
    http_reply handle_check_for_updates(const http_request& request);
    http_reply handle_execute(const http_request& request);
    http_reply handle_status(const http_request& request);
    nlohmann::json state_object(std::int64_t now_us);
    std::string fingerprint(std::int64_t now_us);

    // Commands (camera_commands.cpp).
    nlohmann::json take_picture(std::int64_t now_us, int& status);
    nlohmann::json start_capture(std::int64_t now_us, int& status);
    nlohmann::json stop_capture(std::int64_t now_us, int& status);
    nlohmann::json list_files(const nlohmann::json& parameters, int& status);
    nlohmann::json delete_files(const nlohmann::json& parameters, int& status);
    nlohmann::json command_progress(const std::string& id, const command_record& record,
                                    std::int64_t now_us) const;
    std::optional<nlohmann::json> capture_blocked(std::string_view command, std::int64_t now_us,
                                                  int& status);
    void complete_due_commands(std::int64_t now_us);
    std::vector<std::string> store_photos(const command_record& record, std::int64_t now_us);
    std::vector<std::string> store_videos(std::int64_t now_us);
    std::vector<std::string> store_hostile_files(std::int64_t now_us);
    std::string next_command_id();
    std::string next_file_stem(std::int64_t now_us, bool video);
    std::string url_for(const std::string& path) const;
    std::string directory_path() const;
    void add_file(stored_file file);

    // Options (camera_options.cpp).
    nlohmann::json get_options(const nlohmann::json& parameters, std::int64_t now_us,
                               int& status);
    nlohmann::json set_options(const nlohmann::json& parameters, std::int64_t now_us,
                               int& status);
    std::optional<nlohmann::json> option_value(const std::string& name, std::int64_t now_us) const;
    std::optional<std::string> validate_option(const std::string& name,
                                               const nlohmann::json& value) const;
    std::string camera_date_time(std::int64_t now_us, bool with_zone) const;

    // Battery and card state, derived from time (camera_osc.cpp).
    double battery_percent(std::int64_t now_us) const;
    bool card_full() const;
    std::string card_state() const;
    bool is_capturing(std::int64_t now_us) const;

    camera_params params_;
    std::size_t index_ = 0;
    std::int64_t start_us_ = 0;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::mt19937_64 random_;
    std::optional<digest_authenticator> auth_;
    std::shared_ptr<const std::string> video_pattern_;

    // Battery: level at a reference instant, then drains or charges linearly.
    double battery_reference_percent_ = 100;
    std::int64_t battery_reference_us_ = 0;

    nlohmann::json options_;  // settable option values
    std::int64_t date_time_offset_us_ = 0;  // camera _dateTime minus host wall clock
    std::string time_zone_ = "+00:00";      // THETA: UTC offset of the last dateTimeZone set
    std::int64_t capture_mode_changed_us_ = -1;
    int api_version_ = 2;  // THETA _apiVersion, changed by setOptions clientVersion
    std::int64_t last_command_us_ = 0;
    bool asleep_ = false;

    std::vector<stored_file> files_;  // oldest first
    std::map<std::string, command_record> commands_;
    std::deque<std::string> command_order_;  // ids oldest first, for eviction
    int next_command_number_ = 0;
    int next_file_number_ = 0;
    std::optional<std::int64_t> recording_since_us_;

    // Protocol bookkeeping.
    int in_flight_ = 0;
    bool info_read_ = false;
    bool state_read_ = false;
    std::optional<std::int64_t> last_info_us_;
    std::optional<std::int64_t> last_state_us_;
    std::string fingerprint_source_;
    int fingerprint_number_ = 0;

    std::map<std::string, std::uint64_t> request_counts_;
    std::map<std::string, std::uint64_t> violation_counts_;
    std::uint64_t connections_ = 0;  // accepted TCP connections, /sim/ ones included
    std::deque<nlohmann::json> arrivals_;
};

}  // namespace oscrig::sim
