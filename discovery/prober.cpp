#include "discovery/prober.hpp"

#include "controller/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

namespace oscrig::discovery {
namespace {

namespace asio = boost::asio;

config::camera_config probe_camera(const probe_target& target) {
    config::camera_config camera;
    // The name labels log lines and errors: "[wlan1 192.168.42.1] ...".
    camera.name = fmt::format("{} {}", target.interface, target.address);
    camera.host = target.address;
    camera.port = target.port;
    camera.interface = target.interface;
    return camera;
}

asio::awaitable<void> probe_one(probe_target target, std::chrono::milliseconds timeout,
                                probe_result& result) {
    config::request_timeouts timeouts;
    timeouts.connect = timeout;
    timeouts.info_state = timeout;

    // NOTE: probes carry no HTTP Digest credentials, so a camera that requires them (a THETA
    // in client mode) shows up as a failed probe with HTTP 401, not as a camera.
    const auto camera = probe_camera(target);
    controller::http_client client(co_await asio::this_coro::executor, camera, timeouts);

    controller::http_request info_request;
    info_request.method = "GET";
    info_request.target = "/osc/info";
    info_request.timeout = timeout;
    const auto info_sent = std::chrono::steady_clock::now();
    const auto info = co_await client.send(info_request);
    if (!info) {
        result.target = target;
        result.error = info.error().to_string();
        spdlog::debug("[{}] no camera: {}", camera.name, result.error);
        co_return;
    }

    // OSC cameras accept /osc/info and /osc/state at most once a second, and a camera may count
    // both endpoints against one limit, so the state request waits until one second after info.
    asio::steady_timer pause(co_await asio::this_coro::executor);
    pause.expires_at(info_sent + std::chrono::seconds(1));
    co_await pause.async_wait(asio::use_awaitable);

    controller::http_request state_request;
    state_request.method = "POST";
    state_request.target = "/osc/state";
    state_request.timeout = timeout;
    const auto state = co_await client.send(state_request);
    client.close();

    if (state) {
        result = interpret_probe(target, info->status, info->body, state->status, state->body);
    } else {
        result = interpret_probe(target, info->status, info->body, std::nullopt, {});
        result.state_error = state.error().to_string();
    }

    if (result.camera) {
        spdlog::info("[{}] found {} {}, serial {}", camera.name, result.camera->manufacturer,
                     result.camera->model, result.camera->serial_number);
    } else {
        spdlog::debug("[{}] no camera: {}", camera.name, result.error);
    }
    if (!result.state_error.empty()) {
        spdlog::warn("[{}] /osc/state failed: {}", camera.name, result.state_error);
    }
}

}  // namespace

std::vector<probe_result> run_probes(const std::vector<probe_target>& targets,
                                     std::chrono::milliseconds timeout) {
    std::vector<probe_result> results(targets.size());
    asio::io_context context;

    for (std::size_t i = 0; i < targets.size(); ++i) {
        results[i].target = targets[i];
        auto on_done = [&results, i](std::exception_ptr error) {
            if (!error) {
                return;
            }
            // A bug or an allocation failure in one probe must not hide the others' results.
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                results[i].camera.reset();
                results[i].error = fmt::format("probe failed: {}", e.what());
                spdlog::error("[{} {}] probe failed: {}", results[i].target.interface,
                              results[i].target.address, e.what());
            }
        };
        asio::co_spawn(context, probe_one(targets[i], timeout, results[i]), on_done);
    }

    context.run();
    return results;
}

}  // namespace oscrig::discovery
