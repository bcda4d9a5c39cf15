// HTTP server of `oscrig serve`: the dashboard page, the JSON API under /api, server-sent
// events at /events, Prometheus metrics at /metrics, downloaded files under /files, and the
// /-/healthy and /-/ready probes.
//
// The server runs on an event loop the caller owns (the one the camera sessions use) and reads
// everything through controller::fleet, so this header carries neither Beast nor the Asio I/O
// headers.
#pragma once

#include "controller/fleet.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace oscrig::dashboard {

/// Bounds on what one client can make the server hold.
struct server_limits {
    std::size_t max_connections = 64;       // further connections are closed on accept
    std::size_t max_header_bytes = 8 * 1024;  // larger request headers get 431
    std::size_t max_body_bytes = 64 * 1024;   // larger request bodies get 413
    std::chrono::seconds idle_timeout{30};  // a connection with no request for this long closes
    std::size_t max_event_clients = 16;     // further /events requests get 503
};

struct server_settings {
    std::string address = "127.0.0.1";  // IPv4 or IPv6 literal to listen on
    std::uint16_t port = 8360;           // 0 picks a free port (see server::port())
    // When non-empty, every POST needs `Authorization: Bearer <token>`. A listen address other
    // than loopback is rejected without one.
    std::string bearer_token;
    server_limits limits;
    // Returns true once the rig is loaded and every camera has been tried once. /-/ready
    // returns 503 until then. When unset, the server treats the fleet as ready once no camera
    // is in the connecting state.
    std::function<bool()> ready_check;
    std::string version = "unknown";  // reported as oscrig_build_info{version}
    std::chrono::seconds event_keep_alive{15};  // interval of SSE keep-alive comments
};

/// Serves one fleet over HTTP/1.1.
///
/// Threading: construct, start, stop and destroy on the thread that runs the executor's
/// event loop. The server calls the fleet only on that thread.
class server {
public:
    /// Binds and listens on the settings' address and port. Throws std::invalid_argument for
    /// an invalid address or a non-loopback address without a bearer token, and
    /// boost::system::system_error when the address cannot be bound.
    server(boost::asio::any_io_executor executor, controller::fleet& fleet,
           server_settings settings);
    /// Stops the server if it is still running.
    ~server();

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Starts accepting connections. Returns at once, and the work runs on the executor.
    void start();

    /// Closes the listener and every open connection, including event streams. Pending
    /// handlers finish on the event loop afterwards without touching the fleet.
    void stop();

    /// The bound TCP port, which tells the caller the port chosen for a requested port 0.
    std::uint16_t port() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace oscrig::dashboard
