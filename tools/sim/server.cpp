#include "tools/sim/server.hpp"

#include "tools/sim/clock.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <optional>

namespace oscrig::sim {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t receive_buffer_size = 64 * 1024;
constexpr std::size_t file_chunk_size = 256 * 1024;

asio::steady_timer::time_point steady_at_us(std::int64_t monotonic_us) {
    // std::chrono::steady_clock is CLOCK_MONOTONIC on Linux, the clock of monotonic_us.
    return asio::steady_timer::time_point(std::chrono::microseconds(monotonic_us));
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

}  // namespace

/// One accepted TCP connection: reads requests with kernel receive timestamps, applies the
/// camera's simulated delays and writes the replies. Requests on one connection are handled
/// one at a time, in order.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tcp::socket socket, simulator& sim, simulator::slot& own)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), sim_(sim), own_(own) {}

    void start() {
        boost::system::error_code ec;
        socket_.set_option(tcp::no_delay(true), ec);
        const int on = 1;
        if (setsockopt(socket_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
            spdlog::warn("[{}] SO_TIMESTAMPNS unavailable, arrival times come from the event loop",
                         own_.camera->name());
        }
        socket_.non_blocking(true, ec);
        new_parser();
        wait_readable();
    }

    void close() {
        boost::system::error_code ignored;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        finish_in_flight();
    }

private:
    void new_parser() {
        parser_.emplace();
        parser_->eager(true);
        parser_->body_limit(8 * 1024 * 1024);
    }

    void wait_readable() {
        socket_.async_wait(tcp::socket::wait_read,
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                               if (ec) {
                                   self->close();
                                   return;
                               }
                               self->read_available();
                           });
    }

