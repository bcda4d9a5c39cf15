#include "controller/shot_report.hpp"

#include <algorithm>

namespace oscrig::controller {
namespace {

using nlohmann::json;

// Writes an optional field only when it is set: shot.json leaves unknown values out rather
// than writing null, so scripts can test for the key.
template <class T>
void put_optional(json& object, const char* key, const std::optional<T>& value) {
    if (value) {
        object[key] = *value;
    }
}

json request_to_json(const request_record& request) {
    json object = json::object();
    object["method"] = request.method;
    object["target"] = request.target;
    object["command"] = request.command;
    object["sent_us"] = request.sent_us;
    object["received_us"] = request.received_us;
    object["http_status"] = request.http_status;
    object["reply"] = request.reply;
    object["error"] = request.error;
    return object;
}

json file_to_json(const file_record& file) {
    json object = json::object();
    object["url"] = file.url;
    object["local_path"] = file.local_path;
    object["bytes"] = file.bytes;
    object["sha256"] = file.sha256;
    object["error"] = file.error;
    return object;
}

json trigger_to_json(const trigger_record& trigger) {
    json object = json::object();
    object["command"] = trigger.command;
    put_optional(object, "planned_release_us", trigger.planned_release_us);
    put_optional(object, "actual_release_us", trigger.actual_release_us);
    put_optional(object, "estimated_arrival_host_us", trigger.estimated_arrival_host_us);
    put_optional(object, "estimated_arrival_camera_us", trigger.estimated_arrival_camera_us);
    put_optional(object, "arrival_uncertainty_us", trigger.arrival_uncertainty_us);
    put_optional(object, "one_way_delay_us", trigger.one_way_delay_us);
    object["resent_whole"] = trigger.resent_whole;
    object["missed"] = trigger.missed;
    object["rejected"] = trigger.rejected;
    object["note"] = trigger.note;
    return object;
}

json camera_to_json(const camera_shot& camera) {
    json object = json::object();
    object["name"] = camera.name;
    object["host"] = camera.host;
    object["delivered"] = camera.delivered;
    object["error"] = camera.error;
    object["warnings"] = camera.warnings;
    object["vendor_steps"] = camera.vendor_steps;

    json requests = json::array();
    for (const auto& request : camera.requests) {
        requests.push_back(request_to_json(request));
    }
    object["requests"] = std::move(requests);

    json triggers = json::array();
    for (const auto& trigger : camera.triggers) {
        triggers.push_back(trigger_to_json(trigger));
    }
    object["triggers"] = std::move(triggers);

    json files = json::array();
    for (const auto& file : camera.files) {
        files.push_back(file_to_json(file));
    }
    object["files"] = std::move(files);
    return object;
}

json sync_summary_to_json(const sync_summary& summary) {
    json object = json::object();
    object["command"] = summary.command;
    object["cameras"] = summary.cameras;
    put_optional(object, "arrival_spread_us", summary.arrival_spread_us);
    put_optional(object, "spread_bound_us", summary.spread_bound_us);
    return object;
}

}  // namespace

bool shot_report::all_delivered() const {
    // A shot without cameras delivered nothing, so it does not count as complete.
    if (cameras.empty()) {
        return false;
    }
    return std::all_of(cameras.begin(), cameras.end(),
                       [](const camera_shot& camera) { return camera.delivered; });
}

json shot_report::to_json() const {
    json object = json::object();
    object["rig"] = rig;
    object["shot_id"] = shot_id;
    object["mode"] = std::string(config::to_string(mode));
    object["sync"] = sync;
    object["started_us"] = started_us;
    object["finished_us"] = finished_us;
    put_optional(object, "duration_seconds", duration_seconds);
    object["all_delivered"] = all_delivered();

    json camera_array = json::array();
    for (const auto& camera : cameras) {
        camera_array.push_back(camera_to_json(camera));
    }
    object["cameras"] = std::move(camera_array);

    json summaries = json::array();
    for (const auto& summary : sync_summaries) {
        summaries.push_back(sync_summary_to_json(summary));
    }
    object["sync_summaries"] = std::move(summaries);
    return object;
}

}  // namespace oscrig::controller
