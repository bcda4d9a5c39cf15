// One shot across a rig: options, trigger, completion, stop, downloads and shot.json.
//
// The runner works on sessions it does not own, so a long-running process can keep its
// sessions between shots. It never exits the process and keeps no global state. cancel() ends
// a shot early, and the report then lists the cameras that were cut off as cancelled.
#pragma once

#include "config/rig.hpp"
#include "controller/camera_session.hpp"
#include "controller/fleet.hpp"
#include "controller/progress.hpp"
#include "controller/shot_report.hpp"
#include "controller/trigger.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::controller {

struct shot_settings {
    std::filesystem::path output_dir;  // shot folders are created here
    int download_attempts = 3;         // per file, the first one included
    // Maximum wait for a capture command to reach done, after the trigger.
    std::chrono::milliseconds capture_limit{60000};
    // Extra time a timelapse or video gets to finish writing after stopCapture.
    std::chrono::milliseconds stop_limit{60000};
};

/// Settings of the rig file's shots.
shot_settings shot_settings_from_rig(const config::rig& rig);

class shot_runner {
public:
    /// `sessions` and `start_trigger` must outlive the runner. Sessions that have not read
    /// /osc/info yet are started by run(). `progress` may be null.
    shot_runner(boost::asio::any_io_executor executor, const config::rig& rig,
                std::vector<camera_session*> sessions, trigger& start_trigger,
                shot_settings settings, progress_sink* progress = nullptr);

    /// Takes one shot and returns its report, also when cameras failed. Creates the shot
    /// folder OUTPUT/SHOT_ID, downloads into OUTPUT/SHOT_ID/CAMERA/ and writes shot.json.
    /// Throws only when the shot folder or shot.json cannot be written.
    boost::asio::awaitable<shot_report> run(shot_request request);

    /// Ends the recording of a video or timelapse shot now, also one without a duration.
    void stop_recording();

    /// Stops the shot: cameras still working are reported as cancelled.
    void cancel();

    /// True from the moment the capture started until stopCapture was sent: a cancel in this
    /// time still stops the recording, and callers should leave the sessions open for it.
    bool recording_started() const { return recording_started_; }

    /// The report so far; complete after run() returned.
    const shot_report& report() const { return report_; }

    /// Shot folder, empty before run() created it.
    const std::filesystem::path& shot_folder() const { return shot_folder_; }

    /// Called after each stage of the shot with the report so far.
    void on_change(std::function<void(const shot_report&)> listener);

private:
    // Per-camera progress through the shot, beside its camera_shot in report_.
    struct camera_run {
        bool failed = false;
        nlohmann::json sent_options;  // the setOptions object applied before the trigger
        std::vector<std::string> file_urls;
        std::vector<std::optional<std::uint64_t>> listed_sizes;  // parallel to file_urls
    };

    boost::asio::awaitable<void> start_sessions();
    boost::asio::awaitable<void> apply_options(shot_request request);
    // Fires `command` on the active cameras; does nothing once the shot is cancelled unless
    // `even_if_cancelled`.
    boost::asio::awaitable<void> fire(std::string command, bool even_if_cancelled = false);
    boost::asio::awaitable<void> wait_recording(std::optional<std::chrono::milliseconds> d);
    boost::asio::awaitable<void> download_all();
    boost::asio::awaitable<std::vector<std::optional<std::uint64_t>>> listed_sizes(
        camera_session& session, std::vector<std::string> urls);
    void write_report();
    void changed();
    std::vector<std::size_t> active_cameras() const;

    boost::asio::any_io_executor executor_;
    const config::rig& rig_;
    std::vector<camera_session*> sessions_;
    trigger& trigger_;
    shot_settings settings_;
    progress_sink* progress_;
    shot_report report_;
    std::filesystem::path shot_folder_;
    std::vector<camera_run> runs_;
    boost::asio::steady_timer stop_timer_;
    bool recording_ = false;
    bool recording_started_ = false;
    bool stop_requested_ = false;
    bool cancelled_ = false;
    std::vector<std::function<void(const shot_report&)>> listeners_;
};

}  // namespace oscrig::controller