    /// Reads what the kernel has, with the receive timestamp of the last segment read.
    void read_available() {
        std::array<char, receive_buffer_size> buffer;
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec)) * 2> control{};
        iovec io{buffer.data(), buffer.size()};
        msghdr message{};
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control.data();
        message.msg_controllen = control.size();

        const ssize_t n = recvmsg(socket_.native_handle(), &message, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            wait_readable();
            return;
        }
        if (n <= 0) {
            close();
            return;
        }

        std::optional<receive_instant> stamp;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                timespec ts{};
                std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                stamp = from_kernel_timestamp(ts);
            }
        }
        pending_.append(buffer.data(), static_cast<std::size_t>(n));
        last_stamp_ = stamp ? *stamp : receive_instant_now();
        feed_parser();
    }

    /// Feeds buffered bytes to the parser, and handles the request once it is complete.
    void feed_parser() {
        boost::system::error_code ec;
        while (!pending_.empty() && !parser_->is_done()) {
            const std::size_t used =
                parser_->put(asio::buffer(pending_.data(), pending_.size()), ec);
            pending_.erase(0, used);
            if (ec == http::error::need_more) {
                ec = {};
                break;
            }
            if (ec) {
                spdlog::info("[{}] malformed request: {}", own_.camera->name(), ec.message());
                send_bad_request();
                return;
            }
            if (used == 0) {
                break;
            }
        }
        if (parser_->is_done()) {
            on_request();
        } else {
            wait_readable();
        }
    }

    void on_request() {
        const auto& message = parser_->get();
        http_request request;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        for (const auto& field : message) {
            request.headers[lower(field.name_string())] = std::string(field.value());
        }
        request.body = message.body();
        keep_alive_ = message.keep_alive();
        new_parser();

        const bool simulator_only = request.target.starts_with("/sim/");
        const std::int64_t delay_in = simulator_only ? 0 : own_.camera->sample_network_delay_us();
        request.arrival_us = last_stamp_.monotonic_us + delay_in;
        request.arrival_wall_us = last_stamp_.wall_us + delay_in;

        timer_.expires_at(steady_at_us(request.arrival_us));
        timer_.async_wait([self = shared_from_this(), request = std::move(request)](
                              const boost::system::error_code& ec) mutable {
            if (!ec) {
                self->process(std::move(request));
            }
        });
    }

    void process(http_request request) {
        const bool simulator_only = request.target.starts_with("/sim/");
        const bool control = request.target.starts_with("/sim/stop") ||
                             request.target.starts_with("/sim/start");
        after_write_ = nullptr;
        http_reply reply;
        try {
            reply = control ? sim_.control(own_, request, after_write_)
                            : own_.camera->handle(request);
        } catch (const std::exception& e) {
            // A bug in the simulator must not end every other camera's service.
            spdlog::error("[{}] {} {} failed: {}", own_.camera->name(), request.method,
                          request.target, e.what());
            reply = http_reply{};
            reply.status = 500;
            reply.headers.emplace_back("Content-Type", "text/plain");
            reply.body = fmt::format("oscrig-sim failed: {}", e.what());
        }
        in_flight_ = reply.counted_in_flight;
        if (simulator_only && !control) {
            after_write_ = [&sim = sim_] { sim.sync_listeners(); };
        }
        head_only_ = request.method == "HEAD";

        std::int64_t leave_us = request.arrival_us + reply.delay_us;
        if (!simulator_only) {
            leave_us += own_.camera->sample_network_delay_us();
        }
        reply_ = std::move(reply);
        timer_.expires_at(steady_at_us(leave_us));
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                self->write_reply();
            }
        });
    }

    std::string header_text(std::uint64_t content_length) const {
        std::string text = fmt::format(
            "HTTP/1.1 {} {}\r\nServer: oscrig-sim\r\n", reply_.status,
            std::string_view(http::obsolete_reason(static_cast<http::status>(reply_.status))));
        bool has_length = false;
        for (const auto& [name, value] : reply_.headers) {
            has_length = has_length || lower(name) == "content-length";
            text += fmt::format("{}: {}\r\n", name, value);
        }
        if (!has_length) {
            text += fmt::format("Content-Length: {}\r\n", content_length);
        }
        text += keep_alive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        return text;
    }

    void write_reply() {
        if (reply_.file) {
            write_file_reply();
            return;
        }
        out_ = header_text(reply_.body.size());
        if (!head_only_) {
            out_ += reply_.body;
        }
        bool cut = reply_.cut_mid_reply;
        if (cut) {
            out_.resize(out_.size() / 2);
            spdlog::info("[{}] fault drop_mid_reply: closing after {} bytes", own_.camera->name(),
                         out_.size());
        }
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this(), cut](const boost::system::error_code& ec,
                                                           std::size_t) {
                              self->after_reply(ec, cut);
                          });
    }

    void write_file_reply() {
        out_ = header_text(reply_.file_end - reply_.file_begin);
        file_offset_ = reply_.file_begin;
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t) {
                              if (ec) {
                                  self->after_reply(ec, true);
                                  return;
                              }
                              self->write_file_chunk();
                          });
    }

    void write_file_chunk() {
        const std::uint64_t end = reply_.cut_file_at.value_or(reply_.file_end);
        if (file_offset_ >= end) {
            const bool cut = reply_.cut_file_at.has_value();
            if (cut) {
                spdlog::info("[{}] fault drop_mid_download_at: closing at byte {}",
                             own_.camera->name(), file_offset_);
            }
            after_reply({}, cut);
            return;
        }
        chunk_.resize(static_cast<std::size_t>(
            std::min<std::uint64_t>(file_chunk_size, end - file_offset_)));
        const std::size_t n = reply_.file->read(file_offset_, chunk_);
        chunk_.resize(n);
        file_offset_ += n;
        if (n == 0) {
            after_reply({}, true);
            return;
        }
        asio::async_write(socket_, asio::buffer(chunk_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      std::size_t) {
                              if (ec) {
                                  self->after_reply(ec, true);
                                  return;
                              }
                              self->write_file_chunk();
                          });
    }

    void after_reply(const boost::system::error_code& ec, bool must_close) {
        finish_in_flight();
        reply_ = http_reply{};
        if (after_write_) {
            auto action = std::move(after_write_);
            after_write_ = nullptr;
            asio::post(socket_.get_executor(), std::move(action));
        }
        if (ec || must_close || !keep_alive_) {
            close();
            return;
        }
        if (!pending_.empty()) {
            feed_parser();  // a pipelined request is already buffered
        } else {
            wait_readable();
        }
    }

    void send_bad_request() {
        reply_ = http_reply{};
        reply_.status = 400;
        reply_.headers.emplace_back("Content-Type", "text/plain");
        reply_.body = "Malformed HTTP request";
        keep_alive_ = false;
        write_reply();
    }

    void finish_in_flight() {
        if (in_flight_) {
            in_flight_ = false;
            own_.camera->request_finished();
        }
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    simulator& sim_;
    simulator::slot& own_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string pending_;  // received bytes the parser has not consumed yet
    receive_instant last_stamp_;
    bool keep_alive_ = true;
    bool head_only_ = false;
    bool in_flight_ = false;
    http_reply reply_;
    std::function<void()> after_write_;
    std::string out_;
    std::vector<char> chunk_;
    std::uint64_t file_offset_ = 0;
};

simulator::simulator(asio::io_context& io, std::vector<camera_params> cameras, std::string host,
                     int base_port, std::uint64_t seed)
    : io_(io), host_(std::move(host)) {
    const std::int64_t start = monotonic_now_us();
    for (std::size_t i = 0; i < cameras.size(); ++i) {
        auto s = std::make_unique<slot>();
        if (cameras[i].port) {
            s->requested_port = *cameras[i].port;
        } else if (base_port > 0) {
            s->requested_port = static_cast<std::uint16_t>(base_port + static_cast<int>(i));
        }
        s->camera = std::make_unique<camera>(std::move(cameras[i]), i, start, seed);
        s->restart_timer = std::make_unique<asio::steady_timer>(io_);
        slots_.push_back(std::move(s));
    }
}

simulator::~simulator() = default;

void simulator::open() {
    for (auto& s : slots_) {
        const bool unreachable = s->camera->unreachable();
        start_listener(*s);
        if (unreachable) {
            stop_listener(*s);
        }
    }
}

