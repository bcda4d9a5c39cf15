#include "dashboard/metrics.hpp"

#include "dashboard/fleet_json.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace oscrig::dashboard {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

constexpr double unknown_value = std::numeric_limits<double>::quiet_NaN();

// Bucket upper bounds of the arrival spread, in seconds: 10 us to 100 ms in 1-2.5-5 steps.
const Histogram::BucketBoundaries spread_buckets = {
    10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3};

template <class T>
double value_or_unknown(const std::optional<T>& value) {
    return value ? static_cast<double>(*value) : unknown_value;
}

// Adds to a counter whatever a running total from the fleet grew by since the last call. A
// total that went down (a camera session rebuilt on reload) starts over from zero, so the
// counter grows by the new total.
void add_growth(Counter& counter, std::uint64_t& last_total, std::uint64_t total) {
    const std::uint64_t growth = total >= last_total ? total - last_total : total;
    if (growth > 0) {
        counter.Increment(static_cast<double>(growth));
    }
    last_total = total;
}

struct camera_families {
    Family<Gauge>& up;
    Family<Gauge>& battery_ratio;
    Family<Gauge>& charging;
    Family<Gauge>& card_state;
    Family<Gauge>& remaining_bytes;
    Family<Gauge>& total_bytes;
    Family<Gauge>& clock_offset;
    Family<Gauge>& clock_uncertainty;
    Family<Gauge>& round_trip;
    Family<Counter>& requests;
    Family<Counter>& failures;
    Family<Gauge>& last_poll;
    Family<Gauge>& info;
    Family<Gauge>& state;
};

// One metric and the family it was added to, so that the series can be removed later.
template <class T>
struct series {
    Family<T>* family = nullptr;
    T* metric = nullptr;

    void add(Family<T>& into, const prometheus::Labels& labels) {
        family = &into;
        metric = &into.Add(labels);
    }
    void remove() {
        if (family != nullptr && metric != nullptr) {
            family->Remove(metric);
        }
        metric = nullptr;
    }
};

struct info_labels {
    std::string model;
    std::string serial;
    std::string firmware;
    bool operator==(const info_labels&) const = default;
};

class camera_series {
public:
    camera_series(camera_families& families, const std::string& name)
        : families_(families), name_(name) {
        const prometheus::Labels labels{{"camera", name}};
        up_.add(families.up, labels);
        battery_ratio_.add(families.battery_ratio, labels);
        charging_.add(families.charging, labels);
        remaining_bytes_.add(families.remaining_bytes, labels);
        total_bytes_.add(families.total_bytes, labels);
        clock_offset_.add(families.clock_offset, labels);
        clock_uncertainty_.add(families.clock_uncertainty, labels);
        round_trip_.add(families.round_trip, labels);
        requests_.add(families.requests, labels);
        failures_.add(families.failures, labels);
        last_poll_.add(families.last_poll, labels);
        for (std::string_view state : card_states) {
            card_state_[state].add(families.card_state,
                                   {{"camera", name}, {"state", std::string(state)}});
        }
        for (std::string_view state : camera_states) {
            state_[state].add(families.state, {{"camera", name}, {"state", std::string(state)}});
        }
        set_info({});
    }

    ~camera_series() {
        for (auto* gauge : {&up_, &battery_ratio_, &charging_, &remaining_bytes_, &total_bytes_,
                            &clock_offset_, &clock_uncertainty_, &round_trip_, &last_poll_,
                            &info_}) {
            gauge->remove();
        }
        requests_.remove();
        failures_.remove();
        for (auto& [state, gauge] : card_state_) {
            gauge.remove();
        }
        for (auto& [state, gauge] : state_) {
            gauge.remove();
        }
    }

    camera_series(const camera_series&) = delete;
    camera_series& operator=(const camera_series&) = delete;

