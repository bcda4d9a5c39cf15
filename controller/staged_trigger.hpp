// Staged release: every camera's trigger request is written except its final byte, then the
// final bytes go out from one thread at planned host instants, each camera earlier by its
// one-way delay, so that the requests arrive together rather than leave together.
//
// Threading: fire() runs on the executor's thread like the sessions. While it releases the
// final bytes it spins on host_now() and holds that thread, for at most the spread of the
// cameras' one-way delays plus one spin interval.
#pragma once

#include "config/rig.hpp"
#include "controller/trigger.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace oscrig::controller {

class staged_trigger final : public trigger {
public:
    explicit staged_trigger(config::sync_settings settings);

    std::string method() const override { return "staged"; }

    /// Arms every camera (exclusive use of its connection, one getOptions on it to warm it and
    /// take a clock sample, then the trigger request staged), and releases the final bytes when
    /// every camera is staged or `staging_window` has passed, whichever comes first.
    ///
    /// A camera not staged by then is not triggered: its record says `missed` and its reply is
    /// not_ready. With `abort_if_not_ready` one such camera aborts the whole trigger before
    /// any final byte is sent, and every camera's reply is not_ready. A camera whose staged
    /// connection closed is sent the whole request again at once (`resent_whole`). Each
    /// record carries the planned and actual release and the estimated arrival on the host
    /// and camera clocks. The summary of the estimated arrival spread is logged.
    ///
    /// NOTE: a missed camera's arming goes on in the background until its current request
    /// ends, and then gives back the connection without staging. Its session must outlive that.
    boost::asio::awaitable<std::vector<trigger_outcome>> fire(
        std::vector<trigger_target> targets) override;

private:
    config::sync_settings settings_;
};

}  // namespace oscrig::controller
