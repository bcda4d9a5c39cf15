// `oscrig shoot` against a mixed rig of two Insta360 and two RICOH THETA simulated cameras. The
// THETA cameras require HTTP Digest authentication as in client mode, and the second one is a
// THETA S that starts in OSC API level 1.
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace oscrig::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* mixed_rig_config = R"(defaults:
  video_bytes: 3000000
  capture_time_ms: 800
cameras:
  - name: ins1
  - name: ins2
  - name: theta1
    flavour: theta
    serial: "00100001"
    user: THETAYL00100001
    password: "00100001"
  - name: theta2
    flavour: theta
    model: RICOH THETA S
    api_version: 1
    serial: "00100002"
    user: THETAYL00100002
    password: "00100002"
)";

// Not set in the test's environment, so a rig naming it cannot find the password.
constexpr const char* missing_variable = "OSCRIG_TEST_THETA2_PASSWORD_MISSING";
constexpr const char* present_variable = "OSCRIG_TEST_THETA2_PASSWORD";

/// One simulator with the mixed rig and one rig file per test, in a temporary folder.
class ThetaTest : public ::testing::Test {
protected:
    void SetUp() override {
        folder_ = std::make_unique<temp_folder>("oscrig-theta");
        rig_file_ = folder_->path() / "rig.yaml";
        shots_ = folder_->path() / "shots";
        sim_options options;
        options.cameras = 4;
        options.rig_file = rig_file_;
        options.output = shots_;
        options.config = folder_->path() / "sim.yaml";
        std::ofstream(options.config) << mixed_rig_config;
        sim_ = sim_process::start(options, folder_->path() / "sim.log");
        ASSERT_EQ(sim_->ports().size(), 4u);
    }

    void TearDown() override {
        sim_.reset();
        folder_.reset();
    }

    /// Replaces the only occurrence of `from` in the rig file with `to`.
    void replace_in_rig(const std::string& from, const std::string& to) {
        std::string text = read_file(rig_file_);
        const auto position = text.find(from);
        ASSERT_NE(position, std::string::npos) << from << " not in\n" << text;
        ASSERT_EQ(text.find(from, position + 1), std::string::npos) << from << " twice";
        text.replace(position, from.size(), to);
        std::ofstream(rig_file_, std::ios::trunc) << text;
    }

    /// Runs `oscrig shoot` with the rig's staged trigger. TZ is fixed, so the UTC offset that
    /// oscrig sends to the THETA cameras does not depend on the machine.
    command_result shoot(std::vector<std::string> arguments,
                         std::map<std::string, std::string> environment = {}) {
        std::vector<std::string> command{OSCRIG_BINARY, "shoot", rig_file_.string()};
        command.insert(command.end(), arguments.begin(), arguments.end());
        environment.emplace("TZ", "UTC");
        return run_command(command, std::chrono::seconds{120}, environment);
    }

    fs::path only_shot() const { return only_shot_folder(shots_); }

    static json shot_json_of(const fs::path& shot) { return read_shot_json(shot); }

    static const json& camera_entry(const json& report, const std::string& name) {
        for (const auto& candidate : report["cameras"]) {
            if (candidate["name"] == name) {
                return candidate;
            }
        }
        throw std::runtime_error("shot.json has no camera " + name);
    }