    void update(const controller::camera_snapshot& camera) {
        const bool up = camera.state == controller::camera_state::ready ||
                        camera.state == controller::camera_state::busy;
        up_.metric->Set(up ? 1 : 0);
        battery_ratio_.metric->Set(value_or_unknown(camera.battery_ratio));
        charging_.metric->Set(value_or_unknown(camera.charging));
        remaining_bytes_.metric->Set(value_or_unknown(camera.remaining_bytes));
        total_bytes_.metric->Set(value_or_unknown(camera.total_bytes));
        clock_offset_.metric->Set(value_or_unknown(camera.clock_offset_seconds));
        clock_uncertainty_.metric->Set(value_or_unknown(camera.clock_uncertainty_seconds));
        round_trip_.metric->Set(value_or_unknown(camera.round_trip_seconds));
        add_growth(*requests_.metric, last_requests_, camera.requests_total);
        add_growth(*failures_.metric, last_failures_, camera.failures_total);

        // Never polled reads as the Unix epoch, so that an alert on the poll's age fires.
        double last_poll = 0;
        if (camera.last_successful_poll) {
            const auto since_epoch = camera.last_successful_poll->time_since_epoch();
            last_poll = std::chrono::duration<double>(since_epoch).count();
        }
        last_poll_.metric->Set(last_poll);

        const std::string_view card = card_state_name(camera.card_state);
        for (auto& [state, gauge] : card_state_) {
            gauge.metric->Set(state == card ? 1 : 0);
        }
        const std::string_view current = state_name(camera.state);
        for (auto& [state, gauge] : state_) {
            gauge.metric->Set(state == current ? 1 : 0);
        }
        set_info({camera.model, camera.serial_number, camera.firmware_version});
    }

private:
    // The info series carries its values as labels, so a new firmware means a new series.
    void set_info(const info_labels& labels) {
        if (info_.metric != nullptr && labels == info_labels_) {
            return;
        }
        info_.remove();
        info_.add(families_.info, {{"camera", name_},
                                   {"model", labels.model},
                                   {"serial", labels.serial},
                                   {"firmware", labels.firmware}});
        info_.metric->Set(1);
        info_labels_ = labels;
    }

    camera_families& families_;
    std::string name_;
    series<Gauge> up_, battery_ratio_, charging_, remaining_bytes_, total_bytes_;
    series<Gauge> clock_offset_, clock_uncertainty_, round_trip_, last_poll_, info_;
    series<Counter> requests_, failures_;
    std::map<std::string_view, series<Gauge>> card_state_;
    std::map<std::string_view, series<Gauge>> state_;
    std::uint64_t last_requests_ = 0;
    std::uint64_t last_failures_ = 0;
    info_labels info_labels_;
};

