#include "controller/staged_trigger.hpp"

#include "controller/sync_report.hpp"
#include "controller/task_group.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <numeric>
#include <optional>

namespace oscrig::controller {

namespace asio = boost::asio;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The release loop sleeps on a timer until this long before each planned instant and spins on
// host_now() for the rest. Timers on a busy host can wake hundreds of microseconds late, and a
// late wake would delay that camera's release, so the spin covers a whole millisecond.
constexpr host_us spin_interval_us = 1000;

constexpr std::string_view execute_target = "/osc/commands/execute";

enum class arm_state { arming, staged, failed };

// One camera's part of a fire() call. Shared with its arming task, which may outlive fire()
// when the camera missed the release.
struct camera_slot {
    trigger_target target;
    http_request request;
    std::optional<camera_session::lease> lease;
    arm_state state = arm_state::arming;
    std::optional<failure> arm_failure;
    bool abandoned = false;  // the release went ahead without this camera
    bool resend = false;     // the staged connection closed, send the whole request again
    delay_estimate delay;
    trigger_outcome result;
};

// Counts the arming tasks still running and wakes fire() when the last one finishes.
struct arming_progress {
    explicit arming_progress(asio::any_io_executor executor) : wake(std::move(executor)) {}

    asio::steady_timer wake;
    std::size_t pending = 0;

