// Discovery against simulated cameras that share one address, each behind its own link. The
// rig comes from tools/netns-rig: controller namespace P-ctl with links oscrigt1..oscrigt3,
// camera namespaces P-1..P-3 with one oscrig-sim camera each at 198.18.0.1 (198.18.0.0/15 is
// reserved for benchmark networks, RFC 2544). The probes run on a thread that joined P-ctl.
//
// Needs root for `ip netns`; skips without it.
#include "config/rig.hpp"
#include "controller/net_interface.hpp"
#include "discovery/probe_plan.hpp"
#include "discovery/prober.hpp"
#include "discovery/rig_writer.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace oscrig::discovery {
namespace {

namespace fs = std::filesystem;

constexpr int camera_count = 3;
const std::vector<std::string> serials = {"DSCRIG0001A", "DSCRIG0002B", "DSCRIG0003C"};

std::string read_text(const fs::path& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// Runs a shell command with a 120 s limit (coreutils timeout) and its output in `log`.
int run_shell(const std::string& command, const fs::path& log) {
    const auto line = "timeout 120 " + command + " >'" + log.string() + "' 2>&1";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string skip_reason() {
    if (::geteuid() != 0) {
        return "needs root to create network namespaces";
    }
    if (std::system("command -v ip >/dev/null 2>&1") != 0) {
        return "iproute2 (ip) is not installed";
    }
    return {};
}

class NetnsDiscovery : public ::testing::Test {
protected:
    void SetUp() override {
        if (const auto reason = skip_reason(); !reason.empty()) {
            GTEST_SKIP() << reason;
        }
        ASSERT_TRUE(fs::exists(OSCRIG_SIM_BINARY)) << OSCRIG_SIM_BINARY << " is missing";

        char folder_template[] = "/tmp/oscrigt-discovery-XXXXXX";
        ASSERT_NE(::mkdtemp(folder_template), nullptr) << std::strerror(errno);
        folder_ = folder_template;
        prefix_ = "oscrigt-" + std::to_string(::getpid());

        // Rigs of earlier runs that died before cleaning up follow the same name pattern.
        ASSERT_EQ(run_shell(script_ + " prune --family oscrigt", folder_ / "prune.log"), 0)
            << read_text(folder_ / "prune.log");

        for (int i = 0; i < camera_count; ++i) {
            std::ofstream config(folder_ / ("cam" + std::to_string(i + 1) + ".yaml"));
            config << "cameras:\n  - name: probe" << i + 1 << "\n    serial: " << serials[i]
                   << "\n";
        }
        rig_created_ = true;
        const auto up = script_ + " up --prefix " + prefix_ + " --cameras " +
                        std::to_string(camera_count) + " --sim " + OSCRIG_SIM_BINARY +
                        " --sim-config-dir " + folder_.string();
        ASSERT_EQ(run_shell(up, folder_ / "up.log"), 0) << read_text(folder_ / "up.log");
    }

    void TearDown() override {
        if (rig_created_) {
            const auto log = folder_ / "down.log";
            EXPECT_EQ(run_shell(script_ + " down --prefix " + prefix_, log), 0) << read_text(log);
            EXPECT_FALSE(fs::exists("/run/netns/" + prefix_ + "-ctl"));
        }
        if (!folder_.empty()) {
            std::error_code ignored;
            fs::remove_all(folder_, ignored);
        }
    }

    fs::path folder_;
    std::string prefix_;
    std::string script_ = std::string(OSCRIG_SOURCE_DIR) + "/tools/netns-rig";
    bool rig_created_ = false;
};

struct discovery_run {
    std::string error;  // empty when the thread joined the namespace
    std::vector<controller::interface_info> interfaces;
    probe_plan plan;
    std::vector<probe_result> results;
};

// Lists, plans and probes on a thread inside `namespace_name`. setns applies to the calling
// thread only, so the test process stays in its own namespace.
discovery_run discover_in(const std::string& namespace_name, const discover_options& options) {
    discovery_run run;
    std::thread worker([&] {
        const int fd = ::open(("/run/netns/" + namespace_name).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
            run.error = std::string("cannot join ") + namespace_name + ": " + std::strerror(errno);
            if (fd >= 0) {
                ::close(fd);
            }
            return;
        }
        ::close(fd);

        auto interfaces = controller::list_interfaces();
        if (!interfaces) {
            run.error = interfaces.error().to_string();
            return;
        }
        run.interfaces = *interfaces;
        run.plan = plan_probes(run.interfaces, options);
        run.results = run_probes(run.plan.targets, options.timeout);
    });
    worker.join();
    return run;
}

TEST_F(NetnsDiscovery, FindsEveryCameraOnItsLink) {
    discover_options options;
    for (int i = 0; i < camera_count; ++i) {
        options.interfaces.push_back("oscrigt" + std::to_string(i + 1));
    }
    options.candidates = {"198.18.0.1"};
    options.timeout = std::chrono::milliseconds(2000);

    const auto run = discover_in(prefix_ + "-ctl", options);
    ASSERT_EQ(run.error, "");
    EXPECT_TRUE(run.plan.skipped.empty());
    ASSERT_EQ(run.plan.targets.size(), static_cast<std::size_t>(camera_count));

    // Every link has the on-link guess 198.18.0.1 as its gateway.
    for (const auto& name : options.interfaces) {
        const auto info = std::find_if(run.interfaces.begin(), run.interfaces.end(),
                                       [&](const auto& entry) { return entry.name == name; });
        ASSERT_NE(info, run.interfaces.end()) << name;
        EXPECT_EQ(info->gateway, "198.18.0.1") << name;
        EXPECT_EQ(info->gateway_from, controller::gateway_source::on_link) << name;
    }

    const auto cameras = unique_cameras(run.results);
    ASSERT_EQ(cameras.size(), static_cast<std::size_t>(camera_count));
    for (int i = 0; i < camera_count; ++i) {
        const auto& camera = cameras[i];
        EXPECT_EQ(camera.interface, options.interfaces[i]);
        EXPECT_EQ(camera.serial_number, serials[i]) << camera.interface;
        EXPECT_EQ(camera.address, "198.18.0.1");
        EXPECT_EQ(camera.manufacturer, "Arashi Vision");
        EXPECT_TRUE(camera.battery_level.has_value()) << camera.interface;
    }

    const auto yaml = make_rig_yaml("found", cameras);
    const auto loaded = config::parse_rig(yaml, "found.yaml");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string() << "\n" << yaml;
    ASSERT_TRUE(loaded.value.has_value());
    ASSERT_EQ(loaded.value->cameras.size(), static_cast<std::size_t>(camera_count));
    for (int i = 0; i < camera_count; ++i) {
        EXPECT_EQ(loaded.value->cameras[i].name, serials[i]);
        EXPECT_EQ(loaded.value->cameras[i].interface, options.interfaces[i]);
    }
}

TEST_F(NetnsDiscovery, SilentAddressTimesOut) {
    // 198.18.0.9 is on the link's network but nothing has it, so connecting must time out
    // within the deadline instead of hanging.
    discover_options options;
    options.interfaces = {"oscrigt1"};
    options.candidates = {"198.18.0.9"};
    options.timeout = std::chrono::milliseconds(500);

    const auto started = std::chrono::steady_clock::now();
    const auto run = discover_in(prefix_ + "-ctl", options);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(run.error, "");
    ASSERT_EQ(run.results.size(), 1u);
    EXPECT_FALSE(run.results[0].camera.has_value());
    EXPECT_NE(run.results[0].error.find("timed out"), std::string::npos) << run.results[0].error;
    EXPECT_LT(elapsed, std::chrono::seconds(10));
}

}  // namespace
}  // namespace oscrig::discovery
