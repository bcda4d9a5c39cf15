#include "controller/fleet_service.hpp"

#include "controller/camera_session.hpp"
#include "controller/osc_protocol.hpp"
#include "controller/shot_runner.hpp"
#include "controller/staged_trigger.hpp"
#include "controller/task_group.hpp"
#include "controller/trigger.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace oscrig::controller {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Options read by every health poll: free and total card space, battery, and the camera
// clock for the clock model. A camera that rejects a name (THETA has no _sysTimestamp) gets
// the rest; the session remembers the rejected names.
const std::vector<std::string> health_options = {"remainingSpace", "totalSpace",
                                                 "_batteryCapacity", "_sysTimestamp"};

// Health polls never run more often than this, whatever the rig file sets.
constexpr std::chrono::milliseconds min_health_interval = 1s;

// Extra wait after closing the connections in stop(), for the coroutines to unwind.
constexpr std::chrono::milliseconds unwind_limit = 2s;

// True when the failure shows that the camera replied, so the connection works and a reconnect
// would not help: an OSC error, an option this model lacks, a command refused in this mode.
bool camera_answered(const failure& error) {
    return error.code == errc::camera_error || error.code == errc::unsupported ||
           error.code == errc::disabled_command || error.code == errc::unactivated;
}

void log_exception(const std::string& camera, const char* where, std::exception_ptr error) {
    if (!error) {
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        spdlog::error("[{}] {} failed: {}", camera, where, e.what());
    } catch (...) {
        spdlog::error("[{}] {} failed with an unknown exception", camera, where);
    }
}

std::uint64_t delivered_bytes(const shot_report& report) {
    std::uint64_t total = 0;
    for (const auto& camera : report.cameras) {
        for (const auto& file : camera.files) {
            if (file.error.empty() && !file.local_path.empty()) {
                total += file.bytes;
            }
        }
    }
    return total;
}

}  // namespace

struct fleet_service::camera_worker {
    camera_worker(asio::any_io_executor executor, const config::camera_config& camera,
                  session_settings session_config, const backoff_settings& reconnect_settings,
                  backoff::random_source random)
        : session(std::make_unique<camera_session>(executor, camera, std::move(session_config))),
          reconnect(reconnect_settings, std::move(random)),
          wake(executor) {}

    const std::string& name() const { return session->name(); }

    std::unique_ptr<camera_session> session;
    backoff reconnect;
    asio::steady_timer wake;  // health interval and reconnect waits; cancelled to stop

    bool running = false;    // run_camera() has not returned
    bool tried = false;      // the first connect attempt finished, whatever its outcome
    bool connected = false;  // the session started and the last poll reached the camera
    bool stopping = false;
    bool in_shot = false;
    std::string last_poll_error;  // logged once until the error changes or a poll succeeds

    std::string thumbnail_base64;
    std::uint64_t version = 0;  // added to the session's snapshot version
};

struct fleet_service::active_shot {
    active_shot(asio::any_io_executor executor, config::rig shot_rig,
                std::vector<std::shared_ptr<camera_worker>> shot_workers,
                std::vector<camera_snapshot> absent_cameras, shot_request shot_options,
                shot_settings settings)
        : rig(std::move(shot_rig)),
          request(std::move(shot_options)),
          workers(std::move(shot_workers)),
          absent(std::move(absent_cameras)),
          start_trigger(make_trigger(rig, request)),
          runner(executor, rig, sessions_of(workers), *start_trigger, std::move(settings)) {}

    static std::unique_ptr<trigger> make_trigger(const config::rig& rig,
                                                 const shot_request& request) {
        if (request.sync.value_or(rig.sync.method) == config::sync_method::staged) {
            return std::make_unique<staged_trigger>(rig.sync);
        }
        return std::make_unique<concurrent_trigger>();
    }

    static std::vector<camera_session*> sessions_of(
        const std::vector<std::shared_ptr<camera_worker>>& workers) {
        std::vector<camera_session*> sessions;
        for (const auto& worker : workers) {
            sessions.push_back(worker->session.get());
        }
        return sessions;
    }

    // The runner refers to the rig, the sessions and the trigger, so they live here with it.
    config::rig rig;
    shot_request request;
    std::vector<std::shared_ptr<camera_worker>> workers;
    std::vector<camera_snapshot> absent;  // rig cameras that were not ready at the start
    std::unique_ptr<trigger> start_trigger;
    shot_runner runner;
    bool finished = false;
};