    void finished() {
        if (pending > 0 && --pending == 0) {
            wake.cancel();
        }
    }
};

std::chrono::steady_clock::time_point steady_time(host_us at) {
    return std::chrono::steady_clock::time_point(std::chrono::microseconds(at));
}

http_request make_execute_request(std::string_view command, const nlohmann::json& parameters,
                                  std::chrono::milliseconds timeout, bool idempotent) {
    http_request request;
    request.method = "POST";
    request.target = std::string(execute_target);
    request.body = osc::make_execute_body(command, parameters);
    request.timeout = timeout;
    request.idempotent = idempotent;
    return request;
}

// The first reply to an execute request, with an OSC error object turned into a failure the
// way camera_session::execute() reports it.
outcome<osc::command_reply> interpret_reply(const outcome<http_response>& response) {
    if (!response) {
        return response.error();
    }
    auto reply = osc::parse_command_reply(response->status, response->body);
    if (!reply) {
        return reply.error();
    }
    if (reply->state == osc::command_state::error && reply->error) {
        return make_failure(osc::classify_camera_error(reply->error->code),
                            fmt::format("{}: {}", reply->error->code, reply->error->message));
    }
    return reply;
}

request_record make_record(const http_request& request, std::string command,
                           const outcome<http_response>& response) {
    request_record record;
    record.method = request.method;
    record.target = request.target;
    record.command = std::move(command);
    if (!response) {
        record.sent_us = wall_now_us();
        record.error = response.error().to_string();
        return record;
    }
    record.sent_us = response->sent_wall_us;
    record.received_us = response->received_wall_us;
    record.http_status = response->status;
    record.reply = nlohmann::json::parse(response->body, nullptr, false);
    if (record.reply.is_discarded()) {
        record.reply = response->body;
    }
    return record;
}

// One getOptions on the leased connection just before staging, so that the connection is open
// and warm and the clock model gets a fresh sample. Cameras without _sysTimestamp are asked
// for captureMode, which every OSC camera has.
asio::awaitable<outcome<void>> warm_connection(camera_session& session, http_client& client) {
    const bool has_timestamp = session.clock().sample_count() > 0 ||
                               (session.info() && session.info()->is_insta360());
    const std::string option = has_timestamp ? "_sysTimestamp" : "captureMode";
    const auto request = make_execute_request(
        "camera.getOptions", {{"optionNames", {option}}},
        session.settings().timeouts.command, true);

    auto response = co_await client.send(request);
    session.record(make_record(request, "camera.getOptions", response));
    auto reply = interpret_reply(response);
    if (!reply) {
        co_return reply.error();
    }
    const auto options = osc::options_from_reply(*reply);
    if (options) {
        if (const auto camera_us = options->sys_timestamp_us()) {
            session.clock().add_sample({.sent = response->sent_host_us,
                                        .received = response->received_host_us,
                                        .camera_us = static_cast<std::int64_t>(*camera_us),
                                        .wall_received_us = response->received_wall_us});
        }
    }
    co_return outcome<void>{};
}

// Takes the camera's connection, warms it and stages the trigger request. Stops early, and
// leaves nothing staged, once fire() went ahead without this camera.
asio::awaitable<void> arm_camera(std::shared_ptr<camera_slot> slot,
                                 std::shared_ptr<arming_progress> progress) {
    camera_session& session = *slot->target.session;
    try {
        auto lease = co_await session.acquire();
        if (slot->abandoned) {
            co_return;
        }
        slot->lease.emplace(std::move(lease));
        http_client& client = slot->lease->client();

        if (auto warmed = co_await warm_connection(session, client); !warmed) {
            spdlog::warn("[{}] warm-up request before staging failed: {}", session.name(),
                         warmed.error().to_string());
        }
        if (slot->abandoned) {
            slot->lease.reset();
            co_return;
        }

        auto staged = co_await client.stage(slot->request);
        if (slot->abandoned) {
            // Closing the connection discards the partial request on the camera's side.
            if (staged) {
                client.close();
            }
            slot->lease.reset();
            co_return;
        }
        if (staged) {
            slot->state = arm_state::staged;
            spdlog::debug("[{}] {} staged", session.name(), slot->target.command);
        } else {
            slot->state = arm_state::failed;
            slot->arm_failure = staged.error();
            slot->lease.reset();
        }
    } catch (const std::exception& error) {
        spdlog::error("[{}] arming {} failed: {}", session.name(), slot->target.command,
                      error.what());
        slot->state = arm_state::failed;
        slot->arm_failure = make_failure(errc::not_ready, error.what());
        slot->lease.reset();
    }
    progress->finished();
}

// Waits until every arming task finished or the staging window passed.
asio::awaitable<void> wait_for_arming(arming_progress& progress,
                                      std::chrono::milliseconds window) {
    progress.wake.expires_after(window);
    while (progress.pending > 0) {
        auto [ec] = co_await progress.wake.async_wait(tuple_awaitable);
        if (!ec) {
            break;  // the window passed
        }
    }
}

void mark_missed(camera_slot& slot, std::chrono::milliseconds window) {
    slot.abandoned = true;
    slot.result.record.missed = true;
    const failure reason =
        slot.arm_failure
            ? *slot.arm_failure
            : make_failure(errc::not_ready,
                           fmt::format("not staged within the staging window of {} ms",
                                       window.count()));
    slot.result.record.note = reason.to_string();
    slot.result.reply = reason;
    spdlog::warn("[{}] not ready for {}, not triggered: {}", slot.target.session->name(),
                 slot.target.command, reason.to_string());
}

// Closes every staged connection, which discards the staged requests, and fails every camera.
void abort_all(std::vector<std::shared_ptr<camera_slot>>& slots, const std::string& reason) {
    for (auto& slot : slots) {
        if (slot->lease) {
            slot->lease->client().close();
            slot->lease.reset();
        }
        slot->abandoned = true;
        slot->result.reply = make_failure(errc::not_ready, reason);
        if (slot->result.record.note.empty()) {
            slot->result.record.note = reason;
        }
    }
}

// Runs the calling thread under real-time scheduling (SCHED_FIFO) while it lives, where the host
// allows it (root, or CAP_SYS_NICE), and restores the previous policy afterwards. Each final
// byte sent wakes the process that reads it. When that process shares the host, as a simulator
// does, the scheduler may otherwise let it preempt the release loop between two cameras. The
// event loop runs on one thread, so the coroutine ends on the thread it raised.
class release_priority {
public:
    release_priority() {
        if (pthread_getschedparam(pthread_self(), &old_policy_, &old_param_) != 0) {
            return;
        }
        sched_param param{};
        param.sched_priority = sched_get_priority_min(SCHED_FIFO);
        raised_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
        static std::atomic<bool> told{false};
        if (!raised_ && !told.exchange(true)) {
            spdlog::info("staged release runs at normal priority: real-time scheduling needs "
                         "root or CAP_SYS_NICE");
        }
    }
    ~release_priority() {
        if (raised_) {
            pthread_setschedparam(pthread_self(), old_policy_, &old_param_);
        }
    }
    release_priority(const release_priority&) = delete;
    release_priority& operator=(const release_priority&) = delete;

private:
    int old_policy_ = SCHED_OTHER;
    sched_param old_param_{};
    bool raised_ = false;
};

// Sleeps until shortly before `planned`, then spins until it. Spinning keeps the thread busy
// on purpose, because a timer alone wakes too late and too unevenly for sub-millisecond
// releases.
asio::awaitable<void> wait_until(asio::steady_timer& timer, host_us planned) {
    if (planned - host_now() > spin_interval_us) {
        timer.expires_at(steady_time(planned - spin_interval_us));
        co_await timer.async_wait(tuple_awaitable);
    }
    while (host_now() < planned) {
    }
}

asio::awaitable<void> read_reply(std::shared_ptr<camera_slot> slot) {
    camera_session& session = *slot->target.session;
    http_client& client = slot->lease->client();
    auto response = co_await client.read_staged_reply();
    auto record = make_record(slot->request, slot->target.command, response);
    if (slot->result.record.actual_release_us) {
        // Wall time of the release itself, rather than of the start of the read.
        const auto release = *slot->result.record.actual_release_us;
        record.sent_us = wall_now_us() - (host_now() - release);
    }
    session.record(std::move(record));
    slot->result.reply = interpret_reply(response);
    if (!slot->result.reply) {
        spdlog::warn("[{}] {} failed after release: {}", session.name(), slot->target.command,
                     slot->result.reply.error().to_string());
    }
    slot->lease.reset();
}

asio::awaitable<void> resend_whole(std::shared_ptr<camera_slot> slot) {
    camera_session& session = *slot->target.session;
    http_client& client = slot->lease->client();
    spdlog::warn("[{}] staged connection closed, sending {} again whole", session.name(),
                 slot->target.command);
    auto response = co_await client.send(slot->request);
    session.record(make_record(slot->request, slot->target.command, response));

    auto& record = slot->result.record;
    record.resent_whole = true;
    record.note = "staged connection closed; request sent again whole";
    if (response) {
        const host_us sent = response->sent_host_us;
        estimate_arrival(record, sent, sent, slot->delay, session.clock());
    }
    slot->result.reply = interpret_reply(response);
    if (!slot->result.reply) {
        spdlog::warn("[{}] {} sent again whole failed: {}", session.name(), slot->target.command,
                     slot->result.reply.error().to_string());
    }
    slot->lease.reset();
}

void log_summary(const std::vector<std::shared_ptr<camera_slot>>& slots,
                 const std::string& command) {
    std::vector<const trigger_record*> records;
    for (const auto& slot : slots) {
        records.push_back(&slot->result.record);
    }
    const auto summary = summarize_trigger(command, records);
    spdlog::info("{} staged release: {}", command, format_sync_summary(summary));
}

}  // namespace

