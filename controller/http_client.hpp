// HTTP/1.1 client for one camera: one keep-alive connection, a deadline on every request,
// streamed downloads, and staging hooks for synchronized triggers.
//
// Beast stays in http_client.cpp; this header needs only Asio's coroutine types. Every member
// must be called from the thread that runs the executor passed to the constructor, and at most
// one operation may be pending at a time (camera_session's request queue enforces this).
#pragma once

#include "config/rig.hpp"
#include "controller/clock_model.hpp"
#include "controller/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace oscrig::controller {

struct http_request {
    std::string method = "GET";  // GET or POST
    std::string target;          // path and query, for example "/osc/info"
    std::string body;            // JSON for POST, empty for GET
    std::chrono::milliseconds timeout{5000};  // whole request: write and complete reply
    // A request that may be sent twice without effect on the camera. Only these are re-sent
    // after the camera closed a kept-alive connection under them.
    bool idempotent = true;
    // Extra header fields, for example Range for a resumed download.
    std::vector<std::pair<std::string, std::string>> fields;
};

struct http_response {
    int status = 0;
    std::string body;
    // Host wall clock (microseconds since the Unix epoch) when the request was handed to the
    // socket and when the reply was complete.
    std::int64_t sent_wall_us = 0;
    std::int64_t received_wall_us = 0;
    // The same instants on the host steady clock, for clock samples.
    host_us sent_host_us = 0;
    host_us received_host_us = 0;
};

/// Host steady-clock times just before and just after the final byte of a staged request was
/// handed to the kernel.
struct release_times {
    host_us before = 0;
    host_us after = 0;
};

/// Outcome of one download attempt.
struct download_result {
    int status = 0;  // 200, or 206 when the server honoured the Range request
    std::uint64_t offset = 0;  // bytes already in the file before this attempt, kept on 206
    std::uint64_t bytes_written = 0;  // body bytes written by this attempt
    std::optional<std::uint64_t> content_length;  // of this reply's body
    std::string sha256;  // lowercase hex of the whole file, set when the body was complete
};

/// Called after each chunk of a download with the file's total bytes so far.
using download_progress = std::function<void(std::uint64_t file_bytes)>;

/// Host wall clock now, in microseconds since the Unix epoch.
std::int64_t wall_now_us();

class http_client {
public:
    http_client(boost::asio::any_io_executor executor, config::camera_config camera,
                config::request_timeouts timeouts);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Opens the connection when it is not open: checks and binds the interface, binds the
    /// source address, resolves the host and connects to one endpoint at a time within the
    /// connect deadline. Reads `password_env` from the environment when the camera has auth.
    /// Fails with timed_out, interface_unusable, auth_failed (missing variable) or the
    /// socket's error.
    boost::asio::awaitable<outcome<void>> connect();

    /// Sends one request and reads the whole reply within `request.timeout`, connecting first
    /// when needed. A kept-alive connection that the camera closed is reopened, and the
    /// request is sent again once when it is idempotent or when none of its bytes were
    /// written. Answers one HTTP Digest challenge per connection when the camera has auth; a
    /// second 401 is auth_failed. Any HTTP status is a success here: callers interpret it.
    boost::asio::awaitable<outcome<http_response>> send(http_request request);

    /// Streams `target` into `file` through a file_sink: the body is read on the calling
    /// executor and written and hashed on worker threads. With `resume_from` > 0 it requests
    /// `Range: bytes=N-`: on 206 it appends to the file, otherwise it truncates and writes from
    /// zero. The stall deadline is `download_stall`: no body byte for that long ends the
    /// attempt with timed_out. A body shorter than Content-Length is length_mismatch or
    /// connection_closed; the bytes written so far stay in `file`.
    boost::asio::awaitable<outcome<download_result>> download(std::string target,
                                                              std::filesystem::path file,
                                                              std::uint64_t resume_from,
                                                              download_progress progress = {});

    /// Writes the whole serialized request except its final byte, connecting first when
    /// needed; completes when those bytes are written. The request stays staged until
    /// release() or close().
    boost::asio::awaitable<outcome<void>> stage(http_request request);

    /// Sends the final byte of the staged request with a non-blocking ::send on the native
    /// socket from the calling thread. Fails with connection_closed when the camera closed the
    /// connection while the request was staged (the caller then sends the whole request
    /// again), and with not_ready when nothing is staged. With `check_peer` false the caller
    /// has just asked staged_connection_open() and the check is skipped, so that a release
    /// loop makes one system call per camera.
    outcome<release_times> release(bool check_peer = true);

    /// True while a request is staged on a connection the camera has not closed: no end of
    /// stream, reset or unrequested bytes. One non-blocking peek at the socket.
    bool staged_connection_open();

    /// Reads the reply to the released request within its deadline.
    boost::asio::awaitable<outcome<http_response>> read_staged_reply();

    /// Closes the connection; a pending operation completes with an error.
    void close();

    bool is_open() const;
    bool is_staged() const;

    /// Local endpoint of the open connection, for example "127.0.0.1:40122", or empty.
    std::string local_endpoint() const;

    /// Connections opened since construction.
    std::uint64_t connections_opened() const;

    const config::camera_config& camera() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace oscrig::controller