fleet_service::fleet_service(asio::any_io_executor executor, config::rig rig,
                             fleet_service_settings settings)
    : executor_(std::move(executor)), rig_(std::move(rig)), settings_(std::move(settings)) {
    if (!settings_.random) {
        settings_.random = make_random_source();
    }
    for (const auto& camera : rig_.cameras) {
        workers_.push_back(make_worker(camera));
    }
}

fleet_service::~fleet_service() {
    for (const auto& worker : workers_) {
        worker->stopping = true;
        worker->wake.cancel();
        worker->session->cancel();
    }
}

std::shared_ptr<fleet_service::camera_worker> fleet_service::make_worker(
    const config::camera_config& camera) {
    auto worker = std::make_shared<camera_worker>(executor_, camera, settings_from_rig(rig_),
                                                  settings_.reconnect, settings_.random);
    worker->session->on_change([this](const camera_snapshot&) { notify(); });
    return worker;
}

void fleet_service::start() {
    if (started_) {
        return;
    }
    started_ = true;
    spdlog::info("rig {}: starting {} cameras, health interval {} ms", rig_.name,
                 workers_.size(), std::max(rig_.health_interval, min_health_interval).count());
    for (const auto& worker : workers_) {
        launch(worker);
    }
}

void fleet_service::launch(std::shared_ptr<camera_worker> worker) {
    worker->running = true;
    const std::string name = worker->name();
    asio::co_spawn(executor_, run_camera(worker), [name](std::exception_ptr error) {
        log_exception(name, "camera worker", error);
    });
}

// Connects, then polls at the health interval until stopped. Exceptions end the worker and are
// logged by launch().
asio::awaitable<void> fleet_service::run_camera(std::shared_ptr<camera_worker> worker) {
    struct running_guard {
        camera_worker& worker;
        ~running_guard() { worker.running = false; }
    } guard{*worker};

    while (!worker->stopping) {
        if (!worker->connected) {
            co_await connect_camera(*worker);
            continue;
        }

        worker->wake.expires_after(std::max(rig_.health_interval, min_health_interval));
        co_await worker->wake.async_wait(asio::as_tuple(asio::use_awaitable));
        if (worker->stopping) {
            break;
        }
        // Shots and their downloads own the camera, and polls would only queue behind them.
        if (worker->in_shot) {
            continue;
        }
        co_await poll_health(*worker);
    }
    spdlog::info("[{}] session stopped", worker->name());
}

asio::awaitable<void> fleet_service::connect_camera(camera_worker& worker) {
    const outcome<void> started = co_await worker.session->start();
    worker.tried = true;
    if (worker.stopping) {
        co_return;
    }

    if (started) {
        worker.connected = true;
        worker.reconnect.reset();
        worker.last_poll_error.clear();
        notify();
        co_return;
    }

    const std::string reason = started.error().to_string();
    const camera_state state = worker.session->snapshot().state;
    // The session sets needs_activation or error when the camera replied. Any other state
    // means that the camera could not be reached.
    if (state == camera_state::connecting || state == camera_state::ready ||
        state == camera_state::busy) {
        worker.session->set_state(camera_state::unreachable, reason);
    }
    co_await wait_before_reconnect(worker, reason);
}

asio::awaitable<void> fleet_service::wait_before_reconnect(camera_worker& worker,
                                                           const std::string& reason) {
    const std::chrono::milliseconds delay = worker.reconnect.next_delay();
    spdlog::warn("[{}] reconnecting in {:.1f} s (attempt {}): {}", worker.name(),
                 static_cast<double>(delay.count()) / 1000.0, worker.reconnect.attempts(), reason);
    worker.wake.expires_after(delay);
    co_await worker.wake.async_wait(asio::as_tuple(asio::use_awaitable));
}

