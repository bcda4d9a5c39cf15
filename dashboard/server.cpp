#include "dashboard/server.hpp"

#include "dashboard/fleet_json.hpp"
#include "dashboard/metrics.hpp"
#include "dashboard/routes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <list>
#include <stdexcept>
#include <unordered_set>

namespace oscrig::dashboard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Changes that arrive within this window reach event-stream clients as one event.
constexpr std::chrono::milliseconds change_coalescing{100};

// At most one log line per this interval for connections rejected at the limit.
constexpr std::chrono::seconds limit_log_interval{10};

// Wait after a failed accept before the next one.
constexpr std::chrono::milliseconds accept_retry_delay{100};

tcp::endpoint parse_listen_endpoint(const server_settings& settings) {
    boost::system::error_code error;
    const auto address = asio::ip::make_address(settings.address, error);
    if (error) {
        throw std::invalid_argument("invalid listen address \"" + settings.address +
                                    "\": expected an IPv4 or IPv6 literal such as 127.0.0.1");
    }
    if (!address.is_loopback() && settings.bearer_token.empty()) {
        throw std::invalid_argument(
            "listen address " + settings.address +
            " is not loopback and no bearer token is set: set a token, or listen on 127.0.0.1");
    }
    return {address, settings.port};
}

bool is_quiet_end(const boost::system::error_code& error) {
    return error == http::error::end_of_stream || error == asio::error::eof ||
           error == asio::error::connection_reset || error == asio::error::operation_aborted ||
           error == beast::error::timeout || error == asio::error::bad_descriptor;
}

http::response<http::string_body> make_response(const reply& result, unsigned version,
                                                bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(result.status),
                                               version};
    response.set(http::field::server, "oscrig");
    response.set(http::field::content_type, result.content_type);
    response.set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : result.headers) {
        response.set(name, value);
    }
    response.body() = result.body;
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
}

// A client of /events: the session writes an event whenever `pending` is set, and the wake
// timer's cancellation is the signal that it was.
struct event_client {
    explicit event_client(const asio::any_io_executor& executor) : wake(executor) {}

    asio::steady_timer wake;
    bool pending = true;  // the first event goes out at once
    bool closed = false;
};

}  // namespace

