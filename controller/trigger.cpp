#include "controller/trigger.hpp"

#include "controller/sync_report.hpp"
#include "controller/task_group.hpp"

#include <boost/asio/this_coro.hpp>

#include <spdlog/spdlog.h>

namespace oscrig::controller {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> fire_one(trigger_target target, trigger_outcome& result) {
    result.record.command = target.command;
    camera_session& session = *target.session;
    const host_us queued = host_now();
    result.reply = co_await session.execute(target.command, target.parameters);
    if (!result.reply) {
        result.record.note = result.reply.error().to_string();
    }
    // The whole request leaves at once, so its release is the moment it was handed to the
    // socket, and it arrives one delay later. Without a reply that moment is unknown: the
    // record keeps the instant the request was queued.
    const host_us sent = session.last_sent_host_us();
    if (result.reply && sent >= queued) {
        estimate_arrival(result.record, sent, sent,
                         choose_delay(session.camera().one_way_delay, session.clock()),
                         session.clock());
    } else {
        result.record.actual_release_us = queued;
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