// One health poll: /osc/state, then getOptions. Both go through the session's queue, which
// spaces /osc/state to at most one a second.
asio::awaitable<void> fleet_service::poll_health(camera_worker& worker) {
    camera_session& session = *worker.session;
    std::optional<failure> error;

    // get_options() adds the _sysTimestamp sample to the session's clock model itself.
    const outcome<osc::camera_state> state = co_await session.fetch_state();
    if (!state) {
        error = state.error();
    } else {
        const outcome<osc::camera_options> options = co_await session.get_options(health_options);
        if (!options) {
            error = options.error();
        }
    }
    if (worker.stopping || worker.in_shot) {
        co_return;
    }

    if (!error) {
        if (!worker.last_poll_error.empty()) {
            spdlog::info("[{}] health poll succeeded again", worker.name());
            worker.last_poll_error.clear();
        }
        // The session clears unreachable and error on a good reply but leaves connecting, and
        // needs_activation, which only a successful capture proves wrong.
        const camera_state current = session.snapshot().state;
        if (current == camera_state::unreachable || current == camera_state::connecting) {
            session.set_state(camera_state::ready);
        }
        co_return;
    }

    const std::string reason = error->to_string();
    if (camera_answered(*error)) {
        // The camera is there but rejected a request, so the session stays. The reason is logged
    // once.
        if (reason != worker.last_poll_error) {
            spdlog::warn("[{}] health poll failed: {}", worker.name(), reason);
            worker.last_poll_error = reason;
        }
        co_return;
    }

    worker.connected = false;
    worker.last_poll_error = reason;
    session.set_state(camera_state::unreachable, reason);
    co_await wait_before_reconnect(worker, reason);
}

asio::awaitable<void> fleet_service::stop_worker(std::shared_ptr<camera_worker> worker) {
    worker->stopping = true;
    worker->wake.cancel();

    const bool ended = co_await wait_until([&] { return !worker->running; },
                                           settings_.stop_deadline);
    if (!ended) {
        spdlog::warn("[{}] request still in flight after {} ms; closing the connection",
                     worker->name(), settings_.stop_deadline.count());
        worker->session->cancel();
        co_await wait_until([&] { return !worker->running; }, unwind_limit);
    }
    worker->session->cancel();
}

asio::awaitable<bool> fleet_service::wait_until(std::function<bool()> done,
                                                std::chrono::milliseconds limit) {
    // Checked every 20 ms: stop and reload are rare, so a simple poll beats a signal per
    // condition.
    asio::steady_timer timer(executor_);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return done();
}

rig_diff fleet_service::reload(config::rig new_rig) {
    rig_diff diff = diff_rigs(rig_, new_rig);
    spdlog::info("rig {}: reload from {}: {} added, {} removed, {} changed, {} unchanged",
                 new_rig.name, new_rig.source_file.string(), diff.added.size(),
                 diff.removed.size(), diff.changed.size(), diff.unchanged.size());
    ++reloads_pending_;
    asio::co_spawn(executor_, apply_reload(std::move(new_rig), diff),
                   [](std::exception_ptr error) { log_exception("rig", "reload", error); });
    return diff;
}

asio::awaitable<void> fleet_service::apply_reload(config::rig new_rig, rig_diff) {
    struct pending_guard {
        fleet_service& service;
        ~pending_guard() { --service.reloads_pending_; }
    } pending{*this};

    // One reload at a time, and never under a running shot, whose runner uses the sessions.
    co_await wait_until([this] { return stopping_ || (!reload_applying_ && !shot_); }, 24h);
    if (stopping_) {
        co_return;
    }
    reload_applying_ = true;

    // Compared again here: an earlier reload may have changed the rig since reload() ran.
    const rig_diff diff = diff_rigs(rig_, new_rig);

    task_group stopping_group(executor_);
    for (const auto* names : {&diff.removed, &diff.changed}) {
        for (const auto& name : *names) {
            if (auto worker = find_worker(name)) {
                spdlog::info("[{}] stopping: {} in the new rig", name,
                             names == &diff.removed ? "removed" : "changed");
                stopping_group.spawn(stop_worker(worker));
            }
        }
    }
    co_await stopping_group.wait();

    std::vector<std::shared_ptr<camera_worker>> unchanged_workers;
    for (const auto& name : diff.unchanged) {
        unchanged_workers.push_back(find_worker(name));
    }

    rig_ = std::move(new_rig);
    std::vector<std::shared_ptr<camera_worker>> workers;
    std::vector<std::shared_ptr<camera_worker>> fresh;
    for (const auto& camera : rig_.cameras) {
        auto old = std::find_if(unchanged_workers.begin(), unchanged_workers.end(),
                                [&](const auto& worker) {
                                    return worker && worker->name() == camera.name;
                                });
        if (old != unchanged_workers.end()) {
            workers.push_back(*old);
        } else {
            workers.push_back(make_worker(camera));
            fresh.push_back(workers.back());
        }
    }
    workers_ = std::move(workers);

    reload_applying_ = false;
    if (started_ && !stopping_) {
        for (const auto& worker : fresh) {
            launch(worker);
        }
    }
    spdlog::info("rig {}: reload applied, {} cameras", rig_.name, workers_.size());
    notify();
}

