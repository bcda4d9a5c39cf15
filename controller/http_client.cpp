#include "controller/http_client.hpp"

#include "controller/digest_auth.hpp"
#include "controller/file_sink.hpp"
#include "controller/net_interface.hpp"
#include "controller/osc_protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace oscrig::controller {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t download_buffer_size = file_sink::chunk_size;

std::string describe(const http_request& request) {
    return request.method + " " + request.target;
}

/// Maps a socket or parser error to the failure callers see.
failure transport_failure(const error_code& ec, const std::string& what,
                          std::chrono::milliseconds deadline) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
        return make_failure(errc::timed_out,
                            fmt::format("{} got no reply within {} ms", what, deadline.count()));
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::broken_pipe || ec == asio::error::connection_aborted) {
        return make_failure(errc::connection_closed, fmt::format("{}: {}", what, ec.message()));
    }
    if (ec == asio::error::operation_aborted) {
        return make_failure(errc::cancelled, what);
    }
    return failure{ec, what};
}

/// True for errors that mean the camera closed the connection before sending anything back.
bool is_closed_before_reply(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted;
}

/// Parses the first byte offset of "Content-Range: bytes N-M/T".
std::optional<std::uint64_t> content_range_start(std::string_view value) {
    constexpr std::string_view prefix = "bytes ";
    if (value.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    value.remove_prefix(prefix.size());
    std::uint64_t start = 0;
    std::size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') {
        start = start * 10 + static_cast<std::uint64_t>(value[digits] - '0');
        ++digits;
    }
    if (digits == 0 || digits >= value.size() || value[digits] != '-') {
        return std::nullopt;
    }
    return start;
}

}  // namespace