    static bool has_step(const json& camera, const std::string& text) {
        for (const auto& step : camera["vendor_steps"]) {
            if (step.get<std::string>().find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

    json stats(std::size_t camera) const {
        return sim_get(sim_->host(), sim_->ports()[camera], "/sim/stats");
    }

    /// Checks that `camera` delivered `count` complete files that name it.
    void expect_delivered(const fs::path& shot, const json& report, const std::string& camera,
                          std::size_t count) {
        const json& entry = camera_entry(report, camera);
        EXPECT_TRUE(entry["delivered"].get<bool>()) << camera << ": " << entry["error"];
        ASSERT_EQ(entry["files"].size(), count) << camera;
        for (const auto& file : entry["files"]) {
            const fs::path local = shot / file["local_path"].get<std::string>();
            ASSERT_TRUE(fs::exists(local)) << local;
            EXPECT_EQ(local.parent_path().filename(), camera);
            EXPECT_EQ(fs::file_size(local), file["bytes"].get<std::uint64_t>());
            EXPECT_NE(read_file(local).find("camera=" + camera + " "), std::string::npos)
                << local << " does not name " << camera;
        }
    }

    /// Checks the vendor steps, the Digest counts and the trigger records that every shot of
    /// the mixed rig shares.
    void expect_vendor_differences(const json& report) {
        for (const std::string name : {"ins1", "ins2"}) {
            const json& camera = camera_entry(report, name);
            EXPECT_FALSE(has_step(camera, "dateTimeZone")) << camera["vendor_steps"];
            EXPECT_FALSE(has_step(camera, "_dateTime")) << camera["vendor_steps"];
            EXPECT_FALSE(has_step(camera, "no _sysTimestamp")) << camera["vendor_steps"];
            for (const auto& trigger : camera["triggers"]) {
                EXPECT_TRUE(trigger.contains("estimated_arrival_camera_us")) << trigger;
            }
        }
        for (const std::string name : {"theta1", "theta2"}) {
            const json& camera = camera_entry(report, name);
            EXPECT_TRUE(has_step(camera, "dateTimeZone set alone to")) << camera["vendor_steps"];
            EXPECT_TRUE(has_step(camera, "+00:00 and read back")) << camera["vendor_steps"];
            EXPECT_TRUE(has_step(camera, "no _sysTimestamp")) << camera["vendor_steps"];
            ASSERT_FALSE(camera["triggers"].empty());
            for (const auto& trigger : camera["triggers"]) {
                EXPECT_FALSE(trigger.value("missed", false)) << trigger;
                // Released by the staged trigger, but with no camera clock to estimate on.
                EXPECT_TRUE(trigger.contains("estimated_arrival_host_us")) << trigger;
                EXPECT_FALSE(trigger.contains("estimated_arrival_camera_us")) << trigger;
            }
        }
        EXPECT_TRUE(has_step(camera_entry(report, "theta2"), "OSC API level 1 to 2"));
        EXPECT_FALSE(has_step(camera_entry(report, "theta1"), "OSC API level"));

        for (std::size_t i = 0; i < 4; ++i) {
            const json camera_stats = stats(i);
            EXPECT_EQ(camera_stats["violations_total"], 0) << camera_stats.dump();
        }
        for (std::size_t i : {2u, 3u}) {
            const json camera_stats = stats(i);
            const auto& requests = camera_stats["requests"];
            // One 401 per connection at most: the nonce is reused for every later request.
            // The connection of this stats request is not one of oscrig's.
            const auto unauthorized = requests.value("unauthorized", 0);
            EXPECT_GE(unauthorized, 1) << camera_stats.dump();
            EXPECT_LE(unauthorized, camera_stats["connections"].get<int>() - 1)
                << camera_stats.dump();
            EXPECT_EQ(requests.value("auth_rejected", 0), 0) << camera_stats.dump();
            EXPECT_GE(requests["total"].get<int>(), 5 * unauthorized) << camera_stats.dump();
            // No clock burst: fewer getOptions calls than the eight _sysTimestamp samples
            // that each Insta360 camera takes at start.
            EXPECT_LT(requests.value("camera.getOptions", 0), 8) << camera_stats.dump();
        }
        EXPECT_GE(stats(0)["requests"].value("camera.getOptions", 0), 9);
    }

    std::unique_ptr<temp_folder> folder_;
    std::unique_ptr<sim_process> sim_;
    fs::path rig_file_;
    fs::path shots_;
};

TEST_F(ThetaTest, MixedRigPhotoDeliversEveryCamera) {
    const auto result = shoot({"--photo"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json_of(shot);
    EXPECT_EQ(report["sync"], "staged");
    for (const std::string camera : {"ins1", "ins2", "theta1", "theta2"}) {
        expect_delivered(shot, report, camera, 1);
    }
    expect_vendor_differences(report);
    // The capture mode stays image, so no camera waits for a mode change.
    for (const std::string camera : {"theta1", "theta2"}) {
        EXPECT_FALSE(has_step(camera_entry(report, camera), "captureMode change"));
    }
    EXPECT_NE(result.err.find("[theta1] vendor step: dateTimeZone set alone"),
              std::string::npos)
        << result.err;
}

TEST_F(ThetaTest, MixedRigVideoDeliversEveryCamera) {
    const auto result = shoot({"--video", "2s"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json_of(shot);
    EXPECT_EQ(report["mode"], "video");
    // Insta360 records one file per lens, THETA one stitched file.
    expect_delivered(shot, report, "ins1", 2);
    expect_delivered(shot, report, "ins2", 2);
    expect_delivered(shot, report, "theta1", 1);
    expect_delivered(shot, report, "theta2", 1);
    expect_vendor_differences(report);
    for (const std::string camera : {"theta1", "theta2"}) {
        EXPECT_TRUE(
            has_step(camera_entry(report, camera), "waited 1000 ms after the captureMode change"))
            << camera_entry(report, camera)["vendor_steps"];
    }
    for (const std::string camera : {"ins1", "ins2"}) {
        EXPECT_FALSE(has_step(camera_entry(report, camera), "captureMode change"));
    }
    // The wait keeps THETA clear of the mode switch, so no capture was rejected.
    for (std::size_t i : {2u, 3u}) {
        EXPECT_EQ(stats(i)["requests"].value("camera.startCapture", 0), 1) << stats(i).dump();
    }
}

TEST_F(ThetaTest, WrongPasswordFailsOnlyThatCamera) {
    replace_in_rig("\"00100001\"", "\"wrong-password\"");
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json_of(shot);
    for (const std::string camera : {"ins1", "ins2", "theta2"}) {
        expect_delivered(shot, report, camera, 1);
    }
    const json& failed = camera_entry(report, "theta1");
    EXPECT_FALSE(failed["delivered"].get<bool>());
    const std::string error = failed["error"].get<std::string>();
    EXPECT_NE(error.find("authentication failed"), std::string::npos) << error;
    EXPECT_NE(error.find("THETAYL00100001"), std::string::npos) << error;
    EXPECT_EQ(error.find("wrong-password"), std::string::npos) << error;
    EXPECT_EQ(result.out.find("wrong-password"), std::string::npos);
    EXPECT_EQ(result.err.find("wrong-password"), std::string::npos);

    // oscrig sends credentials once for the challenge and then gives up, with no retry loop.
    const json camera_stats = stats(2);
    EXPECT_EQ(camera_stats["requests"].value("auth_rejected", 0), 1) << camera_stats.dump();
    EXPECT_LE(camera_stats["requests"]["total"].get<int>(), 3) << camera_stats.dump();
    EXPECT_EQ(camera_stats["requests"].value("camera.takePicture", 0), 0);
}

TEST_F(ThetaTest, MissingPasswordEnvFailsOnlyThatCamera) {
    ASSERT_EQ(std::getenv(missing_variable), nullptr);
    replace_in_rig("password: \"00100002\"", std::string("password_env: ") + missing_variable);
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json_of(shot);
    for (const std::string camera : {"ins1", "ins2", "theta1"}) {
        expect_delivered(shot, report, camera, 1);
    }
    const json& failed = camera_entry(report, "theta2");
    EXPECT_FALSE(failed["delivered"].get<bool>());
    const std::string error = failed["error"].get<std::string>();
    EXPECT_NE(error.find(missing_variable), std::string::npos) << error;
    EXPECT_NE(error.find("is not set"), std::string::npos) << error;
    EXPECT_NE(result.out.find(missing_variable), std::string::npos) << result.out;
    // The camera is never contacted without a password.
    EXPECT_EQ(stats(3)["requests"].value("total", 0), 0) << stats(3).dump();
}

TEST_F(ThetaTest, PasswordEnvReadsEnvironment) {
    replace_in_rig("password: \"00100002\"", std::string("password_env: ") + present_variable);
    const auto result = shoot({"--photo"}, {{present_variable, "00100002"}});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json_of(shot);
    expect_delivered(shot, report, "theta2", 1);
    EXPECT_EQ(stats(3)["requests"].value("auth_rejected", 0), 0) << stats(3).dump();
}

}  // namespace
}  // namespace oscrig::testing
