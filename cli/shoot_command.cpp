// The `oscrig shoot RIG.yaml` subcommand: takes one photo, video or timelapse on every camera
// of a rig, downloads the files and writes shot.json.
#include "cli/commands.hpp"
#include "config/rig.hpp"
#include "config/value_parsing.hpp"
#include "controller/camera_session.hpp"
#include "controller/file_sink.hpp"
#include "controller/progress.hpp"
#include "controller/shot_runner.hpp"
#include "controller/staged_trigger.hpp"
#include "controller/sync_report.hpp"
#include "controller/trigger.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <functional>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::cli {
namespace {

namespace asio = boost::asio;
using namespace oscrig::controller;

struct shoot_arguments {
    std::string rig_path;
    bool photo = false;
    std::string video;
    std::string timelapse;
    std::string sync;
    std::string output;
    std::string log_level = "info";
    int download_attempts = 3;
};

/// Parses a recording duration such as "3s", "1500ms" or "2m"; nothing unless positive.
std::optional<std::chrono::milliseconds> parse_recording_duration(std::string_view text) {
    const auto parsed = config::parse_duration(text);
    if (!parsed || *parsed < std::chrono::milliseconds{1}) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

/// Selects the trigger for the sync method.
std::unique_ptr<trigger> make_trigger(config::sync_method method,
                                      const config::sync_settings& settings) {
    if (method == config::sync_method::staged) {
        return std::make_unique<staged_trigger>(settings);
    }
    return std::make_unique<concurrent_trigger>();
}

/// Prints the per-camera table and the shot folder.
void print_summary(const shot_report& report, const std::filesystem::path& folder) {
    std::size_t name_width = 6;
    for (const auto& camera : report.cameras) {
        name_width = std::max(name_width, camera.name.size());
    }
    std::cout << fmt::format("{:<{}}  {:>5}  {:>10}  {}\n", "camera", name_width, "files",
                             "bytes", "result");
    for (const auto& camera : report.cameras) {
        std::size_t files = 0;
        std::uint64_t bytes = 0;
        for (const auto& file : camera.files) {
            if (file.error.empty()) {
                ++files;
                bytes += file.bytes;
            }
        }
        const std::string result = camera.delivered ? "ok" : camera.error;
        std::cout << fmt::format("{:<{}}  {:>5}  {:>10}  {}\n", camera.name, name_width, files,
                                 format_bytes(bytes), result);
        for (const auto& warning : camera.warnings) {
            std::cout << fmt::format("{:<{}}  warning: {}\n", "", name_width, warning);
        }
    }
    for (const auto& line : format_shot_sync(report)) {
        std::cout << line << '\n';
    }
    std::cout << "shot folder: " << folder.string() << '\n';
}

int run_shoot(const shoot_arguments& arguments) {
    const auto level = spdlog::level::from_str(arguments.log_level);
    if (level == spdlog::level::off && arguments.log_level != "off") {
        std::cerr << "--log.level: unknown level \"" << arguments.log_level
                  << "\"; use trace, debug, info, warn, error or off\n";
        return exit_usage;
    }
    // Log lines go to stderr, so that stdout carries the progress line and the result table.
    auto logger = spdlog::stderr_color_mt("oscrig-shoot");
    logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(level);
    spdlog::set_default_logger(logger);

    shot_request request;
    const int modes = (arguments.photo ? 1 : 0) + (arguments.video.empty() ? 0 : 1) +
                      (arguments.timelapse.empty() ? 0 : 1);
    if (modes > 1) {
        std::cerr << "choose one of --photo, --video DURATION, --timelapse DURATION\n";
        return exit_usage;
    }
    if (modes == 1 && !arguments.photo) {
        const std::string& text = arguments.video.empty() ? arguments.timelapse : arguments.video;
        request.mode = arguments.video.empty() ? config::capture_mode::timelapse
                                               : config::capture_mode::video;
        request.duration = parse_recording_duration(text);
        if (!request.duration) {
            std::cerr << "invalid duration \"" << text
                      << "\": use a positive number with ms, s or m, such as 1500ms, 3s or 2m\n";
            return exit_usage;
        }
    }

    const config::load_result loaded = config::load_rig_file(arguments.rig_path);
    if (!loaded.value) {
        for (const auto& error : loaded.errors) {
            std::cerr << error.to_string() << '\n';
        }
        return exit_config;
    }
    if (modes == 0) {
        // Without a flag the rig's capture mode decides; a recording also needs its length.
        const auto mode = loaded.value->capture.mode.value_or(config::capture_mode::photo);
        if (mode != config::capture_mode::photo) {
            std::cerr << arguments.rig_path << ": the rig's capture mode is "
                      << config::to_string(mode) << "; give its length with --"
                      << config::to_string(mode) << " DURATION, or choose --photo\n";
            return exit_usage;
        }
    }
    const config::rig& rig = *loaded.value;

    config::sync_method method = rig.sync.method;
    if (arguments.sync == "staged") {
        method = config::sync_method::staged;
    } else if (arguments.sync == "none") {
        method = config::sync_method::none;
    }
    request.sync = method;

    asio::io_context context;
    std::vector<std::unique_ptr<camera_session>> sessions;
    std::vector<camera_session*> pointers;
    const auto settings = settings_from_rig(rig);
    for (const auto& camera : rig.cameras) {
        sessions.push_back(
            std::make_unique<camera_session>(context.get_executor(), camera, settings));
        pointers.push_back(sessions.back().get());
    }

    auto shot_trigger = make_trigger(method, rig.sync);
    shot_settings shot = shot_settings_from_rig(rig);
    if (!arguments.output.empty()) {
        shot.output_dir = arguments.output;
    }
    shot.download_attempts = arguments.download_attempts;
    console_progress progress(console_progress::is_terminal(stdout), stdout);
    shot_runner runner(context.get_executor(), rig, pointers, *shot_trigger, shot, &progress);

    // The first SIGINT or SIGTERM ends the shot early and still writes shot.json. During a
    // recording it first stops the cameras, which would otherwise go on recording and refuse
    // the next shot. A second signal then stops at once.
    asio::signal_set signals(context, SIGINT, SIGTERM);
    int stopped_by_signal = 0;
    const auto cancel_sessions = [&] {
        for (auto& session : sessions) {
            session->cancel();
        }
    };
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signal_number) {
            if (ec) {
                return;
            }
            if (stopped_by_signal != 0) {
                spdlog::warn("signal {} received again, stopping now", signal_number);
                cancel_sessions();
                return;
            }
            stopped_by_signal = signal_number;
            runner.stop_recording();
            runner.cancel();
            if (runner.recording_started()) {
                spdlog::warn("signal {} received, stopping the recording on every camera "
                             "(a second signal stops at once)",
                             signal_number);
                signals.async_wait(on_signal);
                return;
            }
            spdlog::warn("signal {} received, stopping the shot", signal_number);
            cancel_sessions();
        };
    signals.async_wait(on_signal);

    std::optional<shot_report> report;
    std::exception_ptr failure;
    asio::co_spawn(context, runner.run(request),
                   [&](std::exception_ptr error, shot_report result) {
                       signals.cancel();
                       if (error) {
                           failure = error;
                           return;
                       }
                       report = std::move(result);
                   });
    context.run();
    // Write jobs of downloads cut short refer to context: they end before it does.
    controller::file_sink::stop_workers();
    progress.finish();

    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::cerr << "shot failed: " << e.what() << '\n';
            return exit_failed;
        }
    }
    print_summary(*report, runner.shot_folder());
    if (stopped_by_signal != 0) {
        // The shell convention, so that scripts can tell an interrupted shot from a failed one.
        bool partial = false;
        for (const auto& camera : report->cameras) {
            for (const auto& file : camera.files) {
                partial = partial || (!file.error.empty() && file.bytes > 0);
            }
        }
        std::cerr << "shot interrupted by signal " << stopped_by_signal
                  << (partial ? "; unfinished downloads are left as .part files" : "") << '\n';
        return 128 + stopped_by_signal;
    }
    return report->all_delivered() ? exit_ok : exit_failed;
}

