#include "controller/sync_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace oscrig::controller {

delay_estimate choose_delay(const std::optional<std::chrono::microseconds>& configured,
                            const clock_model& clock) {
    if (configured) {
        return {.delay_us = static_cast<double>(configured->count()), .uncertainty_us = 0};
    }
    // The lowest round trip of the model's window is the one least inflated by queueing on the
    // camera and the host, so half of it is the delay estimate. The whole window rather than
    // the last few samples: those are often taken while every camera of the rig is asked at
    // once, and their queueing differs from camera to camera, which would shift the releases
    // apart. A path that became slower within the window shows in the median, which bounds the
    // error because a trigger request may meet the usual queueing.
    // NOTE: a round trip also includes the camera's time to process getOptions, which a final
    // byte does not wait for. Cameras that answer at different speeds are released apart by half
    // the difference: oscrig-sim cameras with reply delays of 2 to 40 ms arrived 19 ms apart
    // while the estimate said 0.01 ms (its bound, 56 ms, held). The rig's one_way_delay avoids
    // it; TCP's own round trip (tcpi_min_rtt) would not see that time, but it would not see the
    // simulator's delays either, which are made in user space.
    const auto estimate = clock.estimate();
    const auto median = clock.recent_round_trip_us();
    if (estimate && median) {
        return {.delay_us = estimate->min_round_trip_us / 2.0, .uncertainty_us = *median / 2.0};
    }
    return {};
}

std::vector<host_us> plan_releases(const std::vector<delay_estimate>& delays,
                                   host_us first_release) {
    double longest = 0;
    for (const auto& delay : delays) {
        longest = std::max(longest, delay.delay_us);
    }
    std::vector<host_us> releases;
    releases.reserve(delays.size());
    for (const auto& delay : delays) {
        const double release = static_cast<double>(first_release) + longest - delay.delay_us;
        releases.push_back(static_cast<host_us>(std::llround(release)));
    }
    return releases;
}

void estimate_arrival(trigger_record& record, host_us before, host_us after,
                      const delay_estimate& delay, const clock_model& clock) {
    const double release = (static_cast<double>(before) + static_cast<double>(after)) / 2.0;
    const double release_uncertainty = static_cast<double>(after - before) / 2.0;
    const double host_arrival = release + delay.delay_us;
    const double host_uncertainty = release_uncertainty + delay.uncertainty_us;

    record.actual_release_us = static_cast<std::int64_t>(std::llround(release));
    record.one_way_delay_us = delay.delay_us;
    record.estimated_arrival_host_us = host_arrival;
    record.arrival_uncertainty_us = host_uncertainty;

    const auto arrival_at = static_cast<host_us>(std::llround(host_arrival));
    const auto camera = clock.camera_at(arrival_at);
    const auto model_uncertainty = clock.uncertainty_at(arrival_at);
    const auto estimate = clock.estimate();
    if (!camera || !model_uncertainty || !estimate) {
        record.estimated_arrival_camera_us.reset();
        return;
    }
    // A host-time error maps onto the camera clock scaled by its rate, and the model's own
    // error comes on top, so the camera-clock bound is the larger one and covers both clocks.
    const double rate = 1.0 + std::abs(estimate->drift_ppm) * 1e-6;
    record.estimated_arrival_camera_us = *camera;
    record.arrival_uncertainty_us = host_uncertainty * rate + *model_uncertainty;
}

sync_summary summarize_trigger(std::string_view command,
                               const std::vector<const trigger_record*>& records) {
    sync_summary summary;
    summary.command = std::string(command);

    std::vector<double> arrivals;
    std::vector<double> uncertainties;
    for (const trigger_record* record : records) {
        // A rejected trigger did arrive, but a spread that includes it would read as a good
        // start of that camera.
        if (record == nullptr || record->command != command || record->missed ||
            record->rejected || !record->estimated_arrival_host_us) {
            continue;
        }
        arrivals.push_back(*record->estimated_arrival_host_us);
        uncertainties.push_back(record->arrival_uncertainty_us.value_or(0.0));
    }
    summary.cameras = arrivals.size();
    if (arrivals.empty()) {
        return summary;
    }

    const auto [first, last] = std::minmax_element(arrivals.begin(), arrivals.end());
    summary.arrival_spread_us = *last - *first;

    // One camera cannot be early and late at once, so the bound looks at pairs of cameras.
    double bound = 0;
    for (std::size_t early = 0; early < arrivals.size(); ++early) {
        for (std::size_t late = 0; late < arrivals.size(); ++late) {
            if (early == late) {
                continue;
            }
            const double widest = (arrivals[late] + uncertainties[late]) -
                                  (arrivals[early] - uncertainties[early]);
            bound = std::max(bound, widest);
        }
    }
    summary.spread_bound_us = bound;
    return summary;
}

std::vector<sync_summary> summarize_shot(const std::vector<camera_shot>& cameras) {
    std::vector<std::string> commands;
    for (const auto& camera : cameras) {
        for (const auto& record : camera.triggers) {
            if (std::find(commands.begin(), commands.end(), record.command) == commands.end()) {
                commands.push_back(record.command);
            }
        }
    }

    std::vector<sync_summary> summaries;
    for (const auto& command : commands) {
        std::vector<const trigger_record*> records;
        for (const auto& camera : cameras) {
            for (const auto& record : camera.triggers) {
                records.push_back(&record);
            }
        }
        summaries.push_back(summarize_trigger(command, records));
    }
    return summaries;
}

std::string format_sync_summary(const sync_summary& summary) {
    const std::string cameras =
        fmt::format("{} camera{}", summary.cameras, summary.cameras == 1 ? "" : "s");
    if (!summary.arrival_spread_us) {
        return cameras + ", arrival spread unknown (no estimated arrivals)";
    }
    std::string text =
        fmt::format("{}, arrival spread {:.2f} ms", cameras, *summary.arrival_spread_us / 1000.0);
    if (summary.spread_bound_us) {
        text += fmt::format(" (bound {:.2f} ms)", *summary.spread_bound_us / 1000.0);
    }
    return text;
}

namespace {

// Names of the cameras whose record of `command` matches `selected`, comma-separated.
template <class Predicate>
std::string camera_names(const std::vector<camera_shot>& cameras, const std::string& command,
                         Predicate selected) {
    std::string names;
    for (const auto& camera : cameras) {
        const bool any = std::any_of(
            camera.triggers.begin(), camera.triggers.end(),
            [&](const trigger_record& r) { return r.command == command && selected(r); });
        if (any) {
            names += names.empty() ? camera.name : ", " + camera.name;
        }
    }
    return names;
}

}  // namespace

std::vector<std::string> format_shot_sync(const shot_report& report) {
    const auto summaries =
        report.sync_summaries.empty() ? summarize_shot(report.cameras) : report.sync_summaries;

    std::vector<std::string> lines;
    for (const auto& summary : summaries) {
        std::string line = summary.command + ": " + format_sync_summary(summary);
        const auto missed = camera_names(report.cameras, summary.command,
                                         [](const trigger_record& r) { return r.missed; });
        if (!missed.empty()) {
            line += "; missed: " + missed;
        }
        const auto rejected = camera_names(report.cameras, summary.command,
                                           [](const trigger_record& r) { return r.rejected; });
        if (!rejected.empty()) {
            line += "; rejected: " + rejected;
        }
        const auto resent = camera_names(report.cameras, summary.command,
                                         [](const trigger_record& r) { return r.resent_whole; });
        if (!resent.empty()) {
            line += "; sent again whole: " + resent;
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

}  // namespace oscrig::controller