asio::awaitable<void> fleet_service::stop() {
    if (stopping_) {
        co_return;
    }
    stopping_ = true;
    spdlog::info("rig {}: stopping {} cameras", rig_.name, workers_.size());

    for (const auto& worker : workers_) {
        worker->stopping = true;
        worker->wake.cancel();
    }
    // A shot's requests get the same deadline as the polls before the shot is cancelled.
    co_await wait_until(
        [this] {
            const bool idle = std::none_of(workers_.begin(), workers_.end(),
                                           [](const auto& worker) { return worker->running; });
            return idle && !shot_;
        },
        settings_.stop_deadline);

    if (shot_) {
        spdlog::warn("rig {}: cancelling shot {}; partial downloads stay as .part files",
                     rig_.name, shot_->runner.report().shot_id);
        shot_->runner.cancel();
    }
    task_group stopping_group(executor_);
    for (const auto& worker : workers_) {
        stopping_group.spawn(stop_worker(worker));
    }
    co_await stopping_group.wait();
    co_await wait_until([this] { return !shot_; }, unwind_limit);
    spdlog::info("rig {}: stopped", rig_.name);
}

bool fleet_service::ready() const {
    if (reload_applying_) {
        return false;
    }
    return std::all_of(workers_.begin(), workers_.end(),
                       [](const auto& worker) { return worker->tried; });
}

std::string fleet_service::rig_name() const { return rig_.name; }

std::vector<camera_snapshot> fleet_service::cameras() const {
    std::vector<camera_snapshot> snapshots;
    snapshots.reserve(workers_.size());
    for (const auto& worker : workers_) {
        camera_snapshot snapshot = worker->session->snapshot();
        if (!worker->thumbnail_base64.empty()) {
            snapshot.last_thumbnail_base64 = worker->thumbnail_base64;
        }
        snapshot.version += worker->version;
        snapshots.push_back(std::move(snapshot));
    }
    return snapshots;
}

std::vector<shot_report> fleet_service::shots() const {
    return {history_.begin(), history_.end()};
}

std::optional<shot_report> fleet_service::current_shot() const {
    if (!shot_) {
        return std::nullopt;
    }
    return shot_->runner.report();
}

fleet_counters fleet_service::counters() const { return counters_; }

std::filesystem::path fleet_service::output_dir() const { return rig_.output_dir; }

outcome<std::string> fleet_service::start_shot(const shot_request& request) {
    if (stopping_) {
        return make_failure(errc::not_ready, "the service is stopping");
    }
    if (shot_) {
        return make_failure(errc::not_ready,
                            "shot " + shot_->runner.report().shot_id + " is still running");
    }
    if (reloads_pending_ > 0) {
        return make_failure(errc::not_ready, "the rig file is being reloaded");
    }

    std::vector<std::shared_ptr<camera_worker>> taking;
    std::vector<camera_snapshot> absent;
    for (const auto& worker : workers_) {
        if (worker->connected) {
            taking.push_back(worker);
        } else {
            absent.push_back(worker->session->snapshot());
        }
    }
    if (taking.empty()) {
        return make_failure(errc::not_ready, "no camera is ready");
    }

    for (const auto& worker : taking) {
        worker->in_shot = true;
        worker->session->set_state(camera_state::busy, "taking a shot");
    }
    auto shot = std::make_shared<active_shot>(executor_, rig_, taking, std::move(absent), request,
                                              shot_settings_from_rig(rig_));
    shot->runner.on_change([this](const shot_report&) { notify(); });
    shot_ = shot;
    ++shots_started_;

    // co_spawn from the loop's own thread runs the coroutine at once up to its first wait,
    // and the runner chooses the shot id before its first request.
    asio::co_spawn(executor_, run_shot(shot), [this, shot](std::exception_ptr error) {
        log_exception(rig_.name, "shot", error);
        if (!shot->finished) {
            finish_shot(*shot, shot->runner.report());
        }
    });
    notify();

    std::string id = shot->runner.report().shot_id;
    if (id.empty()) {
        id = "shot-" + std::to_string(shots_started_);
    }
    return id;
}