staged_trigger::staged_trigger(config::sync_settings settings) : settings_(settings) {}

asio::awaitable<std::vector<trigger_outcome>> staged_trigger::fire(
    std::vector<trigger_target> targets) {
    auto executor = co_await asio::this_coro::executor;
    std::vector<std::shared_ptr<camera_slot>> slots;
    for (auto& target : targets) {
        auto slot = std::make_shared<camera_slot>();
        slot->request = make_execute_request(target.command, target.parameters,
                                             target.session->settings().timeouts.command, false);
        slot->result.record.command = target.command;
        slot->target = std::move(target);
        slots.push_back(std::move(slot));
    }

    // Arm every camera at once; each arming task holds its camera's queue until released.
    auto progress = std::make_shared<arming_progress>(executor);
    progress->pending = slots.size();
    for (const auto& slot : slots) {
        asio::co_spawn(executor, arm_camera(slot, progress), [](std::exception_ptr) {});
    }
    co_await wait_for_arming(*progress, settings_.staging_window);

    std::vector<std::shared_ptr<camera_slot>> staged;
    std::string not_ready;
    for (const auto& slot : slots) {
        if (slot->state == arm_state::staged) {
            staged.push_back(slot);
            continue;
        }
        mark_missed(*slot, settings_.staging_window);
        not_ready += not_ready.empty() ? slot->target.session->name()
                                       : ", " + slot->target.session->name();
    }
    if (!not_ready.empty() && settings_.abort_if_not_ready) {
        const auto reason = fmt::format("trigger aborted before release because {} not ready: {}",
                                        staged.size() + 1 == slots.size() ? "a camera was"
                                                                          : "cameras were",
                                        not_ready);
        spdlog::error("{}", reason);
        abort_all(slots, reason);
        std::vector<trigger_outcome> outcomes;
        for (auto& slot : slots) {
            outcomes.push_back(std::move(slot->result));
        }
        co_return outcomes;
    }

    // Plan the releases so that the requests arrive together, then release in planned order.
    std::vector<delay_estimate> delays;
    for (const auto& slot : staged) {
        slot->delay = choose_delay(slot->target.session->camera().one_way_delay,
                                   slot->target.session->clock());
        delays.push_back(slot->delay);
    }
    const auto planned = plan_releases(delays, host_now() + spin_interval_us);
    std::vector<std::size_t> order(staged.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return planned[a] < planned[b]; });

    asio::steady_timer timer(executor);
    {
        // Only the releases run at raised priority, not the reply reads after them.
        const release_priority priority;
        // Connections the camera closed while staged are found here, before the first
        // release, so that the loop below makes a single send() per camera.
        std::vector<bool> open(staged.size());
        for (std::size_t index = 0; index < staged.size(); ++index) {
            open[index] = staged[index]->lease->client().staged_connection_open();
        }
        for (std::size_t index : order) {
            auto& slot = *staged[index];
            if (planned[index] > host_now()) {
                co_await wait_until(timer, planned[index]);
            }
            const bool check_peer = !open[index];
            auto times = slot.lease->client().release(check_peer);
            slot.result.record.planned_release_us = planned[index];
            if (times) {
                estimate_arrival(slot.result.record, times->before, times->after, slot.delay,
                                 slot.target.session->clock());
            } else if (times.error().code == make_error_code(errc::connection_closed)) {
                slot.resend = true;
            } else {
                slot.result.reply = times.error();
                slot.result.record.note = times.error().to_string();
                slot.lease.reset();
            }
        }
    }

    task_group replies(executor);
    for (const auto& slot : staged) {
        if (slot->resend) {
            replies.spawn(resend_whole(slot));
        } else if (slot->lease) {
            replies.spawn(read_reply(slot));
        }
    }
    co_await replies.wait();

    if (!slots.empty()) {
        log_summary(slots, slots.front()->target.command);
    }
    std::vector<trigger_outcome> outcomes;
    for (auto& slot : slots) {
        outcomes.push_back(std::move(slot->result));
    }
    co_return outcomes;
}

}  // namespace oscrig::controller