const command_registration shoot_registration{20, [](CLI::App& app, int& exit_code) {
    CLI::App* command = app.add_subcommand(
        "shoot",
        "Take one photo, video or timelapse on every camera of a rig, download every file to\n"
        "OUTPUT/SHOT_ID/CAMERA/ and write OUTPUT/SHOT_ID/shot.json.\n"
        "Exits with 0 when every camera delivered its files, 1 otherwise, 64 for a bad command\n"
        "line, 78 when the rig file has errors, and 128 plus the signal number (130 for Ctrl-C)\n"
        "when a signal stopped the shot.");
    auto arguments = std::make_shared<shoot_arguments>();
    command->add_option("rig", arguments->rig_path, "Rig file (YAML)")->required();
    auto* photo = command->add_flag("--photo", arguments->photo,
                                      "Take one photo per camera (the default when the rig's "
                                      "capture mode is photo)");
    auto* video = command->add_option("--video", arguments->video,
                                      "Record a video for DURATION (1500ms, 3s, 2m)");
    auto* timelapse = command->add_option("--timelapse", arguments->timelapse,
                                          "Record a timelapse for DURATION (1500ms, 3s, 2m)");
    photo->excludes(video)->excludes(timelapse);
    video->excludes(timelapse);
    command->add_option("--sync", arguments->sync,
                        "Trigger synchronisation: staged (final bytes released together) or "
                        "none (plain concurrent requests); default: the rig file's sync.method")
        ->check(CLI::IsMember({"staged", "none"}));
    command->add_option("--output", arguments->output,
                        "Folder for shot folders, instead of the rig file's output");
    command->add_option("--download-attempts", arguments->download_attempts,
                        "Attempts per file, the first one included; a cut download resumes "
                        "where it stopped when the camera supports Range")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    command->add_option("--log.level", arguments->log_level,
                        "Log level: trace, debug, info, warn, error or off")
        ->capture_default_str();
    command->callback([arguments, &exit_code] { exit_code = run_shoot(*arguments); });
}};

}  // namespace
}  // namespace oscrig::cli