asio::awaitable<void> fleet_service::run_shot(std::shared_ptr<active_shot> shot) {
    spdlog::info("rig {}: shot started with {} of {} cameras", shot->rig.name,
                 shot->workers.size(), shot->workers.size() + shot->absent.size());
    shot_report report = co_await shot->runner.run(shot->request);
    finish_shot(*shot, std::move(report));

    // Thumbnails one camera after another is fine: each is one small listFiles request and
    // each camera's request goes through its own queue anyway.
    for (const auto& worker : shot->workers) {
        if (!worker->stopping) {
            co_await update_thumbnail(worker);
        }
    }
}

void fleet_service::finish_shot(active_shot& shot, shot_report report) {
    shot.finished = true;

    // Cameras that were not ready took no part; the report names them with their reason so
    // that the shot does not look complete.
    for (const auto& snapshot : shot.absent) {
        camera_shot missing;
        missing.name = snapshot.name;
        missing.host = snapshot.host;
        missing.error = "camera not ready at the start of the shot: " +
                        std::string(to_string(snapshot.state)) +
                        (snapshot.reason.empty() ? "" : ": " + snapshot.reason);
        report.cameras.push_back(std::move(missing));
    }

    ++counters_.shots_total;
    if (!report.all_delivered()) {
        ++counters_.shot_failures_total;
    }
    counters_.downloaded_bytes_total += delivered_bytes(report);
    spdlog::info("rig {}: shot {} finished, {} of {} cameras delivered", shot.rig.name,
                 report.shot_id,
                 std::count_if(report.cameras.begin(), report.cameras.end(),
                               [](const camera_shot& camera) { return camera.delivered; }),
                 report.cameras.size());

    history_.push_back(std::move(report));
    while (history_.size() > settings_.history_size) {
        history_.pop_front();
    }

    for (const auto& worker : shot.workers) {
        worker->in_shot = false;
        if (worker->session->snapshot().state == camera_state::busy) {
            worker->session->set_state(camera_state::ready);
        }
    }
    if (shot_.get() == &shot) {
        shot_.reset();
    }
    notify();
}

asio::awaitable<void> fleet_service::update_thumbnail(std::shared_ptr<camera_worker> worker) {
    const nlohmann::json parameters = {
        {"fileType", "all"},
        {"entryCount", 1},
        {"startPosition", 0},
        {"maxThumbSize", settings_.thumbnail_size},
    };
    outcome<osc::command_reply> reply =
        co_await worker->session->execute("camera.listFiles", parameters);
    if (reply && reply->state == osc::command_state::in_progress) {
        reply = co_await worker->session->wait_done(std::move(*reply),
                                                    rig_.timeouts.command);
    }
    if (!reply) {
        spdlog::warn("[{}] thumbnail not updated: listFiles failed: {}", worker->name(),
                     reply.error().to_string());
        co_return;
    }
    const outcome<osc::file_list> files = osc::file_list_from_reply(*reply);
    if (!files) {
        spdlog::warn("[{}] thumbnail not updated: {}", worker->name(), files.error().to_string());
        co_return;
    }
    for (const auto& entry : files->entries) {
        if (!entry.thumbnail_base64.empty()) {
            worker->thumbnail_base64 = entry.thumbnail_base64;
            ++worker->version;
            spdlog::debug("[{}] thumbnail of {} updated", worker->name(), entry.name);
            notify();
            co_return;
        }
    }
    spdlog::debug("[{}] listFiles returned no thumbnail", worker->name());
}

outcome<std::string> fleet_service::stop_recording() {
    if (!shot_ || shot_->finished) {
        return make_failure(errc::not_ready, "no shot is running");
    }
    const config::capture_mode mode = shot_->runner.report().mode;
    if (mode == config::capture_mode::photo) {
        return make_failure(errc::not_ready, "the running shot is a photo");
    }
    shot_->runner.stop_recording();
    spdlog::info("rig {}: stopping the recording of shot {}", rig_.name,
                 shot_->runner.report().shot_id);
    return shot_->runner.report().shot_id;
}

void fleet_service::on_change(std::function<void()> listener) {
    listeners_.push_back(std::move(listener));
}

std::shared_ptr<fleet_service::camera_worker> fleet_service::find_worker(
    const std::string& name) const {
    for (const auto& worker : workers_) {
        if (worker->name() == name) {
            return worker;
        }
    }
    return nullptr;
}

void fleet_service::notify() {
    if (notify_pending_) {
        return;
    }
    notify_pending_ = true;
    asio::post(executor_, [this] {
        notify_pending_ = false;
        for (const auto& listener : listeners_) {
            listener();
        }
    });
}

}  // namespace oscrig::controller