std::int64_t wall_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct http_client::impl {
    impl(asio::any_io_executor executor, config::camera_config camera_config,
         config::request_timeouts request_timeouts)
        : stream(executor), camera(std::move(camera_config)), timeouts(request_timeouts) {}

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    config::camera_config camera;
    config::request_timeouts timeouts;
    bool open = false;
    std::uint64_t connections = 0;
    std::string password;  // resolved at connect from auth.password or auth.password_env

    // Digest state of the open connection, created by the first 401 and reused for every
    // later request on the connection.
    std::optional<digest_client> digest;

    // Staged request: the serialized bytes, of which all but the last are written.
    std::optional<std::string> staged;
    std::chrono::milliseconds staged_timeout{0};
    std::string staged_what;

    void close_socket() {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.socket().close(ignored);
        open = false;
        staged.reset();
        buffer.clear();
        digest.reset();
    }

    /// True when the kept-alive connection is unusable: the camera sent FIN or reset it.
    bool peer_closed() {
        char byte = 0;
        const int fd = stream.socket().native_handle();
        const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            return errno != EAGAIN && errno != EWOULDBLOCK;
        }
        // Unrequested bytes mean the connection is out of step with its requests, so it is not
        // reused.
        return true;
    }

    outcome<void> resolve_password() {
        password.clear();
        if (!camera.auth) {
            return {};
        }
        if (camera.auth->password_env.empty()) {
            password = camera.auth->password;
            return {};
        }
        const char* value = std::getenv(camera.auth->password_env.c_str());
        if (value == nullptr) {
            return make_failure(errc::auth_failed,
                                fmt::format("environment variable {} (auth.password_env of "
                                            "camera {}) is not set",
                                            camera.auth->password_env, camera.name));
        }
        password = value;
        return {};
    }

    outcome<void> prepare_socket(const tcp::endpoint& endpoint) {
        error_code ec;
        stream.socket().open(endpoint.protocol(), ec);
        if (ec) {
            return failure{ec, "opening a socket"};
        }
        if (!camera.interface.empty()) {
            auto bound = bind_socket_to_device(stream.socket().native_handle(), camera.interface);
            if (!bound) {
                return bound.error();
            }
        }
        if (!camera.source_address.empty()) {
            const auto address = asio::ip::make_address(camera.source_address, ec);
            if (ec) {
                return make_failure(errc::interface_unusable,
                                    fmt::format("source_address \"{}\" is not an IP address",
                                                camera.source_address));
            }
            stream.socket().bind(tcp::endpoint(address, 0), ec);
            if (ec) {
                return failure{ec, fmt::format("binding source address {}",
                                               camera.source_address)};
            }
        }
        return {};
    }

    asio::awaitable<outcome<tcp::resolver::results_type>> resolve() {
        tcp::resolver resolver(stream.get_executor());
        asio::steady_timer deadline(stream.get_executor(), timeouts.connect);
        deadline.async_wait([&resolver](error_code ec) {
            if (!ec) {
                resolver.cancel();
            }
        });
        auto [ec, results] = co_await resolver.async_resolve(
            camera.host, std::to_string(camera.port), tuple_awaitable);
        deadline.cancel();
        if (ec == asio::error::operation_aborted) {
            co_return make_failure(errc::timed_out,
                                   fmt::format("resolving {} took over {} ms", camera.host,
                                               timeouts.connect.count()));
        }
        if (ec) {
            co_return failure{ec, fmt::format("resolving {}", camera.host)};
        }
        co_return results;
    }

    asio::awaitable<outcome<void>> connect() {
        if (open) {
            co_return outcome<void>{};
        }
        if (!camera.interface.empty()) {
            auto usable = check_interface_usable(camera.interface);
            if (!usable) {
                co_return usable.error();
            }
        }
        if (auto password_ok = resolve_password(); !password_ok) {
            co_return password_ok.error();
        }
        auto endpoints = co_await resolve();
        if (!endpoints) {
            co_return endpoints.error();
        }

        // One endpoint at a time on a socket bound before connect: a range connect would
        // reopen the socket per endpoint and lose the interface binding.
        failure last = make_failure(errc::timed_out, "no address to connect to");
        for (const auto& entry : *endpoints) {
            close_socket();
            if (auto prepared = prepare_socket(entry.endpoint()); !prepared) {
                last = prepared.error();
                continue;
            }
            stream.expires_after(timeouts.connect);
            auto [ec] = co_await stream.async_connect(entry.endpoint(), tuple_awaitable);
            stream.expires_never();
            if (ec) {
                last = ec == beast::error::timeout
                           ? make_failure(errc::timed_out,
                                          fmt::format("connecting to {} took over {} ms",
                                                      entry.endpoint().address().to_string(),
                                                      timeouts.connect.count()))
                           : failure{ec, fmt::format("connecting to {}:{}",
                                                     entry.endpoint().address().to_string(),
                                                     entry.endpoint().port())};
                continue;
            }
            error_code ignored;
            stream.socket().set_option(tcp::no_delay(true), ignored);
            open = true;
            ++connections;
            spdlog::debug("[{}] connected to {}:{} from {}", camera.name,
                          entry.endpoint().address().to_string(), entry.endpoint().port(),
                          local_endpoint());
            co_return outcome<void>{};
        }
        close_socket();
        co_return last;
    }

    std::string local_endpoint() const {
        if (!open) {
            return {};
        }
        error_code ec;
        const auto endpoint = stream.socket().local_endpoint(ec);
        if (ec) {
            return {};
        }
        return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
    }

    /// Serializes a request with the headers every OSC request carries.
    std::string serialize(const http_request& request, const std::string& authorization) const {
        http::request<http::string_body> message;
        message.method_string(request.method);
        message.target(request.target);
        message.version(11);
        const std::string host = camera.port == 80
                                     ? camera.host
                                     : fmt::format("{}:{}", camera.host, camera.port);
        message.set(http::field::host, host);
        message.set(http::field::accept, osc::accept);
        message.set(osc::xsrf_header, "1");
        if (request.method == "POST") {
            message.set(http::field::content_type, osc::content_type);
        }
        for (const auto& [name, value] : request.fields) {
            message.set(name, value);
        }
        if (!authorization.empty()) {
            message.set(http::field::authorization, authorization);
        }
        message.body() = request.body;
        message.prepare_payload();
        // prepare_payload() sets no Content-Length on a GET without a body, but Insta360 lists
        // Content-Length among the headers of every request.
        if (message.find(http::field::content_length) == message.end()) {
            message.content_length(request.body.size());
        }
        std::ostringstream text;
        text << message;
        return text.str();
    }

    std::string authorization_for(const http_request& request) {
        if (digest && digest->has_challenge()) {
            return digest->authorization(request.method, request.target);
        }
        return {};
    }

    /// Writes `bytes` and reads the reply, both within `deadline`.
    struct exchange_result {
        error_code ec;
        std::size_t written = 0;
        bool read_started = false;  // some reply byte arrived
        http::response<http::string_body> response;
    };

    asio::awaitable<exchange_result> write_and_read(const std::string& bytes,
                                                    std::chrono::milliseconds deadline) {
        exchange_result result;
        stream.expires_after(deadline);
        auto [write_ec, written] =
            co_await asio::async_write(stream, asio::buffer(bytes), tuple_awaitable);
        result.written = written;
        if (write_ec) {
            stream.expires_never();
            result.ec = write_ec;
            co_return result;
        }
        co_await read_reply(result);
        co_return result;
    }

    // Fills `result` in place: passing it by value into this coroutine corrupted the heap
    // under GCC 12.2 (a double free in the response's header fields).
    asio::awaitable<void> read_reply(exchange_result& result) {
        const std::size_t buffered = buffer.size();
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        auto [read_ec, read_bytes] =
            co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        stream.expires_never();
        result.read_started = read_bytes > 0 || buffered > 0 || parser.got_some();
        result.ec = read_ec;
        if (!read_ec) {
            result.response = parser.release();
        }
    }

    http_response to_response(exchange_result& result, std::int64_t sent_wall, host_us sent_host) {
        http_response response;
        response.status = static_cast<int>(result.response.result_int());
        response.body = std::move(result.response.body());
        response.sent_wall_us = sent_wall;
        response.sent_host_us = sent_host;
        response.received_host_us = host_now();
        response.received_wall_us = wall_now_us();
        if (!result.response.keep_alive()) {
            close_socket();
        }
        return response;
    }

    /// Opens a connection or checks the kept-alive one. Returns whether the connection was
    /// reused, which decides whether a failure may be retried on a fresh one.
    asio::awaitable<outcome<bool>> ready_connection() {
        if (open && !staged && peer_closed()) {
            spdlog::debug("[{}] kept-alive connection closed by the camera, reopening",
                          camera.name);
            close_socket();
        }
        if (staged) {
            co_return make_failure(errc::not_ready, "a staged request is waiting for release");
        }
        const bool reused = open;
        auto connected = co_await connect();
        if (!connected) {
            co_return connected.error();
        }
        co_return reused;
    }

    asio::awaitable<outcome<http_response>> send(http_request request) {
        const std::string what = describe(request);
        int challenges_answered = 0;
        bool retried = false;
        for (;;) {
            auto reused = co_await ready_connection();
            if (!reused) {
                co_return reused.error();
            }
            const std::string bytes = serialize(request, authorization_for(request));
            const auto sent_wall = wall_now_us();
            const auto sent_host = host_now();
            auto result = co_await write_and_read(bytes, request.timeout);
            if (result.ec) {
                close_socket();
                // The camera may have closed a kept-alive connection just as the request went
                // out. Send again once, on a fresh connection, when that cannot repeat an
                // effect on the camera.
                const bool nothing_reached = result.written == 0;
                const bool closed_early = is_closed_before_reply(result.ec) && !result.read_started;
                if (*reused && !retried && closed_early && (request.idempotent || nothing_reached)) {
                    spdlog::info("[{}] connection closed under {}, sending it again on a new "
                                 "connection",
                                 camera.name, what);
                    retried = true;
                    continue;
                }
                co_return transport_failure(result.ec, what, request.timeout);
            }
            if (result.response.result() == http::status::unauthorized && camera.auth) {
                // Credentials go out once per challenge, and once more only after a stale nonce.
                // Any other second 401 is auth_failed, so a wrong password never loops.
                auto action = answer_challenge(result.response, what);
                if (!action) {
                    close_socket();
                    co_return action.error();
                }
                const bool allowed = challenges_answered == 0 ||
                                     (challenges_answered == 1 &&
                                      *action == challenge_action::renew_nonce);
                if (!allowed) {
                    close_socket();
                    co_return make_failure(errc::auth_failed,
                                           fmt::format("{} rejected the credentials of user {}",
                                                       what, camera.auth->user));
                }
                ++challenges_answered;
                if (!result.response.keep_alive()) {
                    close_socket();
                }
                continue;
            }
            if (digest) {
                const auto info = result.response[http::field::authentication_info];
                if (!info.empty()) {
                    digest->on_authentication_info(info);
                }
            }
            co_return to_response(result, sent_wall, sent_host);
        }
    }

    outcome<challenge_action> answer_challenge(const http::response<http::string_body>& response,
                                               const std::string& what) {
        const auto challenge = response[http::field::www_authenticate];
        if (!digest) {
            digest.emplace(camera.auth->user, password);
        }
        auto action = digest->on_unauthorized(challenge);
        if (!action) {
            return failure{action.error().code,
                           fmt::format("{}: {}", what, action.error().detail)};
        }
        return *action;
    }

    asio::awaitable<outcome<void>> stage(http_request request) {
        auto reused = co_await ready_connection();
        if (!reused) {
            co_return reused.error();
        }
        std::string bytes = serialize(request, authorization_for(request));
        stream.expires_after(request.timeout);
        auto [ec, written] = co_await asio::async_write(
            stream, asio::buffer(bytes.data(), bytes.size() - 1), tuple_awaitable);
        stream.expires_never();
        if (ec) {
            close_socket();
            co_return transport_failure(ec, "staging " + describe(request), request.timeout);
        }
        staged = std::move(bytes);
        staged_timeout = request.timeout;
        staged_what = describe(request);
        co_return outcome<void>{};
    }

    outcome<release_times> release(bool check_peer) {
        if (!staged) {
            return make_failure(errc::not_ready, "no staged request to release");
        }
        if (!open || (check_peer && peer_closed())) {
            const std::string what = staged_what;
            close_socket();
            return make_failure(errc::connection_closed,
                                fmt::format("the camera closed the connection while {} was "
                                            "staged",
                                            what));
        }
        const char last = staged->back();
        const int fd = stream.socket().native_handle();
        release_times times;
        times.before = host_now();
        const ssize_t sent = ::send(fd, &last, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        times.after = host_now();
        if (sent != 1) {
            const int error_number = errno;
            const std::string what = staged_what;
            close_socket();
            return make_failure(errc::connection_closed,
                                fmt::format("sending the final byte of {} failed: {}", what,
                                            std::strerror(error_number)));
        }
        staged.reset();
        return times;
    }

    asio::awaitable<outcome<http_response>> read_staged_reply() {
        const std::string what = staged_what;
        const auto deadline = staged_timeout;
        if (staged) {
            co_return make_failure(errc::not_ready, what + " is staged but not released");
        }
        const auto sent_wall = wall_now_us();
        const auto sent_host = host_now();
        stream.expires_after(deadline);
        exchange_result result;
        co_await read_reply(result);
        if (result.ec) {
            close_socket();
            co_return transport_failure(result.ec, what, deadline);
        }
        co_return to_response(result, sent_wall, sent_host);
    }

    asio::awaitable<outcome<download_result>> download(std::string target,
                                                       std::filesystem::path file,
                                                       std::uint64_t resume_from,
                                                       download_progress progress) {
        http_request request;
        request.method = "GET";
        request.target = std::move(target);
        request.timeout = timeouts.download_stall;
        if (resume_from > 0) {
            request.fields.emplace_back("Range", fmt::format("bytes={}-", resume_from));
        }
        const std::string what = describe(request);

        auto header = co_await send_for_download(request);
        if (!header) {
            co_return header.error();
        }
        auto& parser = **header;
        const int status = static_cast<int>(parser.get().result_int());

        download_result result;
        result.status = status;
        if (const auto length = parser.content_length()) {
            result.content_length = *length;
        }
        if (status == 206) {
            const auto start = content_range_start(parser.get()[http::field::content_range]);
            if (!start || *start != resume_from) {
                close_socket();
                co_return make_failure(errc::malformed_reply,
                                       fmt::format("{}: Content-Range \"{}\" does not start at "
                                                   "byte {}",
                                                   what,
                                                   std::string(parser.get()[http::field::content_range]),
                                                   resume_from));
            }
            result.offset = resume_from;
        } else if (status != 200) {
            close_socket();
            co_return make_failure(errc::http_status,
                                   fmt::format("{} answered HTTP {}", what, status));
        }

        auto opened = file_sink::open(stream.get_executor(), file, result.offset);
        if (!opened) {
            close_socket();
            co_return opened.error();
        }
        auto sink = std::move(*opened);

        // Plain statements around each co_await: built by GCC 12, this function crashed on a
        // failed download while the two reads were the arms of a ?: expression.
        body_outcome read_result;
        if (parser.chunked() || !parser.content_length()) {
            read_result = co_await read_parsed_body(parser, *sink, result, progress);
        } else {
            read_result = co_await read_plain_body(*parser.content_length(), *sink, result,
                                                   progress);
        }
        if (!read_result) {
            close_socket();
            // What arrived stays in the .part file for a resumed attempt.
            auto flushed = co_await sink->finish();
            if (!flushed) {
                spdlog::warn("[{}] {}", camera.name, flushed.error().to_string());
            }
            if (read_result.error().code == errc::file_io) {
                co_return read_result.error();
            }
            const auto& ec = read_result.error().code;
            if (ec == beast::error::timeout) {
                co_return make_failure(errc::timed_out,
                                       fmt::format("{} stalled: no byte for {} ms after {} bytes",
                                                   what, timeouts.download_stall.count(),
                                                   result.offset + result.bytes_written));
            }
            co_return transport_failure(
                ec, fmt::format("{} after {} bytes", what, result.offset + result.bytes_written),
                timeouts.download_stall);
        }
        auto digest = co_await sink->finish();
        if (!digest) {
            close_socket();
            co_return digest.error();
        }
        if (result.content_length && result.bytes_written != *result.content_length) {
            close_socket();
            co_return make_failure(errc::length_mismatch,
                                   fmt::format("{}: {} bytes, Content-Length {}", what,
                                               result.bytes_written, *result.content_length));
        }
        result.sha256 = std::move(*digest);
        if (!parser.get().keep_alive()) {
            close_socket();
        }
        co_return result;
    }

    using download_parser = http::response_parser<http::buffer_body>;

    /// Fails with errc::file_io from the sink, or with the socket's error code as `code`.
    using body_outcome = outcome<void>;

    static body_outcome socket_failure(const error_code& ec) { return failure{ec, "body"}; }

    /// Reads a body of known length straight from the socket into the sink's buffers, so that
    /// each byte is copied once on its way to the file. The bytes that came with the header are
    /// in `buffer`.
    asio::awaitable<body_outcome> read_plain_body(std::uint64_t length, file_sink& sink,
                                                  download_result& result,
                                                  const download_progress& progress) {
        std::uint64_t remaining = length;
        while (remaining > 0) {
            auto chunk = co_await sink.next_buffer();
            if (!chunk) {
                co_return chunk.error();
            }
            const auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining, chunk->size()));
            std::size_t filled = asio::buffer_copy(asio::buffer(chunk->data(), want),
                                                   buffer.data());
            buffer.consume(filled);
            error_code ec;
            while (filled < want && !ec) {
                // The stall deadline restarts for every read: only a pause without bytes fails.
                stream.expires_after(timeouts.download_stall);
                auto [read_ec, n] = co_await stream.async_read_some(
                    asio::buffer(chunk->data() + filled, want - filled), tuple_awaitable);
                stream.expires_never();
                filled += n;
                ec = read_ec;
            }
            sink.submit(*chunk, filled);
            remaining -= filled;
            result.bytes_written += filled;
            if (filled > 0 && progress) {
                progress(result.offset + result.bytes_written);
            }
            if (ec) {
                co_return socket_failure(ec == asio::error::eof ? http::error::partial_message
                                                                : ec);
            }
        }
        co_return body_outcome{};
    }

    /// Reads a chunked body, or one that ends when the camera closes, through Beast's parser.
    asio::awaitable<body_outcome> read_parsed_body(download_parser& parser, file_sink& sink,
                                                   download_result& result,
                                                   const download_progress& progress) {
        // Beast sizes each socket read by the free capacity of `buffer`, which replies and
        // headers left at a few hundred bytes: without room, a file arrives 512 bytes a read.
        buffer.reserve(download_buffer_size);
        while (!parser.is_done()) {
            auto chunk = co_await sink.next_buffer();
            if (!chunk) {
                co_return chunk.error();
            }
            parser.get().body().data = chunk->data();
            parser.get().body().size = chunk->size();
            stream.expires_after(timeouts.download_stall);
            auto [ec, ignored] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
            stream.expires_never();
            const std::size_t got = chunk->size() - parser.get().body().size;
            sink.submit(*chunk, got);
            result.bytes_written += got;
            if (got > 0 && progress) {
                progress(result.offset + result.bytes_written);
            }
            if (ec && ec != http::error::need_buffer) {
                co_return socket_failure(ec);
            }
        }
        co_return body_outcome{};
    }

    /// Sends a download request and reads the reply header, with the same reopen rule as
    /// send(): a GET is idempotent, so it is sent again once when a kept-alive connection
    /// turns out closed.
    asio::awaitable<outcome<std::unique_ptr<download_parser>>> send_for_download(
        const http_request& request) {
        const std::string what = describe(request);
        bool retried = false;
        for (;;) {
            auto reused = co_await ready_connection();
            if (!reused) {
                co_return reused.error();
            }
            const std::string bytes = serialize(request, authorization_for(request));
            stream.expires_after(request.timeout);
            auto [write_ec, written] =
                co_await asio::async_write(stream, asio::buffer(bytes), tuple_awaitable);
            auto parser = std::make_unique<download_parser>();
            parser->body_limit(boost::none);
            error_code ec = write_ec;
            if (!ec) {
                auto [read_ec, read_bytes] =
                    co_await http::async_read_header(stream, buffer, *parser, tuple_awaitable);
                ec = read_ec;
            }
            stream.expires_never();
            if (ec) {
                close_socket();
                if (*reused && !retried && is_closed_before_reply(ec) && !parser->got_some()) {
                    retried = true;
                    continue;
                }
                co_return transport_failure(ec, what, request.timeout);
            }
            co_return parser;
        }
    }
};

