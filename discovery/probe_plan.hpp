// Discovery's probe plan (the addresses to probe on each interface) and its findings. No I/O.
#pragma once

#include "controller/net_interface.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace oscrig::discovery {

/// Camera addresses in access-point mode: Insta360 and RICOH THETA.
inline const std::vector<std::string> default_candidates = {"192.168.42.1", "192.168.1.1"};

struct discover_options {
    // Interfaces to probe. Empty means every interface except loopback.
    std::vector<std::string> interfaces;
    // Addresses to probe on each interface. Empty means the interface's gateway followed by
    // default_candidates. A non-empty list replaces all of them, the gateway included.
    std::vector<std::string> candidates;
    std::uint16_t port = 80;
    std::chrono::milliseconds timeout{1500};  // deadline of each request: connect, info, state
};

/// One address to probe through one interface.
struct probe_target {
    std::string interface;
    std::string address;
    std::uint16_t port = 80;
};

/// An interface that discovery does not probe, with the reason.
struct skipped_interface {
    std::string name;
    std::string reason;
};

struct probe_plan {
    std::vector<probe_target> targets;  // in interface order, then candidate order
    std::vector<skipped_interface> skipped;
    std::vector<std::string> warnings;  // settings of probed interfaces that break a rig
};

/// Chooses the probes for `interfaces` (as list_interfaces returns them). An interface is
/// probed when it is up, has a carrier and an IPv4 address. Loopback is probed only when
/// options.interfaces names it. Names in options.interfaces that do not exist are skipped
/// with a reason, and so are candidates equal to one of the interface's own addresses. A
/// probed interface with strict reverse-path filtering gets a warning with the fix.
probe_plan plan_probes(const std::vector<controller::interface_info>& interfaces,
                       const discover_options& options);

/// A camera that replied to GET /osc/info.
struct discovered_camera {
    std::string interface;
    std::string address;
    std::uint16_t port = 80;
    std::string manufacturer;
    std::string model;
    std::string serial_number;
    std::string firmware_version;
    std::optional<double> battery_level;  // 0..1 from POST /osc/state, when that succeeded
};

/// Outcome of one probe: a camera, or the reason none was found.
struct probe_result {
    probe_target target;
    std::optional<discovered_camera> camera;
    std::string error;  // empty when camera is set
    std::string state_error;  // why /osc/state gave no battery level, empty when it did
};

/// Builds the camera of one target from the HTTP replies to GET /osc/info and POST
/// /osc/state. A failed or malformed info reply gives a result without camera. The state
/// reply only adds the battery level, so its failure goes to state_error.
probe_result interpret_probe(const probe_target& target, int info_status,
                             std::string_view info_body, std::optional<int> state_status,
                             std::string_view state_body);

/// Returns the cameras of `results` in order, without repeats: a serial number seen earlier
/// on the same interface (a camera that replies at its gateway address and at a default
/// candidate) is dropped. Cameras without a serial number are kept.
std::vector<discovered_camera> unique_cameras(const std::vector<probe_result>& results);

}  // namespace oscrig::discovery
