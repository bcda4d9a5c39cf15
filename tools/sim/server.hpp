// Sockets of the simulator: one listener per camera on one Asio event loop.
#pragma once

#include "tools/sim/camera.hpp"
#include "tools/sim/sim_config.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace oscrig::sim {

class connection;

/// The cameras of one simulator process and their listeners. Single-threaded: every member
/// runs on the io_context's thread.
class simulator {
public:
    simulator(boost::asio::io_context& io, std::vector<camera_params> cameras, std::string host,
              int base_port, std::uint64_t seed);
    ~simulator();

    /// Opens every listener. A camera whose config marks it unreachable is bound once, so that
    /// it has a port, then closed. Throws boost::system::system_error naming camera and port.
    void open();

    /// Closes every listener and connection, for a clean exit.
    void close();

    std::vector<std::uint16_t> ports() const;
    const std::string& host() const { return host_; }
    std::size_t size() const { return slots_.size(); }
    const camera& camera_at(std::size_t index) const;

    // Used by connections.
    struct slot;
    /// Handles /sim/stop and /sim/start. Returns the reply and the action to run once the
    /// reply has been sent.
    http_reply control(slot& own, const http_request& request, std::function<void()>& after);
    /// Brings every listener in line with its camera's unreachable flag.
    void sync_listeners();

private:
    void start_listener(slot& s);
    void stop_listener(slot& s);
    void accept(slot& s);

    boost::asio::io_context& io_;
    std::string host_;
    std::vector<std::unique_ptr<slot>> slots_;
};

struct simulator::slot {
    std::unique_ptr<sim::camera> camera;
    std::uint16_t requested_port = 0;  // 0 = any free port
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    std::vector<std::weak_ptr<connection>> connections;
    std::unique_ptr<boost::asio::steady_timer> restart_timer;
    bool listening = false;
};

}  // namespace oscrig::sim
