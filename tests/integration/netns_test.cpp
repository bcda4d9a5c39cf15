// Cameras that share one address, each behind its own link, built from network namespaces by
// tools/netns-rig: P-ctl contains links oscrigt1..oscrigt4 (all 198.18.0.2/24), and camera
// namespace P-i holds one oscrig-sim camera at 198.18.0.1 joined to oscrigt<i> by a veth
// pair. 198.18.0.0/15 is reserved for benchmark networks (RFC 2544), so no real host is
// reached. oscrig runs inside P-ctl, so the machine's own namespace is never changed.
//
// These tests need root for `ip netns` and skip without it.
#include "config/rig.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int camera_count = 4;
constexpr const char* camera_address = "198.18.0.1";

// Camera names and serials are chosen so that none is a substring of another, because the
// checks below look for them in file bytes.
const std::array<std::string, camera_count> camera_names = {"cam-north", "cam-east",
                                                            "cam-south", "cam-west"};
const std::array<std::string, camera_count> camera_serials = {"NSRIG0001N", "NSRIG0002E",
                                                              "NSRIG0003S", "NSRIG0004W"};

std::string link_name(int index) { return "oscrigt" + std::to_string(index + 1); }

struct command_result {
    int exit_code = -1;  // -1 when a signal ended the command
    int signal = 0;      // the signal that ended it, 0 when it exited
    bool timed_out = false;  // killed at its deadline
    std::string output;  // stdout and stderr together
};

std::string read_file(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// Runs argv with stdout and stderr in `log_path`, killing its process group after `deadline`.
command_result run_command(const std::vector<std::string>& argv, const fs::path& log_path,
                           std::chrono::seconds deadline) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        command_result failed;
        failed.output = std::string("fork failed: ") + std::strerror(errno);
        return failed;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
            ::close(fd);
        }
        std::vector<char*> args;
        for (const auto& arg : argv) {
            args.push_back(const_cast<char*>(arg.c_str()));
        }
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }

    command_result result;
    const auto stop_at = std::chrono::steady_clock::now() + deadline;
    int status = 0;
    while (true) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
        if (std::chrono::steady_clock::now() > stop_at) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            result.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }

    result.output = read_file(log_path);
    if (result.timed_out) {
        result.output += "\n(killed after the deadline of " + std::to_string(deadline.count()) +
                         " s)";
    } else if (result.signal != 0) {
        result.output += "\n(ended by signal " + std::to_string(result.signal) + ")";
    }
    return result;
}

std::vector<std::string> namespaces_with_prefix(const std::string& prefix) {
    std::vector<std::string> found;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/run/netns", error)) {
        const auto name = entry.path().filename().string();
        if (name.starts_with(prefix + "-")) {
            found.push_back(name);
        }
    }
    return found;
}

// Why network namespaces cannot be made here, or empty when they can.
std::string namespace_unavailable_reason() {
    if (::geteuid() != 0) {
        return "needs root to create network namespaces";
    }
    std::string reason;
    std::thread probe([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            reason = std::string("cannot create a network namespace: ") + std::strerror(errno);
        }
    });
    probe.join();
    if (reason.empty() && std::system("command -v ip >/dev/null 2>&1") != 0) {
        reason = "iproute2 (ip) is not installed";
    }
    return reason;
}

// Removes the rig's namespaces and simulators when the test ends, also when it failed.
class rig_guard {
public:
    rig_guard(fs::path script, std::string prefix, fs::path log)
        : script_(std::move(script)), prefix_(std::move(prefix)), log_(std::move(log)) {}
    rig_guard(const rig_guard&) = delete;
    rig_guard& operator=(const rig_guard&) = delete;
    ~rig_guard() { run_command({script_.string(), "down", "--prefix", prefix_}, log_, 60s); }

private:
    fs::path script_;
    std::string prefix_;
    fs::path log_;
};

class NetnsRig : public ::testing::Test {
protected:
    void SetUp() override {
        if (const auto reason = namespace_unavailable_reason(); !reason.empty()) {
            GTEST_SKIP() << reason;
        }
        for (const auto* binary : {OSCRIG_BINARY, OSCRIG_SIM_BINARY}) {
            ASSERT_TRUE(fs::exists(binary)) << binary << " is missing; build it first";
        }

        char folder_template[] = "/tmp/oscrigt-netns-XXXXXX";
        ASSERT_NE(::mkdtemp(folder_template), nullptr) << std::strerror(errno);
        folder_ = folder_template;
        prefix_ = "oscrigt-" + std::to_string(::getpid());

        // Rigs of earlier runs that died before cleaning up have the same name pattern.
        const auto pruned = run_command({script_.string(), "prune", "--family", "oscrigt"},
                                        folder_ / "prune.log", 60s);
        ASSERT_EQ(pruned.exit_code, 0) << pruned.output;
        ASSERT_TRUE(namespaces_with_prefix(prefix_).empty());

        write_simulator_configs();
        guard_ = std::make_unique<rig_guard>(script_, prefix_, folder_ / "down.log");
        const auto up = run_command({script_.string(), "up", "--prefix", prefix_, "--cameras",
                                     std::to_string(camera_count), "--sim", OSCRIG_SIM_BINARY,
                                     "--sim-config-dir", folder_.string()},
                                    folder_ / "up.log", 120s);
        ASSERT_EQ(up.exit_code, 0) << up.output;
    }