void simulator::close() {
    for (auto& s : slots_) {
        s->restart_timer->cancel();
        stop_listener(*s);
    }
}

const camera& simulator::camera_at(std::size_t index) const { return *slots_[index]->camera; }

std::vector<std::uint16_t> simulator::ports() const {
    std::vector<std::uint16_t> out;
    for (const auto& s : slots_) {
        out.push_back(s->camera->port());
    }
    return out;
}

void simulator::start_listener(slot& s) {
    if (s.listening) {
        return;
    }
    // After the first bind the camera keeps its port, so a restarted camera is found again.
    const std::uint16_t port = s.camera->port() != 0 ? s.camera->port() : s.requested_port;
    const tcp::endpoint endpoint(asio::ip::make_address(host_), port);
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    try {
        acceptor->open(endpoint.protocol());
        acceptor->set_option(tcp::acceptor::reuse_address(true));
        acceptor->bind(endpoint);
        acceptor->listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        throw boost::system::system_error(
            e.code(), fmt::format("camera {}: cannot listen on {}:{}", s.camera->name(), host_,
                                  port));
    }
    s.camera->set_address(host_, acceptor->local_endpoint().port());
    s.acceptor = std::move(acceptor);
    s.listening = true;
    s.camera->set_unreachable(false);
    spdlog::info("[{}] listening on {}:{}", s.camera->name(), host_, s.camera->port());
    accept(s);
}

void simulator::stop_listener(slot& s) {
    if (s.acceptor) {
        boost::system::error_code ignored;
        s.acceptor->close(ignored);
        s.acceptor.reset();
    }
    for (auto& weak : s.connections) {
        if (auto c = weak.lock()) {
            c->close();
        }
    }
    s.connections.clear();
    if (s.listening) {
        spdlog::info("[{}] stopped listening", s.camera->name());
    }
    s.listening = false;
    s.camera->set_unreachable(true);
}

void simulator::accept(slot& s) {
    s.acceptor->async_accept([this, &s, acceptor = s.acceptor.get()](
                                 const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || acceptor != s.acceptor.get()) {
            return;  // the listener was closed
        }
        if (!ec) {
            s.camera->count_connection();
            auto c = std::make_shared<connection>(std::move(socket), *this, s);
            std::erase_if(s.connections, [](const auto& weak) { return weak.expired(); });
            s.connections.push_back(c);
            c->start();
        } else {
            spdlog::warn("[{}] accept failed: {}", s.camera->name(), ec.message());
        }
        accept(s);
    });
}

void simulator::sync_listeners() {
    for (auto& s : slots_) {
        const bool should_listen = !s->camera->unreachable();
        if (should_listen && !s->listening) {
            try {
                start_listener(*s);
            } catch (const boost::system::system_error& e) {
                spdlog::error("[{}] restart failed: {}", s->camera->name(), e.what());
            }
        } else if (!should_listen && s->listening) {
            stop_listener(*s);
        }
    }
}

http_reply simulator::control(slot& own, const http_request& request,
                              std::function<void()>& after) {
    http_reply reply;
    reply.headers.emplace_back("Content-Type", "application/json;charset=utf-8");
    const bool stop = request.target.starts_with("/sim/stop");
    if (request.method != "POST") {
        reply.status = 405;
        reply.body = R"({"error":"use POST"})";
        return reply;
    }
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (request.body.empty()) {
        body = nlohmann::json::object();
    }
    if (!body.is_object()) {
        reply.status = 400;
        reply.body = R"({"error":"expected a JSON object with optional camera and for_s"})";
        return reply;
    }

    slot* target = &own;
    if (body.contains("camera")) {
        const std::string camera_name = body["camera"].is_string()
                                            ? body["camera"].get<std::string>()
                                            : body["camera"].dump();
        target = nullptr;
        for (auto& s : slots_) {
            if (s->camera->name() == camera_name) {
                target = s.get();
            }
        }
        if (target == nullptr) {
            reply.status = 404;
            reply.body = nlohmann::json{{"error", fmt::format("no camera named {}", camera_name)}}.dump();
            return reply;
        }
    }
    const double for_s = body.value("for_s", 0.0);
    reply.body = nlohmann::json{{"camera", target->camera->name()},
                                {"listening", !stop},
                                {"for_s", for_s}}
                     .dump();
    after = [this, target, stop, for_s] {
        target->restart_timer->cancel();
        if (!stop) {
            target->camera->set_unreachable(false);
            sync_listeners();
            return;
        }
        stop_listener(*target);
        if (for_s > 0) {
            target->restart_timer->expires_after(
                std::chrono::microseconds(static_cast<std::int64_t>(for_s * 1e6)));
            target->restart_timer->async_wait([this, target](const boost::system::error_code& ec) {
                if (!ec) {
                    target->camera->set_unreachable(false);
                    sync_listeners();
                }
            });
        }
    };
    return reply;
}

}  // namespace oscrig::sim