struct server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor executor_in, controller::fleet& fleet_in,
         server_settings settings_in)
        : executor(std::move(executor_in)),
          fleet(fleet_in),
          settings(std::move(settings_in)),
          metrics(fleet, settings.version),
          routes(fleet, metrics, {settings.bearer_token, settings.ready_check}),
          acceptor(executor),
          change_timer(executor) {
        const auto endpoint = parse_listen_endpoint(settings);
        try {
            acceptor.open(endpoint.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(endpoint);
            acceptor.listen(asio::socket_base::max_listen_connections);
        } catch (const boost::system::system_error& error) {
            throw boost::system::system_error(
                error.code(), "cannot listen on " + settings.address + ":" +
                                  std::to_string(settings.port));
        }
        bound_port = acceptor.local_endpoint().port();
    }

    void start() {
        if (running || stopped) {
            return;
        }
        running = true;
        spdlog::info("dashboard listening on http://{}:{}", settings.address, bound_port);
        spawn_logged("accept loop", accept_loop(shared_from_this()));
    }

    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        boost::system::error_code ignored;
        acceptor.close(ignored);
        change_timer.cancel();
        for (auto* stream : streams) {
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream->close();
        }
        for (auto& client : event_clients) {
            client->closed = true;
            client->wake.cancel();
        }
        if (running) {
            spdlog::info("dashboard on port {} stopped", bound_port);
        }
        running = false;
    }

    template <class Awaitable>
    void spawn_logged(std::string task_name, Awaitable&& work) {
        asio::co_spawn(executor, std::forward<Awaitable>(work),
                       [task_name = std::move(task_name)](std::exception_ptr error) {
                           if (!error) {
                               return;
                           }
                           try {
                               std::rethrow_exception(error);
                           } catch (const std::exception& caught) {
                               spdlog::error("dashboard {} failed: {}", task_name,
                                             caught.what());
                           }
                       });
    }

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        while (!self->stopped) {
            auto [error, socket] = co_await self->acceptor.async_accept(use_tuple);
            if (self->stopped) {
                break;
            }
            if (error) {
                // Pausing keeps a persistent failure such as "too many open files" from
                // turning into a busy loop.
                spdlog::warn("dashboard accept failed: {}", error.message());
                asio::steady_timer pause(self->executor, accept_retry_delay);
                co_await pause.async_wait(use_tuple);
                continue;
            }
            if (self->streams.size() >= self->settings.limits.max_connections) {
                self->log_connection_limit();
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            self->spawn_logged("connection", run_connection(self, std::move(socket)));
        }
    }

    void log_connection_limit() {
        ++rejected_connections;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_limit_log < limit_log_interval) {
            return;
        }
        spdlog::warn("dashboard closed {} connections at the limit of {} open connections",
                     rejected_connections, settings.limits.max_connections);
        rejected_connections = 0;
        last_limit_log = now;
    }

    static asio::awaitable<void> run_connection(std::shared_ptr<impl> self, tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        self->streams.insert(&stream);
        try {
            const bool unread_input = co_await serve_requests(self, stream);
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            if (unread_input && !self->stopped) {
                co_await drain_input(stream);
            }
        } catch (...) {
            self->streams.erase(&stream);
            throw;
        }
        self->streams.erase(&stream);
    }

    // Reads and drops what the client still sends after a final error reply, for a short
    // while. Closing with unread input makes the kernel send a reset, which can destroy the
    // reply before the client reads it.
    static asio::awaitable<void> drain_input(beast::tcp_stream& stream) {
        constexpr std::size_t max_drained_bytes = 1024 * 1024;
        std::array<char, 8192> discard;
        std::size_t drained = 0;
        stream.expires_after(std::chrono::seconds(2));
        while (drained < max_drained_bytes) {
            auto [error, bytes] = co_await stream.async_read_some(asio::buffer(discard), use_tuple);
            if (error) {
                break;
            }
            drained += bytes;
        }
    }

    // Writes a reply that ends the connection, for requests the server rejects. These are
    // client mistakes, so they are logged at debug level only.
    static asio::awaitable<void> write_final(impl& self, beast::tcp_stream& stream,
                                             const reply& result) {
        boost::system::error_code endpoint_error;
        const auto remote = stream.socket().remote_endpoint(endpoint_error);
        spdlog::debug("dashboard rejected a request from {}:{} with {}: {}",
                      remote.address().to_string(), remote.port(), result.status, result.body);
        auto response = make_response(result, 11, false);
        stream.expires_after(self.settings.limits.idle_timeout);
        co_await http::async_write(stream, response, use_tuple);
    }

    // Serves requests until the connection should close. Returns true when the client may
    // still be sending a request the server stopped reading.
    static asio::awaitable<bool> serve_requests(std::shared_ptr<impl> self,
                                                beast::tcp_stream& stream) {
        const auto& limits = self->settings.limits;
        beast::flat_buffer buffer;
        while (!self->stopped) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
            parser.body_limit(limits.max_body_bytes);

            stream.expires_after(limits.idle_timeout);
            auto [header_error, header_bytes] =
                co_await http::async_read_header(stream, buffer, parser, use_tuple);
            if (header_error == http::error::header_limit) {
                co_await write_final(*self, stream,
                                     error_reply(431, "request header larger than " +
                                                          std::to_string(limits.max_header_bytes) +
                                                          " bytes"));
                co_return true;
            }
            // Beast compares a declared Content-Length with the body limit as soon as the
            // header is complete, so a large declared body fails here, before it is read.
            if (header_error == http::error::body_limit) {
                co_await write_final(*self, stream, body_too_large(limits));
                co_return true;
            }
            if (header_error) {
                if (!is_quiet_end(header_error) && header_error != http::error::partial_message) {
                    co_await write_final(*self, stream,
                                         error_reply(400, "malformed HTTP request: " +
                                                              header_error.message()));
                    co_return true;
                }
                co_return false;
            }

            if (!parser.is_done()) {
                auto [body_error, body_bytes] =
                    co_await http::async_read(stream, buffer, parser, use_tuple);
                if (body_error == http::error::body_limit) {
                    co_await write_final(*self, stream, body_too_large(limits));
                    co_return true;
                }
                if (body_error) {
                    co_return false;
                }
            }

            auto request = parser.release();
            const bool keep_alive = request.keep_alive();
            const reply result = self->route(request);
            if (self->stopped) {
                co_return false;
            }
            if (result.event_stream) {
                co_await stream_events(self, stream);
                co_return false;
            }
            const bool written = result.file.empty()
                                     ? co_await write_reply(*self, stream, result, request,
                                                            keep_alive)
                                     : co_await write_file(*self, stream, result, request,
                                                           keep_alive);
            if (!written || !keep_alive) {
                co_return false;
            }
        }
        co_return false;
    }

    static reply body_too_large(const server_limits& limits) {
        return error_reply(413, "request body larger than " +
                                    std::to_string(limits.max_body_bytes) + " bytes");
    }

    reply route(const http::request<http::string_body>& request) {
        const request_view view{
            request.method_string(),
            request.target(),
            request[http::field::authorization],
            request[http::field::origin],
            request[http::field::host],
            request.body(),
        };
        try {
            return routes.handle(view);
        } catch (const std::exception& error) {
            spdlog::error("dashboard request {} {} failed: {}", request.method_string(),
                          request.target(), error.what());
            return error_reply(500, "internal error while handling the request");
        }
    }

    static asio::awaitable<bool> write_reply(impl& self, beast::tcp_stream& stream,
                                             const reply& result,
                                             const http::request<http::string_body>& request,
                                             bool keep_alive) {
        auto response = make_response(result, request.version(), keep_alive);
        stream.expires_after(self.settings.limits.idle_timeout);
        auto [error, bytes] = co_await http::async_write(stream, response, use_tuple);
        co_return !error;
    }

    // Streams a downloaded file piece by piece, so that the idle timeout applies to each
    // piece and not to the whole file.
    static asio::awaitable<bool> write_file(impl& self, beast::tcp_stream& stream,
                                            const reply& result,
                                            const http::request<http::string_body>& request,
                                            bool keep_alive) {
        http::file_body::value_type body;
        boost::system::error_code open_error;
        body.open(result.file.c_str(), beast::file_mode::scan, open_error);
        if (open_error) {
            spdlog::error("dashboard failed to open {}: {}", result.file.string(),
                          open_error.message());
            co_return co_await write_reply(self, stream, error_reply(404, "file not found"),
                                           request, keep_alive);
        }
        http::response<http::file_body> response{http::status::ok, request.version()};
        response.set(http::field::server, "oscrig");
        response.set(http::field::content_type, result.content_type);
        response.set("X-Content-Type-Options", "nosniff");
        response.body() = std::move(body);
        response.keep_alive(keep_alive);
        response.prepare_payload();

        http::response_serializer<http::file_body> serializer{response};
        while (!serializer.is_done()) {
            stream.expires_after(self.settings.limits.idle_timeout);
            auto [error, bytes] = co_await http::async_write_some(stream, serializer, use_tuple);
            if (error) {
                co_return false;
            }
        }
        co_return true;
    }

    // Serves /events until the client goes away or the server stops. The stream carries one
    // event with the whole fleet at once and after every burst of changes. When idle it
    // carries a comment line, so that proxies and browsers keep the stream open.
    static asio::awaitable<void> stream_events(std::shared_ptr<impl> self,
                                               beast::tcp_stream& stream) {
        if (self->event_clients.size() >= self->settings.limits.max_event_clients) {
            co_await write_final(*self, stream,
                                 error_reply(503, "too many event streams open, at most " +
                                                      std::to_string(self->settings.limits
                                                                         .max_event_clients)));
            co_return;
        }
        auto client = std::make_shared<event_client>(self->executor);
        self->event_clients.push_back(client);
        try {
            co_await send_events(self, stream, client);
        } catch (...) {
            self->event_clients.remove(client);
            throw;
        }
        self->event_clients.remove(client);
    }

    static asio::awaitable<void> send_events(std::shared_ptr<impl> self,
                                             beast::tcp_stream& stream,
                                             std::shared_ptr<event_client> client_pointer) {
        event_client& client = *client_pointer;
        // The stream has no length, so it ends when the connection closes.
        const std::string head =
            "HTTP/1.1 200 OK\r\nServer: oscrig\r\nContent-Type: text/event-stream\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\nretry: 2000\n\n";
        if (!co_await write_text(*self, stream, head)) {
            co_return;
        }
        self->spawn_logged("event stream watch",
                           watch_for_close(stream.socket(), client_pointer));

        while (!self->stopped && !client.closed) {
            if (client.pending) {
                client.pending = false;
                if (self->latest_event.empty()) {
                    self->latest_event = self->build_event();
                }
                if (!co_await write_text(*self, stream, self->latest_event)) {
                    co_return;
                }
                continue;
            }
            client.wake.expires_after(self->settings.event_keep_alive);
            auto [wait_error] = co_await client.wake.async_wait(use_tuple);
            if (!wait_error && !client.pending && !client.closed) {
                if (!co_await write_text(*self, stream, ": keep-alive\n\n")) {
                    co_return;
                }
            }
        }
    }

    // Reads from an event-stream client, which sends nothing after its request, to notice at
    // once when it closes the connection. After the first error it no longer touches the
    // socket, which may be gone by then.
    static asio::awaitable<void> watch_for_close(tcp::socket& socket,
                                                 std::shared_ptr<event_client> client) {
        std::array<char, 256> discard;
        while (true) {
            auto [error, bytes] = co_await socket.async_read_some(asio::buffer(discard), use_tuple);
            if (error) {
                break;
            }
        }
        client->closed = true;
        client->wake.cancel();
    }

    static asio::awaitable<bool> write_text(impl& self, beast::tcp_stream& stream,
                                            const std::string& text) {
        stream.expires_after(self.settings.limits.idle_timeout);
        auto [error, bytes] = co_await asio::async_write(stream, asio::buffer(text), use_tuple);
        co_return !error;
    }

    std::string build_event() const {
        return "event: update\ndata: " + json_text(fleet_update_json(fleet)) + "\n\n";
    }

    void on_fleet_change() {
        if (stopped || change_scheduled) {
            return;
        }
        change_scheduled = true;
        change_timer.expires_after(change_coalescing);
        change_timer.async_wait([weak = weak_from_this()](boost::system::error_code error) {
            auto self = weak.lock();
            if (!self) {
                return;
            }
            self->change_scheduled = false;
            if (!error && !self->stopped) {
                self->publish_change();
            }
        });
    }

    void publish_change() {
        try {
            metrics.update();
            latest_event = event_clients.empty() ? std::string{} : build_event();
        } catch (const std::exception& error) {
            spdlog::error("dashboard failed to read the fleet after a change: {}", error.what());
            return;
        }
        for (auto& client : event_clients) {
            client->pending = true;
            client->wake.cancel();
        }
    }

    asio::any_io_executor executor;
    controller::fleet& fleet;
    server_settings settings;
    fleet_metrics metrics;
    router routes;
    tcp::acceptor acceptor;
    std::uint16_t bound_port = 0;
    bool running = false;
    bool stopped = false;

    std::unordered_set<beast::tcp_stream*> streams;  // every open connection, for stop()
    std::list<std::shared_ptr<event_client>> event_clients;
    std::string latest_event;  // the last event sent, empty when it must be built again
    asio::steady_timer change_timer;
    bool change_scheduled = false;

    std::size_t rejected_connections = 0;
    std::chrono::steady_clock::time_point last_limit_log{};
};

server::server(boost::asio::any_io_executor executor, controller::fleet& fleet,
               server_settings settings)
    : impl_(std::make_shared<impl>(std::move(executor), fleet, std::move(settings))) {
    // The fleet has no way to unregister a listener, so it holds only a weak reference.
    fleet.on_change([weak = std::weak_ptr<impl>(impl_)] {
        if (auto self = weak.lock()) {
            self->on_fleet_change();
        }
    });
}

server::~server() {
    impl_->stop();
}

void server::start() {
    impl_->start();
}

void server::stop() {
    impl_->stop();
}

std::uint16_t server::port() const {
    return impl_->bound_port;
}

}  // namespace oscrig::dashboard