    void TearDown() override {
        guard_.reset();
        if (!prefix_.empty()) {
            EXPECT_TRUE(namespaces_with_prefix(prefix_).empty())
                << "namespaces left behind: " << prefix_ << "-*";
        }
        if (!folder_.empty()) {
            std::error_code ignored;
            fs::remove_all(folder_, ignored);
        }
    }

    void write_simulator_configs() {
        for (int i = 0; i < camera_count; ++i) {
            std::ofstream config(folder_ / ("cam" + std::to_string(i + 1) + ".yaml"));
            config << "cameras:\n"
                   << "  - name: " << camera_names[i] << "\n"
                   << "    serial: " << camera_serials[i] << "\n"
                   << "    capture_time_ms: 500\n"
                   << "    photo_bytes: 150000\n"
                   << "    video_bytes_per_second: 100000\n";
        }
    }

    fs::path write_rig(const std::string& file_name, bool bind_interfaces) {
        const auto path = folder_ / file_name;
        std::ofstream rig(path);
        rig << "rig: netns\n"
            << "output: " << (folder_ / "shots").string() << "\n"
            << "sync:\n  method: none\n"
            << "cameras:\n";
        for (int i = 0; i < camera_count; ++i) {
            rig << "  - name: " << camera_names[i] << "\n"
                << "    host: " << camera_address << "\n"
                << "    port: 80\n";
            if (bind_interfaces) {
                rig << "    interface: " << link_name(i) << "\n";
            }
        }
        return path;
    }

    // Runs oscrig inside the controller namespace.
    command_result run_oscrig(std::vector<std::string> arguments, const std::string& log_name) {
        std::vector<std::string> argv = {"ip", "netns", "exec", prefix_ + "-ctl", OSCRIG_BINARY};
        argv.insert(argv.end(), arguments.begin(), arguments.end());
        return run_command(argv, folder_ / log_name, 120s);
    }

    fs::path folder_;
    std::string prefix_;
    fs::path script_ = fs::path(OSCRIG_SOURCE_DIR) / "tools" / "netns-rig";
    std::unique_ptr<rig_guard> guard_;
};

// Files of one shot by camera folder: OUTPUT/SHOT_ID/CAMERA/NAME. Leaves out shot.json and
// unfinished .part files.
std::map<std::string, std::vector<fs::path>> files_by_camera(const fs::path& output) {
    std::map<std::string, std::vector<fs::path>> files;
    std::error_code error;
    for (const auto& entry : fs::recursive_directory_iterator(output, error)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const auto& path = entry.path();
        if (path.filename() == "shot.json" || path.extension() == ".part") {
            continue;
        }
        files[path.parent_path().filename().string()].push_back(path);
    }
    return files;
}

// Checks that every camera folder contains at least `minimum` files, each naming only its own
// camera. Returns an empty string when it does, else what is wrong.
std::string check_own_files(const fs::path& output, std::size_t minimum) {
    const auto files = files_by_camera(output);
    std::string problems;
    for (int i = 0; i < camera_count; ++i) {
        const auto found = files.find(camera_names[i]);
        const std::size_t count = found == files.end() ? 0 : found->second.size();
        if (count < minimum) {
            problems += camera_names[i] + ": " + std::to_string(count) +
                        " files, expected at least " + std::to_string(minimum) + "\n";
            continue;
        }
        for (const auto& path : found->second) {
            const auto bytes = read_file(path);
            if (bytes.find(camera_names[i]) == std::string::npos ||
                bytes.find(camera_serials[i]) == std::string::npos) {
                problems += path.string() + " does not name " + camera_names[i] + "\n";
            }
            for (int j = 0; j < camera_count; ++j) {
                if (j != i && bytes.find(camera_serials[j]) != std::string::npos) {
                    problems += path.string() + " comes from " + camera_names[j] + "\n";
                }
            }
        }
    }
    return problems;
}

