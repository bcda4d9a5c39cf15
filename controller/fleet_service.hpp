// The fleet of `oscrig serve`: a long-running session per camera with health polls,
// reconnects, rig reloads, shots in the background and a graceful stop.
//
// Threading: every member runs on the thread of the executor passed to the constructor, the
// same loop that runs the camera sessions and the dashboard.
#pragma once

#include "config/rig.hpp"
#include "controller/backoff.hpp"
#include "controller/fleet.hpp"
#include "controller/rig_diff.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::controller {

struct fleet_service_settings {
    backoff_settings reconnect;  // delays between reconnects of one camera: 1 s up to 60 s
    backoff::random_source random;  // jitter source of the reconnect delays, seeded when empty
    // How long stop() and a reload wait for a camera's request in flight before closing its
    // connection.
    std::chrono::milliseconds stop_deadline{5000};
    int thumbnail_size = 160;  // maxThumbSize of the listFiles request after a shot, pixels
    std::size_t history_size = 100;  // finished shots kept for shots()
};

/// Implements controller::fleet over real camera sessions.
///
/// Each camera gets a worker coroutine: it starts the session, then polls /osc/state and
/// camera.getOptions (battery, space, `_sysTimestamp`) every `health_interval` through the
/// camera's request queue. A camera that fails is marked unreachable and reconnected with
/// exponential back-off. Polls pause while a shot runs. After a shot, one camera.listFiles per
/// camera fetches the thumbnail of its newest file.
///
/// Lifetime: the service must outlive the loop's handlers that refer to it. Run stop() to the
/// end before destroying the service while the loop still runs.
class fleet_service final : public fleet {
public:
    fleet_service(boost::asio::any_io_executor executor, config::rig rig,
                  fleet_service_settings settings = {});
    ~fleet_service() override;

    fleet_service(const fleet_service&) = delete;
    fleet_service& operator=(const fleet_service&) = delete;

    /// Starts a worker for every camera of the rig. Returns at once.
    void start();

    /// Applies a new version of the rig in the background and returns what differs.
    ///
    /// Removed and changed cameras are stopped the way stop() stops them. Then changed and
    /// added cameras get new sessions. Unchanged cameras keep their sessions without any
    /// interruption. A running shot finishes first, and reloads run one after another in the
    /// order of the reload() calls.
    rig_diff reload(config::rig new_rig);

    /// Stops gracefully. New shots are rejected and workers end after their request in flight.
    /// After `stop_deadline`, every connection is closed and a running shot is cancelled, which
    /// leaves its partial downloads as .part files. Completes when every worker and the shot
    /// finished, or about two seconds after the deadline at the latest.
    boost::asio::awaitable<void> stop();

    /// True once every camera of the current rig has been tried at least once.
    bool ready() const;

    /// The rig in effect: the last one whose reload finished.
    const config::rig& rig() const { return rig_; }

    std::string rig_name() const override;
    std::vector<camera_snapshot> cameras() const override;
    std::vector<shot_report> shots() const override;
    std::optional<shot_report> current_shot() const override;
    fleet_counters counters() const override;
    std::filesystem::path output_dir() const override;
    outcome<std::string> start_shot(const shot_request& request) override;
    outcome<std::string> stop_recording() override;
    void on_change(std::function<void()> listener) override;

private:
    struct camera_worker;
    struct active_shot;

    std::shared_ptr<camera_worker> make_worker(const config::camera_config& camera);
    void launch(std::shared_ptr<camera_worker> worker);
    boost::asio::awaitable<void> run_camera(std::shared_ptr<camera_worker> worker);
    boost::asio::awaitable<void> connect_camera(camera_worker& worker);
    boost::asio::awaitable<void> poll_health(camera_worker& worker);
    boost::asio::awaitable<void> wait_before_reconnect(camera_worker& worker,
                                                       const std::string& reason);
    boost::asio::awaitable<void> stop_worker(std::shared_ptr<camera_worker> worker);

    boost::asio::awaitable<void> run_shot(std::shared_ptr<active_shot> shot);
    boost::asio::awaitable<void> update_thumbnail(std::shared_ptr<camera_worker> worker);
    void finish_shot(active_shot& shot, shot_report report);

    boost::asio::awaitable<void> apply_reload(config::rig new_rig, rig_diff diff);

    /// Waits until `done` returns true or `limit` passed; returns done().
    boost::asio::awaitable<bool> wait_until(std::function<bool()> done,
                                            std::chrono::milliseconds limit);

    std::shared_ptr<camera_worker> find_worker(const std::string& name) const;
    void notify();

    boost::asio::any_io_executor executor_;
    config::rig rig_;
    fleet_service_settings settings_;
    std::vector<std::shared_ptr<camera_worker>> workers_;  // in the rig's camera order

    std::shared_ptr<active_shot> shot_;  // the running shot, or null
    std::deque<shot_report> history_;
    fleet_counters counters_;
    std::uint64_t shots_started_ = 0;

    bool started_ = false;
    bool stopping_ = false;
    std::size_t reloads_pending_ = 0;  // reload() calls whose apply_reload has not finished
    bool reload_applying_ = false;

    std::vector<std::function<void()>> listeners_;
    bool notify_pending_ = false;
};

}  // namespace oscrig::controller
