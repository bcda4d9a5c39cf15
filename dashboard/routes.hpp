// Request handling of the dashboard server without sockets: the server parses a request, hands
// it here, and writes back the reply. For /events and /files the reply names what the server
// streams.
#pragma once

#include "controller/fleet.hpp"
#include "dashboard/metrics.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oscrig::dashboard {

struct request_view {
    std::string_view method;
    std::string_view target;  // path and query as sent
    std::string_view authorization;
    std::string_view origin;  // Origin header, empty when absent
    std::string_view host;    // Host header
    std::string_view body;
};

struct reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::filesystem::path file;  // when set, the body is this file's content
    bool event_stream = false;   // when set, the server starts an event stream instead
};

struct route_settings {
    std::string bearer_token;
    std::function<bool()> ready_check;
};

class router {
public:
    router(controller::fleet& fleet, fleet_metrics& metrics, route_settings settings);

    reply handle(const request_view& request);

private:
    reply handle_get(std::string_view path);
    reply handle_api_get(std::string_view path);
    reply find_file(std::string_view relative);
    reply handle_post(std::string_view path, const request_view& request);
    reply start_shot(std::string_view body);
    reply stop_recording();
    reply find_shot(std::string_view id);
    bool is_authorized(std::string_view authorization) const;
    bool is_ready() const;

    controller::fleet& fleet_;
    fleet_metrics& metrics_;
    route_settings settings_;
};

/// A JSON reply `{"error": message}` with the given status.
reply error_reply(unsigned status, std::string_view message);

}  // namespace oscrig::dashboard