http_client::http_client(asio::any_io_executor executor, config::camera_config camera,
                         config::request_timeouts timeouts)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(camera), timeouts)) {}

http_client::~http_client() {
    impl_->close_socket();
}

asio::awaitable<outcome<void>> http_client::connect() {
    return impl_->connect();
}

asio::awaitable<outcome<http_response>> http_client::send(http_request request) {
    return impl_->send(std::move(request));
}

asio::awaitable<outcome<download_result>> http_client::download(std::string target,
                                                                std::filesystem::path file,
                                                                std::uint64_t resume_from,
                                                                download_progress progress) {
    return impl_->download(std::move(target), std::move(file), resume_from, std::move(progress));
}

asio::awaitable<outcome<void>> http_client::stage(http_request request) {
    return impl_->stage(std::move(request));
}

outcome<release_times> http_client::release(bool check_peer) {
    return impl_->release(check_peer);
}

bool http_client::staged_connection_open() {
    return impl_->staged && impl_->open && !impl_->peer_closed();
}

asio::awaitable<outcome<http_response>> http_client::read_staged_reply() {
    return impl_->read_staged_reply();
}

void http_client::close() {
    impl_->close_socket();
}

bool http_client::is_open() const {
    return impl_->open;
}

bool http_client::is_staged() const {
    return impl_->staged.has_value();
}

std::string http_client::local_endpoint() const {
    return impl_->local_endpoint();
}

std::uint64_t http_client::connections_opened() const {
    return impl_->connections;
}

const config::camera_config& http_client::camera() const {
    return impl_->camera;
}

}  // namespace oscrig::controller
