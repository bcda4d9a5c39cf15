// An in-memory controller::fleet that tests change directly, and a small HTTP client with
// deadlines, for driving the dashboard server over real sockets.
#pragma once

#include "controller/fleet.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace oscrig::dashboard::testing {

/// Fleet state kept in plain fields. start_shot() records the request and makes the shot
/// current, and finish_current_shot() moves it into the history.
class test_fleet : public controller::fleet {
public:
    std::string rig = "test-rig";
    std::vector<controller::camera_snapshot> camera_list;
    std::vector<controller::shot_report> shot_list;
    std::optional<controller::shot_report> running_shot;
    controller::fleet_counters counter_values;
    std::filesystem::path output_folder = "shots";
    std::vector<controller::shot_request> shot_requests;
    int stop_requests = 0;

    std::string rig_name() const override { return rig; }
    std::vector<controller::camera_snapshot> cameras() const override { return camera_list; }
    std::vector<controller::shot_report> shots() const override { return shot_list; }
    std::optional<controller::shot_report> current_shot() const override { return running_shot; }
    controller::fleet_counters counters() const override { return counter_values; }
    std::filesystem::path output_dir() const override { return output_folder; }

    outcome<std::string> start_shot(const controller::shot_request& request) override {
        if (running_shot) {
            return make_failure(errc::not_ready, "shot " + running_shot->shot_id + " is running");
        }
        shot_requests.push_back(request);
        controller::shot_report shot;
        shot.rig = rig;
        shot.shot_id = "shot-" + std::to_string(shot_requests.size());
        shot.mode = request.mode;
        for (const auto& camera : camera_list) {
            controller::camera_shot entry;
            entry.name = camera.name;
            entry.host = camera.host;
            shot.cameras.push_back(std::move(entry));
        }
        running_shot = shot;
        notify();
        return shot.shot_id;
    }

    outcome<std::string> stop_recording() override {
        if (!running_shot || running_shot->mode == config::capture_mode::photo) {
            return make_failure(errc::not_ready, "no video or timelapse is recording");
        }
        ++stop_requests;
        return running_shot->shot_id;
    }

    void on_change(std::function<void()> listener) override {
        listeners.push_back(std::move(listener));
    }

    void finish_current_shot() {
        if (running_shot) {
            shot_list.push_back(*running_shot);
            running_shot.reset();
        }
    }

    void notify() {
        for (const auto& listener : listeners) {
            listener();
        }
    }

    controller::camera_snapshot& camera(const std::string& name) {
        for (auto& camera : camera_list) {
            if (camera.name == name) {
                return camera;
            }
        }
        throw std::out_of_range("no test camera named " + name);
    }

    std::vector<std::function<void()>> listeners;
};

/// Returns a ready camera with every field set, as a session reports one after its first poll.
inline controller::camera_snapshot ready_camera(std::string name, std::uint16_t port) {
    controller::camera_snapshot camera;
    camera.name = std::move(name);
    camera.host = "127.0.0.1";
    camera.port = port;
    camera.state = controller::camera_state::ready;
    camera.manufacturer = "Insta360";
    camera.model = "ONE X2";
    camera.serial_number = "IXE" + std::to_string(port);
    camera.firmware_version = "1.0.0";
    camera.battery_ratio = 0.8;
    camera.charging = false;
    camera.card_state = "pass";
    camera.remaining_bytes = 50'000'000'000;
    camera.total_bytes = 64'000'000'000;
    camera.clock_offset_seconds = 12.5;
    camera.clock_uncertainty_seconds = 0.0004;
    camera.round_trip_seconds = 0.008;
    camera.requests_total = 10;
    camera.failures_total = 1;
    camera.last_successful_poll = std::chrono::system_clock::now();
    return camera;
}

/// Runs an io_context on its own thread, as the controller's event loop.
class event_loop {
public:
    event_loop() : work_(io_.get_executor()) {}
    ~event_loop() { stop(); }

    boost::asio::io_context& context() { return io_; }

    void run() {
        thread_ = std::thread([this] { io_.run(); });
    }

    void stop() {
        work_.reset();
        if (thread_.joinable()) {
            io_.stop();
            thread_.join();
        }
    }

