#include "controller/trigger.hpp"

#include "controller/task_group.hpp"

#include <boost/asio/this_coro.hpp>

#include <spdlog/spdlog.h>

namespace oscrig::controller {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> fire_one(trigger_target target, trigger_outcome& result) {
    result.record.command = target.command;
    // Taken before the request enters the camera's queue. The shot runner fires only on idle
    // sessions, so the request leaves right after, but this is not the instant of the send.
    result.record.actual_release_us = host_now();
    result.reply = co_await target.session->execute(target.command, target.parameters);
    if (!result.reply) {
        result.record.note = result.reply.error().to_string();
    }
}

}  // namespace

asio::awaitable<std::vector<trigger_outcome>> concurrent_trigger::fire(
    std::vector<trigger_target> targets) {
    std::vector<trigger_outcome> results(targets.size());
    task_group group(co_await asio::this_coro::executor);
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (targets[i].session == nullptr) {
            results[i].reply = make_failure(errc::not_ready, "no session for this camera");
            continue;
        }
        spdlog::debug("[{}] firing {}", targets[i].session->name(), targets[i].command);
        group.spawn(fire_one(targets[i], results[i]));
    }
    co_await group.wait();
    co_return results;
}

}  // namespace oscrig::controller