Family<Gauge>& gauge_family(prometheus::Registry& registry, const std::string& name,
                            const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

Family<Counter>& counter_family(prometheus::Registry& registry, const std::string& name,
                                const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

}  // namespace

struct fleet_metrics::state {
    state(const controller::fleet& fleet_in, const std::string& version)
        : fleet(fleet_in),
          families{
              gauge_family(registry, "oscrig_camera_up",
                           "1 when the camera answers (ready or busy), else 0"),
              gauge_family(registry, "oscrig_camera_battery_ratio",
                           "Battery level from 0 to 1, NaN when not reported"),
              gauge_family(registry, "oscrig_camera_charging",
                           "1 while the camera is charging, NaN when not reported"),
              gauge_family(registry, "oscrig_camera_card_state",
                           "1 for the camera's current memory card state, 0 for the others"),
              gauge_family(registry, "oscrig_camera_storage_remaining_bytes",
                           "Free space on the camera's storage"),
              gauge_family(registry, "oscrig_camera_storage_total_bytes",
                           "Size of the camera's storage"),
              gauge_family(registry, "oscrig_camera_clock_offset_seconds",
                           "Camera clock minus host steady clock"),
              gauge_family(registry, "oscrig_camera_clock_uncertainty_seconds",
                           "Bound on the error of the clock offset"),
              gauge_family(registry, "oscrig_camera_round_trip_seconds",
                           "Round trip of the last health request"),
              counter_family(registry, "oscrig_camera_requests_total",
                             "HTTP requests sent to the camera"),
              counter_family(registry, "oscrig_camera_request_failures_total",
                             "HTTP requests to the camera that failed"),
              gauge_family(registry, "oscrig_camera_last_successful_poll_timestamp_seconds",
                           "Unix time of the last successful health poll, 0 before the first"),
              gauge_family(registry, "oscrig_camera_info",
                           "Always 1; the labels carry the camera's model, serial and firmware"),
              gauge_family(registry, "oscrig_camera_state",
                           "1 for the camera's current session state, 0 for the others"),
          },
          shots(counter_family(registry, "oscrig_shots_total", "Shots taken").Add({})),
          shot_failures(counter_family(registry, "oscrig_shot_failures_total",
                                       "Shots where some camera did not deliver every file")
                            .Add({})),
          downloaded_bytes(counter_family(registry, "oscrig_downloaded_bytes_total",
                                          "Bytes downloaded from cameras")
                               .Add({})),
          arrival_spread(prometheus::BuildHistogram()
                             .Name("oscrig_trigger_arrival_spread_seconds")
                             .Help("Spread of the estimated trigger arrivals across cameras")
                             .Register(registry)
                             .Add({}, spread_buckets)) {
        gauge_family(registry, "oscrig_build_info", "Always 1; the label carries the version")
            .Add({{"version", version}})
            .Set(1);
    }

    void update_cameras() {
        const auto snapshots = fleet.cameras();
        std::set<std::string> present;
        for (const auto& camera : snapshots) {
            present.insert(camera.name);
            auto found = cameras.find(camera.name);
            if (found == cameras.end()) {
                found = cameras
                            .emplace(camera.name,
                                     std::make_unique<camera_series>(families, camera.name))
                            .first;
            }
            found->second->update(camera);
        }
        std::erase_if(cameras, [&](const auto& entry) { return !present.contains(entry.first); });
    }

    // Observes each sync summary of every shot not seen before. Ids of shots that fell out of
    // the fleet's history are forgotten, so the set stays as small as the history.
    void update_shots() {
        std::set<std::string> listed;
        for (const auto& shot : fleet.shots()) {
            listed.insert(shot.shot_id);
            if (observed_shots.contains(shot.shot_id)) {
                continue;
            }
            for (const auto& summary : shot.sync_summaries) {
                if (summary.arrival_spread_us) {
                    arrival_spread.Observe(*summary.arrival_spread_us * 1e-6);
                }
            }
        }
        observed_shots = std::move(listed);
    }

    void update_counters() {
        const auto counters = fleet.counters();
        add_growth(shots, last_counters.shots_total, counters.shots_total);
        add_growth(shot_failures, last_counters.shot_failures_total,
                   counters.shot_failures_total);
        add_growth(downloaded_bytes, last_counters.downloaded_bytes_total,
                   counters.downloaded_bytes_total);
    }

    const controller::fleet& fleet;
    prometheus::Registry registry;
    camera_families families;
    Counter& shots;
    Counter& shot_failures;
    Counter& downloaded_bytes;
    Histogram& arrival_spread;
    // Declared after the registry, so that the series are removed before it is destroyed.
    std::map<std::string, std::unique_ptr<camera_series>> cameras;
    std::set<std::string> observed_shots;
    controller::fleet_counters last_counters;
};

fleet_metrics::fleet_metrics(const controller::fleet& fleet, std::string version)
    : state_(std::make_unique<state>(fleet, version)) {
    update();
}

fleet_metrics::~fleet_metrics() = default;

void fleet_metrics::update() {
    state_->update_cameras();
    state_->update_shots();
    state_->update_counters();
}

std::string fleet_metrics::render() const {
    std::ostringstream out;
    prometheus::TextSerializer{}.Serialize(out, state_->registry.Collect());
    return out.str();
}

}  // namespace oscrig::dashboard