    /// Runs `work` on the loop's thread and waits for it, so that tests touch the fleet and
    /// the server only where the server does.
    void call(const std::function<void()>& work) {
        if (!thread_.joinable()) {
            work();
            return;
        }
        std::promise<void> done;
        boost::asio::post(io_, [&] {
            work();
            done.set_value();
        });
        done.get_future().wait();
    }

private:
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

struct http_result {
    unsigned status = 0;  // 0 when no complete reply arrived before the deadline
    std::map<std::string, std::string> headers;
    std::string body;

    /// Returns the value of a header field, or empty when the reply has none.
    std::string header(const std::string& name) const {
        const auto found = headers.find(name);
        return found == headers.end() ? std::string{} : found->second;
    }
};

/// One TCP connection to the server on 127.0.0.1, with every read bounded by a deadline.
class test_connection {
public:
    explicit test_connection(std::uint16_t port) : socket_(io_) {
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    }

    /// Writes `bytes`. A server that replies early and closes may cut the write short, which
    /// the reply then shows.
    void send(const std::string& bytes) {
        boost::system::error_code ignored;
        boost::asio::write(socket_, boost::asio::buffer(bytes), ignored);
    }

    /// Reads one HTTP response, or returns status 0 when none is complete by the deadline.
    http_result read_response(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
        namespace http = boost::beast::http;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        boost::system::error_code result_error = boost::asio::error::timed_out;
        http::async_read(socket_, buffer_, parser,
                         [&](boost::system::error_code error, std::size_t) {
                             result_error = error;
                         });
        run_for(deadline);
        http_result result;
        if (result_error) {
            return result;
        }
        auto response = parser.release();
        result.status = response.result_int();
        for (const auto& field : response) {
            result.headers[std::string(field.name_string())] = std::string(field.value());
        }
        result.body = response.body();
        return result;
    }

    /// Reads until the text received so far contains `text`. Returns false at the deadline or
    /// when the connection closes.
    bool read_until(std::string_view text, std::chrono::milliseconds deadline) {
        const auto end = std::chrono::steady_clock::now() + deadline;
        while (received_.find(text) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !read_some(left)) {
                return false;
            }
        }
        return true;
    }

    /// True when the server closes the connection before the deadline.
    bool wait_for_close(std::chrono::milliseconds deadline) {
        const auto end = std::chrono::steady_clock::now() + deadline;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            boost::system::error_code error;
            bool completed = false;
            std::array<char, 4096> chunk;
            socket_.async_read_some(boost::asio::buffer(chunk),
                                    [&](boost::system::error_code e, std::size_t n) {
                                        error = e;
                                        completed = true;
                                        received_.append(chunk.data(), n);
                                    });
            run_for(left);
            if (!completed) {
                return false;
            }
            if (error) {
                return true;
            }
        }
    }

    /// Text read by read_until() and wait_for_close() so far.
    std::string& received() { return received_; }

private:
    bool read_some(std::chrono::milliseconds deadline) {
        std::array<char, 4096> chunk;
        boost::system::error_code error = boost::asio::error::timed_out;
        socket_.async_read_some(boost::asio::buffer(chunk),
                                [&](boost::system::error_code e, std::size_t n) {
                                    error = e;
                                    received_.append(chunk.data(), n);
                                });
        run_for(deadline);
        return !error;
    }

    // Runs the connection's own context until the pending operation completes or the deadline
    // passes. At the deadline the operation is cancelled, and its handler still runs.
    void run_for(std::chrono::milliseconds deadline) {
        io_.restart();
        io_.run_for(deadline);
        if (!io_.stopped()) {
            socket_.cancel();
            io_.restart();
            io_.run();
        }
    }

    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
    std::string received_;
};

/// Sends one request with Content-Length and `Connection: close`, and reads the reply.
inline http_result http_request(std::uint16_t port, const std::string& method,
                                const std::string& target, const std::string& body = {},
                                const std::map<std::string, std::string>& headers = {}) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                          std::to_string(port) + "\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers) {
        request += name + ": " + value + "\r\n";
    }
    if (method == "POST" || !body.empty()) {
        request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    test_connection connection(port);
    connection.send(request);
    return connection.read_response();
}

}  // namespace oscrig::dashboard::testing
