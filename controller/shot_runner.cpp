#include "controller/shot_runner.hpp"

#include "controller/downloader.hpp"
#include "controller/file_naming.hpp"
#include "controller/option_plan.hpp"
#include "controller/session_logic.hpp"
#include "controller/sync_report.hpp"
#include "controller/task_group.hpp"
#include "controller/vendor_profile.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <system_error>

namespace oscrig::controller {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string start_command(config::capture_mode mode) {
    return mode == config::capture_mode::photo ? "camera.takePicture" : "camera.startCapture";
}

asio::awaitable<void> sleep_for(asio::any_io_executor executor, std::chrono::milliseconds d) {
    asio::steady_timer timer(executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

/// Matches listFiles entries to file URLs, for the sizes the downloads are checked against.
std::vector<std::optional<std::uint64_t>> sizes_from_listing(
    const std::vector<std::string>& urls, const osc::file_list& listing) {
    std::vector<std::optional<std::uint64_t>> sizes(urls.size());
    for (std::size_t i = 0; i < urls.size(); ++i) {
        for (const auto& entry : listing.entries) {
            if (entry.file_url == urls[i]) {
                sizes[i] = entry.size;
                break;
            }
        }
    }
    return sizes;
}

/// Marks a camera failed with `reason`; the first reason stays.
void fail_camera(camera_shot& shot, bool& failed, const std::string& reason) {
    if (!failed) {
        shot.error = reason;
    }
    failed = true;
}

/// Reason for a camera's failure in the report. A camera that needs activation gets the
/// operator's instruction first, because the camera's own message names no action.
std::string reason_for(camera_session& session, const failure& error) {
    // A staged trigger reads its reply outside the session's request path, so the session has
    // not seen an unactivated reply yet. Mark it here, so that serve and the dashboard show it.
    if (error.code == errc::unactivated &&
        session.snapshot().state != camera_state::needs_activation) {
        session.set_state(camera_state::needs_activation, std::string(activation_message));
    }
    if (session.snapshot().state == camera_state::needs_activation) {
        return fmt::format("{} ({})", session.snapshot().reason, error.to_string());
    }
    return error.to_string();
}

}  // namespace

shot_settings shot_settings_from_rig(const config::rig& rig) {
    shot_settings settings;
    settings.output_dir = rig.output_dir;
    return settings;
}

shot_runner::shot_runner(asio::any_io_executor executor, const config::rig& rig,
                         std::vector<camera_session*> sessions, trigger& start_trigger,
                         shot_settings settings, progress_sink* progress)
    : executor_(executor),
      rig_(rig),
      sessions_(std::move(sessions)),
      trigger_(start_trigger),
      settings_(std::move(settings)),
      progress_(progress),
      stop_timer_(executor) {}

void shot_runner::on_change(std::function<void(const shot_report&)> listener) {
    listeners_.push_back(std::move(listener));
}

void shot_runner::stop_recording() {
    stop_requested_ = true;
    stop_timer_.cancel();
}

void shot_runner::cancel() {
    if (!cancelled_) {
        spdlog::info("shot {} cancelled", report_.shot_id);
    }
    cancelled_ = true;
    stop_timer_.cancel();
}

asio::awaitable<shot_report> shot_runner::run(shot_request request) {
    report_ = {};
    report_.rig = rig_.name;
    report_.mode = request.mode;
    report_.sync = trigger_.method();
    report_.started_us = wall_now_us();
    if (request.mode != config::capture_mode::photo && request.duration) {
        report_.duration_seconds = std::chrono::duration<double>(*request.duration).count();
    }

    // The shot folder is created before anything is sent, so that a shot that cannot be
    // stored fails before it takes pictures.
    std::error_code ec;
    fs::create_directories(settings_.output_dir, ec);
    if (ec) {
        throw std::runtime_error(fmt::format("creating output folder {} failed: {}",
                                             settings_.output_dir.string(), ec.message()));
    }
    for (;;) {
        report_.shot_id = choose_shot_id(std::chrono::system_clock::now(),
                                         [this](const std::string& id) {
                                             return fs::exists(settings_.output_dir / id);
                                         });
        // create_directory returns false when the folder appeared in the meantime.
        if (fs::create_directory(settings_.output_dir / report_.shot_id, ec)) {
            break;
        }
        if (ec) {
            throw std::runtime_error(fmt::format("creating shot folder in {} failed: {}",
                                                 settings_.output_dir.string(), ec.message()));
        }
    }
    shot_folder_ = settings_.output_dir / report_.shot_id;
    spdlog::info("shot {}: {} on {} cameras, sync {}", report_.shot_id,
                 config::to_string(request.mode), sessions_.size(), report_.sync);

    runs_.assign(sessions_.size(), camera_run{});
    report_.cameras.clear();
    for (auto* session : sessions_) {
        camera_shot shot;
        shot.name = session->name();
        shot.host = fmt::format("{}:{}", session->camera().host, session->camera().port);
        report_.cameras.push_back(std::move(shot));
        session->take_records();
        session->record_requests(true);
    }
    changed();

    co_await start_sessions();
    co_await apply_options(request);
    const bool recording = request.mode != config::capture_mode::photo;
    recording_started_ = recording && !cancelled_;
    co_await fire(start_command(request.mode));
    if (recording) {
        co_await wait_recording(request.duration);
        // A camera left recording refuses the next shot, so a recording that started is
        // stopped even when the shot was cancelled.
        co_await fire("camera.stopCapture", recording_started_);
        recording_started_ = false;
    }
    co_await download_all();
    if (cancelled_) {
        for (const std::size_t i : active_cameras()) {
            fail_camera(report_.cameras[i], runs_[i].failed, "shot cancelled");
        }
    }

    for (std::size_t i = 0; i < sessions_.size(); ++i) {
        auto& shot = report_.cameras[i];
        for (auto& entry : sessions_[i]->take_records()) {
            shot.requests.push_back(std::move(entry));
        }
        sessions_[i]->record_requests(false);
        auto session_steps = sessions_[i]->take_vendor_steps();
        shot.vendor_steps.insert(shot.vendor_steps.begin(), session_steps.begin(),
                                 session_steps.end());
        if (!runs_[i].failed && shot.error.empty()) {
            shot.delivered = true;
        }
        if (sessions_[i]->snapshot().state == camera_state::busy) {
            sessions_[i]->set_state(camera_state::ready);
        }
    }
    report_.sync_summaries = summarize_shot(report_.cameras);
    report_.finished_us = wall_now_us();
    write_report();
    changed();
    co_return report_;
}

asio::awaitable<void> shot_runner::start_sessions() {
    task_group group(executor_);
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
        if (sessions_[i]->info()) {
            continue;
        }
        group.spawn([](shot_runner* self, std::size_t index) -> asio::awaitable<void> {
            auto started = co_await self->sessions_[index]->start();
            if (!started) {
                auto& shot = self->report_.cameras[index];
                fail_camera(shot, self->runs_[index].failed,
                            reason_for(*self->sessions_[index], started.error()));
            }
        }(this, i));
    }
    co_await group.wait();
    changed();
}

asio::awaitable<void> shot_runner::apply_options(shot_request request) {
    task_group group(executor_);
    for (const std::size_t i : active_cameras()) {
        group.spawn([](shot_runner* self, std::size_t index,
                       config::capture_mode mode) -> asio::awaitable<void> {
            auto& session = *self->sessions_[index];
            auto& shot = self->report_.cameras[index];
            auto& run = self->runs_[index];
            session.set_state(camera_state::busy);

            auto settings = self->rig_.settings_for(session.camera());
            settings.mode = mode;
            const osc::camera_options current =
                session.options() ? *session.options() : osc::camera_options{json::object()};
            const auto plan = osc::plan_options(settings, current, *session.info());
            for (const auto& note : plan.skipped) {
                shot.warnings.push_back(fmt::format("{} not set: {}", note.name, note.reason));
            }
            for (const auto& note : plan.adjusted) {
                shot.warnings.push_back(fmt::format("{} adjusted: {}", note.name, note.reason));
            }
            // The state is the one read at session start or by the last health poll.
            if (session.state()) {
                if (auto busy = osc::capture_status_problem(session.profile(), *session.state())) {
                    fail_camera(shot, run.failed, *busy);
                    co_return;
                }
            }
            if (!plan.mode_supported) {
                fail_camera(shot, run.failed,
                            fmt::format("{} capture is not supported by {}",
                                        config::to_string(mode), session.info()->model));
                co_return;
            }
            if (plan.options.empty()) {
                co_return;
            }
            run.sent_options = plan.options;
            // GCC 12 rejects a braced list with a string literal inside a co_await expression
            // ("array used as initializer"), so the parameters are built first.
            const json parameters{{"options", plan.options}};
            auto applied = co_await session.execute("camera.setOptions", parameters);
            if (!applied) {
                fail_camera(shot, run.failed,
                            "setting options failed: " + applied.error().to_string());
                co_return;
            }
            // Cameras have replied done and kept the old value, so read the options back.
            auto read_back = co_await session.get_options(osc::option_names(plan.options));
            if (!read_back) {
                shot.warnings.push_back("reading options back failed: " +
                                        read_back.error().to_string());
            } else {
                for (const auto& mismatch : osc::verify_options(plan.options, *read_back)) {
                    const std::string text = osc::to_string(mismatch);
                    spdlog::warn("[{}] {}", session.name(), text);
                    shot.warnings.push_back(text);
                }
            }
            const auto& profile = session.profile();
            if (plan.changes_capture_mode && profile.capture_mode_settle.count() > 0) {
                shot.vendor_steps.push_back(
                    fmt::format("waited {} ms after the captureMode change",
                                profile.capture_mode_settle.count()));
                spdlog::info("[{}] waiting {} ms after the captureMode change", session.name(),
                             profile.capture_mode_settle.count());
                co_await sleep_for(self->executor_, profile.capture_mode_settle);
            }
        }(this, i, request.mode));
    }
    co_await group.wait();
    changed();
}

asio::awaitable<void> shot_runner::fire(std::string command, bool even_if_cancelled) {
    const auto active = active_cameras();
    if (active.empty() || (cancelled_ && !even_if_cancelled)) {
        co_return;
    }
    spdlog::info("firing {} on {} cameras", command, active.size());
    std::vector<trigger_target> targets;
    for (const std::size_t i : active) {
        targets.push_back({sessions_[i], command, nullptr});
    }
    auto outcomes = co_await trigger_.fire(std::move(targets));

    // Follow each camera's command to done, all cameras at once.
    task_group group(executor_);
    for (std::size_t k = 0; k < active.size() && k < outcomes.size(); ++k) {
        const std::size_t index = active[k];
        auto& shot = report_.cameras[index];
        auto& outcome_k = outcomes[k];
        outcome_k.record.command = command;
        outcome_k.record.rejected = !outcome_k.reply;
        shot.triggers.push_back(outcome_k.record);
        if (!outcome_k.reply) {
            fail_camera(shot, runs_[index].failed,
                        fmt::format("{} failed: {}", command,
                                    reason_for(*sessions_[index], outcome_k.reply.error())));
            continue;
        }
        group.spawn([](shot_runner* self, std::size_t i, std::string name,
                       osc::command_reply first) -> asio::awaitable<void> {
            auto& session = *self->sessions_[i];
            auto& shot = self->report_.cameras[i];
            const auto limit = name == "camera.stopCapture" ? self->settings_.stop_limit
                                                            : self->settings_.capture_limit;
            if (first.name.empty()) {
                first.name = name;
            }
            auto done = co_await session.wait_done(std::move(first), limit);
            if (!done) {
                fail_camera(shot, self->runs_[i].failed,
                            fmt::format("{} failed: {}", name, reason_for(session, done.error())));
                co_return;
            }
            for (auto& url : done->file_urls()) {
                self->runs_[i].file_urls.push_back(std::move(url));
            }
        }(this, index, command, std::move(*outcome_k.reply)));
    }
    co_await group.wait();
    changed();
}

asio::awaitable<void> shot_runner::wait_recording(std::optional<std::chrono::milliseconds> d) {
    if (active_cameras().empty() || cancelled_) {
        co_return;
    }
    recording_ = true;
    if (d) {
        spdlog::info("recording for {:.1f} s", std::chrono::duration<double>(*d).count());
        stop_timer_.expires_after(*d);
    } else {
        spdlog::info("recording until stopped");
        stop_timer_.expires_at(asio::steady_timer::time_point::max());
    }
    if (!stop_requested_) {
        co_await stop_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    recording_ = false;
}

asio::awaitable<void> shot_runner::download_all() {
    if (cancelled_) {
        co_return;
    }
    task_group group(executor_);
    for (const std::size_t i : active_cameras()) {
        group.spawn([](shot_runner* self, std::size_t index) -> asio::awaitable<void> {
            auto& session = *self->sessions_[index];
            auto& shot = self->report_.cameras[index];
            auto& run = self->runs_[index];
            if (run.file_urls.empty()) {
                fail_camera(shot, run.failed, "the camera returned no file URL");
                co_return;
            }
            for (const auto& warning : osc::check_capture_files(
                     self->rig_.settings_for(session.camera()), *session.info(), run.file_urls)) {
                shot.warnings.push_back(warning);
            }
            run.listed_sizes = co_await self->listed_sizes(session, run.file_urls);

            // The camera's name becomes a folder name, so it gets the same check as a file name.
            auto folder = path_in_folder(self->shot_folder_, session.name());
            if (!folder) {
                fail_camera(shot, run.failed, folder.error().to_string());
                co_return;
            }
            std::error_code ec;
            fs::create_directories(*folder, ec);
            if (ec) {
                fail_camera(shot, run.failed,
                            fmt::format("creating {} failed: {}", folder->string(), ec.message()));
                co_return;
            }
            for (std::size_t f = 0; f < run.file_urls.size(); ++f) {
                if (self->cancelled_) {
                    fail_camera(shot, run.failed, "cancelled before every file was downloaded");
                    co_return;
                }
                download_request request{run.file_urls[f], run.listed_sizes.size() > f
                                                               ? run.listed_sizes[f]
                                                               : std::nullopt};
                auto record = co_await download_file(session, request, self->shot_folder_,
                                                     *folder, self->settings_.download_attempts,
                                                     self->progress_);
                if (!record.error.empty()) {
                    fail_camera(shot, run.failed,
                                fmt::format("download of {} failed: {}", record.url, record.error));
                }
                shot.files.push_back(std::move(record));
                self->changed();
            }
        }(this, i));
    }
    co_await group.wait();
}

asio::awaitable<std::vector<std::optional<std::uint64_t>>> shot_runner::listed_sizes(
    camera_session& session, std::vector<std::string> urls) {
    // One listFiles per shot, never on a timer: cameras have hung under frequent listing.
    const json parameters{{"fileType", "all"},
                          {"entryCount", std::max<std::size_t>(urls.size() * 2, 10)},
                          {"maxThumbSize", 0},
                          {"startPosition", 0}};
    auto reply = co_await session.execute("camera.listFiles", parameters);
    if (!reply) {
        spdlog::debug("[{}] listFiles failed, downloads are checked against Content-Length "
                      "only: {}",
                      session.name(), reply.error().to_string());
        co_return std::vector<std::optional<std::uint64_t>>(urls.size());
    }
    auto listing = osc::file_list_from_reply(*reply);
    if (!listing) {
        co_return std::vector<std::optional<std::uint64_t>>(urls.size());
    }
    co_return sizes_from_listing(urls, *listing);
}

void shot_runner::write_report() {
    const auto path = shot_folder_ / "shot.json";
    const auto temporary = shot_folder_ / "shot.json.part";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << report_.to_json().dump(2) << '\n';
        out.flush();
        if (!out) {
            throw std::runtime_error("writing " + temporary.string() + " failed");
        }
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        throw std::runtime_error(fmt::format("renaming {} failed: {}", temporary.string(),
                                             ec.message()));
    }
    spdlog::info("shot {} written to {}", report_.shot_id, path.string());
}

void shot_runner::changed() {
    for (const auto& listener : listeners_) {
        listener(report_);
    }
}

std::vector<std::size_t> shot_runner::active_cameras() const {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < runs_.size(); ++i) {
        if (!runs_[i].failed) {
            active.push_back(i);
        }
    }
    return active;
}

}  // namespace oscrig::controller
