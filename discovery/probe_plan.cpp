#include "discovery/probe_plan.hpp"

#include "controller/osc_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

namespace oscrig::discovery {
namespace {

bool is_own_address(const controller::interface_info& info, const std::string& address) {
    return std::any_of(info.ipv4.begin(), info.ipv4.end(),
                       [&](const auto& entry) { return entry.address == address; });
}

void append_unique(std::vector<std::string>& list, const std::string& value) {
    if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(value);
    }
}

// Returns the reason `info` cannot be probed, or an empty string when it can.
std::string unusable_reason(const controller::interface_info& info) {
    if (!info.is_up()) {
        return "down";
    }
    if (!info.is_loopback() && !info.is_running()) {
        return "no carrier";
    }
    if (info.ipv4.empty()) {
        return "no IPv4 address";
    }
    return {};
}

std::vector<std::string> candidates_for(const controller::interface_info& info,
                                        const discover_options& options) {
    std::vector<std::string> candidates;
    if (!options.candidates.empty()) {
        for (const auto& address : options.candidates) {
            append_unique(candidates, address);
        }
        return candidates;
    }
    append_unique(candidates, info.gateway);
    for (const auto& address : default_candidates) {
        append_unique(candidates, address);
    }
    return candidates;
}

}  // namespace

probe_plan plan_probes(const std::vector<controller::interface_info>& interfaces,
                       const discover_options& options) {
    probe_plan plan;
    const bool filtered = !options.interfaces.empty();

    for (const auto& requested : options.interfaces) {
        const bool exists = std::any_of(interfaces.begin(), interfaces.end(),
                                        [&](const auto& info) { return info.name == requested; });
        if (!exists) {
            plan.skipped.push_back({requested, "not found"});
        }
    }

    for (const auto& info : interfaces) {
        const bool requested = std::find(options.interfaces.begin(), options.interfaces.end(),
                                         info.name) != options.interfaces.end();
        if (filtered && !requested) {
            continue;
        }
        if (!filtered && info.is_loopback()) {
            plan.skipped.push_back({info.name, "loopback (name it in --interfaces to probe it)"});
            continue;
        }
        if (auto reason = unusable_reason(info); !reason.empty()) {
            plan.skipped.push_back({info.name, std::move(reason)});
            continue;
        }

        if (info.has_strict_reverse_path_filter()) {
            plan.warnings.push_back(fmt::format(
                "{} has strict reverse-path filtering (rp_filter 1), which drops the replies "
                "of cameras that share a network with another interface; set it to loose with "
                "`sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{}.rp_filter=2`",
                info.name, info.name));
        }

        for (const auto& address : candidates_for(info, options)) {
            if (is_own_address(info, address)) {
                continue;
            }
            plan.targets.push_back({info.name, address, options.port});
        }
    }
    return plan;
}

probe_result interpret_probe(const probe_target& target, int info_status,
                             std::string_view info_body, std::optional<int> state_status,
                             std::string_view state_body) {
    probe_result result;
    result.target = target;

    const auto info = osc::parse_info(info_status, info_body);
    if (!info) {
        result.error = info.error().to_string();
        return result;
    }

    discovered_camera camera;
    camera.interface = target.interface;
    camera.address = target.address;
    camera.port = target.port;
    camera.manufacturer = info->manufacturer;
    camera.model = info->model;
    camera.serial_number = info->serial_number;
    camera.firmware_version = info->firmware_version;

    if (state_status) {
        const auto state = osc::parse_state(*state_status, state_body);
        if (state) {
            camera.battery_level = state->battery_level;
        } else {
            result.state_error = state.error().to_string();
        }
    }
    result.camera = std::move(camera);
    return result;
}

std::vector<discovered_camera> unique_cameras(const std::vector<probe_result>& results) {
    std::vector<discovered_camera> cameras;
    std::set<std::pair<std::string, std::string>> seen;  // interface, serial number
    for (const auto& result : results) {
        if (!result.camera) {
            continue;
        }
        const auto& camera = *result.camera;
        if (!camera.serial_number.empty() &&
            !seen.emplace(camera.interface, camera.serial_number).second) {
            continue;
        }
        cameras.push_back(camera);
    }
    return cameras;
}

}  // namespace oscrig::discovery
