// Probes candidate camera addresses through their interfaces, all at once.
#pragma once

#include "discovery/probe_plan.hpp"

#include <chrono>
#include <vector>

namespace oscrig::discovery {

/// Sends GET /osc/info, then POST /osc/state when info succeeded, to every target, each on a
/// socket bound to the target's interface. All targets run in parallel on one event loop that
/// this call owns, so it blocks until the last one finishes. `timeout` is the deadline of each
/// step (connect, info, state), so one target takes at most about three times `timeout`.
/// Returns one result per target, in the order of `targets`; failures are in the results.
std::vector<probe_result> run_probes(const std::vector<probe_target>& targets,
                                     std::chrono::milliseconds timeout);

}  // namespace oscrig::discovery