// Checks for a line of `output` whose whitespace-separated columns start with `cells`'s first
// entry and contain the others in order.
bool has_table_row(const std::string& output, const std::vector<std::string>& cells) {
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> columns;
        for (std::string word; words >> word;) {
            columns.push_back(word);
        }
        if (columns.empty() || columns.front() != cells.front()) {
            continue;
        }
        auto position = columns.begin();
        bool all_found = true;
        for (const auto& cell : cells) {
            position = std::find(position, columns.end(), cell);
            if (position == columns.end()) {
                all_found = false;
                break;
            }
        }
        if (all_found) {
            return true;
        }
    }
    return false;
}

TEST_F(NetnsRig, BoundCamerasDeliverOwnFiles) {
    const auto rig = write_rig("bound.yaml", true);

    const auto photo_output = folder_ / "photo";
    const auto photo = run_oscrig({"shoot", rig.string(), "--photo", "--output",
                                   photo_output.string()},
                                  "photo.log");
    EXPECT_EQ(photo.exit_code, 0) << photo.output;
    const auto photo_problems = check_own_files(photo_output, 1);
    EXPECT_EQ(photo_problems, "") << photo.output;

    const auto video_output = folder_ / "video";
    const auto video = run_oscrig({"shoot", rig.string(), "--video", "2s", "--output",
                                   video_output.string()},
                                  "video.log");
    EXPECT_EQ(video.exit_code, 0) << video.output;
    // The simulated ONE X2 records one file per lens.
    const auto video_problems = check_own_files(video_output, 2);
    EXPECT_EQ(video_problems, "") << video.output;
}

TEST_F(NetnsRig, UnboundCamerasGetWrongFiles) {
    // Without SO_BINDTODEVICE every connection follows the first of four equal routes, so the
    // four sessions all reach one camera. The shot must not look like a success.
    const auto rig = write_rig("unbound.yaml", false);
    const auto output = folder_ / "unbound";
    const auto photo = run_oscrig({"shoot", rig.string(), "--photo", "--output",
                                   output.string()},
                                  "unbound.log");
    // A crash or a hang would also leave wrong files, so the command must end on its own.
    EXPECT_FALSE(photo.timed_out) << photo.output;
    EXPECT_EQ(photo.signal, 0) << photo.output;
    const auto problems = check_own_files(output, 1);
    EXPECT_NE(problems, "") << "every camera delivered its own files without interface "
                               "binding, so the test rig does not reproduce shared addresses\n"
                            << photo.output;

    // Whatever files arrived all come from the one camera that the first route reaches.
    std::set<std::string> sources;
    for (const auto& [camera, paths] : files_by_camera(output)) {
        for (const auto& path : paths) {
            const auto bytes = read_file(path);
            for (const auto& serial : camera_serials) {
                if (bytes.find(serial) != std::string::npos) {
                    sources.insert(serial);
                }
            }
        }
    }
    EXPECT_LE(sources.size(), 1u) << photo.output;
}

TEST_F(NetnsRig, DiscoveryFindsEveryCamera) {
    std::string interfaces;
    for (int i = 0; i < camera_count; ++i) {
        interfaces += (i == 0 ? "" : ",") + link_name(i);
    }
    // A name that does not exist is reported and does not stop the others.
    interfaces += ",oscrigtnone";
    const auto rig_path = folder_ / "discovered.yaml";

    const auto discovered = run_oscrig({"discover", "--interfaces", interfaces, "--candidates",
                                        camera_address, "--timeout", "2s", "--write",
                                        rig_path.string()},
                                       "discover.log");
    ASSERT_EQ(discovered.exit_code, 0) << discovered.output;
    EXPECT_NE(discovered.output.find("skipped oscrigtnone: not found"), std::string::npos)
        << discovered.output;

    const auto loaded = oscrig::config::load_rig_file(rig_path);
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string() << "\n"
                                       << read_file(rig_path);
    ASSERT_TRUE(loaded.value.has_value());
    const auto& cameras = loaded.value->cameras;
    ASSERT_EQ(cameras.size(), static_cast<std::size_t>(camera_count)) << read_file(rig_path);

    for (int i = 0; i < camera_count; ++i) {
        const auto found = std::find_if(cameras.begin(), cameras.end(), [&](const auto& camera) {
            return camera.name == camera_serials[i];
        });
        ASSERT_NE(found, cameras.end()) << camera_serials[i] << " missing\n"
                                        << read_file(rig_path);
        EXPECT_EQ(found->interface, link_name(i)) << camera_serials[i];
        EXPECT_EQ(found->host, camera_address);
        EXPECT_EQ(found->port, 80);

        // The table names each camera on its own interface.
        EXPECT_TRUE(has_table_row(discovered.output,
                                  {link_name(i), std::string(camera_address) + ":80",
                                   camera_serials[i]}))
            << discovered.output;
    }
}

}  // namespace
