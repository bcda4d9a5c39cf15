// `oscrig shoot` against four simulated cameras: every capture mode, faults on one camera,
// hostile file names and cut downloads.
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace oscrig::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// One simulator and one rig file per test, in a temporary folder removed afterwards.
class ShootTest : public ::testing::Test {
protected:
    void SetUp() override {
        folder_ = std::make_unique<temp_folder>("oscrig-shoot");
        rig_file_ = folder_->path() / "rig.yaml";
        shots_ = folder_->path() / "shots";
    }

    void TearDown() override {
        sim_.reset();
        folder_.reset();
    }

    void start_sim(const std::string& config_text = {}) {
        sim_options options;
        options.cameras = 4;
        options.rig_file = rig_file_;
        options.output = shots_;
        if (!config_text.empty()) {
            options.config = folder_->path() / "sim.yaml";
            std::ofstream(options.config) << config_text;
        }
        sim_ = sim_process::start(options, folder_->path() / "sim.log");
        ASSERT_EQ(sim_->ports().size(), 4u);
    }

    /// Appends YAML to the rig file the simulator wrote, before its `cameras:` list.
    void add_to_rig(const std::string& yaml) {
        std::string text = read_file(rig_file_);
        const auto cameras = text.find("cameras:");
        ASSERT_NE(cameras, std::string::npos);
        text.insert(cameras, yaml);
        std::ofstream(rig_file_, std::ios::trunc) << text;
    }

    command_result shoot(std::vector<std::string> arguments) {
        std::vector<std::string> command{OSCRIG_BINARY, "shoot", rig_file_.string()};
        command.insert(command.end(), arguments.begin(), arguments.end());
        command.push_back("--sync");
        command.push_back("none");
        return run_command(command, std::chrono::seconds{120});
    }

    fs::path only_shot() const { return only_shot_folder(shots_); }

    json shot_json(const fs::path& shot) const { return read_shot_json(shot); }

    void set_faults(std::size_t camera, const json& faults) {
        sim_post(sim_->host(), sim_->ports()[camera], "/sim/faults", faults);
    }

    json stats(std::size_t camera) const {
        return sim_get(sim_->host(), sim_->ports()[camera], "/sim/stats");
    }

    /// Checks that `camera`'s folder contains `count` complete files, each naming the camera
    /// and matching the size and SHA-256 in shot.json.
    void expect_delivered(const fs::path& shot, const json& report, const std::string& camera,
                          std::size_t count) {
        const json* entry = nullptr;
        for (const auto& candidate : report["cameras"]) {
            if (candidate["name"] == camera) {
                entry = &candidate;
            }
        }
        ASSERT_NE(entry, nullptr) << camera;
        EXPECT_TRUE((*entry)["delivered"].get<bool>()) << camera << ": " << (*entry)["error"];
        ASSERT_EQ((*entry)["files"].size(), count) << camera;
        for (const auto& file : (*entry)["files"]) {
            const fs::path local = shot / file["local_path"].get<std::string>();
            ASSERT_TRUE(fs::exists(local)) << local;
            EXPECT_EQ(local.parent_path().filename(), camera);
            EXPECT_EQ(fs::file_size(local), file["bytes"].get<std::uint64_t>());
            EXPECT_EQ(file["sha256"].get<std::string>().size(), 64u);
            const std::string bytes = read_file(local);
            EXPECT_NE(bytes.find("camera=" + camera + " "), std::string::npos)
                << local << " does not name " << camera;
        }
        std::size_t on_disk = 0;
        for (const auto& item : fs::directory_iterator(shot / camera)) {
            EXPECT_NE(item.path().extension(), ".part") << item.path();
            ++on_disk;
        }
        EXPECT_EQ(on_disk, count) << camera;
    }

    std::unique_ptr<temp_folder> folder_;
    std::unique_ptr<sim_process> sim_;
    fs::path rig_file_;
    fs::path shots_;
};

TEST_F(ShootTest, PhotoDeliversEveryCamera) {
    start_sim();
    const auto result = shoot({"--photo"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    EXPECT_EQ(report["mode"], "photo");
    EXPECT_EQ(report["sync"], "none");
    EXPECT_EQ(report["shot_id"], shot.filename().string());
    ASSERT_EQ(report["cameras"].size(), 4u);
    for (const std::string camera : {"cam1", "cam2", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 1);
        EXPECT_NE(result.out.find(camera), std::string::npos);
    }
    EXPECT_NE(result.out.find("shot folder: " + shot.string()), std::string::npos) << result.out;

    // The report keeps each request with its reply.
    const auto& requests = report["cameras"][0]["requests"];
    ASSERT_FALSE(requests.empty());
    EXPECT_EQ(requests[0]["target"], "/osc/info");
    EXPECT_EQ(requests[0]["http_status"], 200);

    for (std::size_t i = 0; i < 4; ++i) {
        const json camera_stats = stats(i);
        EXPECT_EQ(camera_stats["violations_total"], 0) << camera_stats.dump();
    }
}

TEST_F(ShootTest, SecondShotGetsSuffixedIdOrNewTime) {
    start_sim();
    ASSERT_EQ(shoot({"--photo"}).exit_code, 0);
    ASSERT_EQ(shoot({"--photo"}).exit_code, 0);
    std::set<std::string> ids;
    for (const auto& entry : fs::directory_iterator(shots_)) {
        ids.insert(entry.path().filename().string());
    }
    EXPECT_EQ(ids.size(), 2u);
}

TEST_F(ShootTest, HdrPhotoGivesThreeFiles) {
    start_sim();
    add_to_rig("capture:\n  hdr: true\n  photo_stitching: none\n");
    const auto result = shoot({"--photo"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    for (const std::string camera : {"cam1", "cam2", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 3);
    }
}

TEST_F(ShootTest, VideoGivesTwoLensFiles) {
    start_sim("defaults:\n  video_bytes: 3000000\n");
    const auto result = shoot({"--video", "2s"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    EXPECT_EQ(report["mode"], "video");
    for (const std::string camera : {"cam1", "cam2", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 2);
        for (const auto& item : fs::directory_iterator(shot / camera)) {
            EXPECT_EQ(read_file(item.path()).substr(4, 4), "ftyp") << item.path();
        }
    }
}

TEST_F(ShootTest, TimelapseDeliversFiles) {
    start_sim("defaults:\n  video_bytes: 2000000\n");
    const auto result = shoot({"--timelapse", "2s"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    EXPECT_EQ(report["mode"], "timelapse");
    for (const std::string camera : {"cam1", "cam2", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 2);
    }
    // The options read back after setOptions show the camera in timelapse mode.
    bool timelapse_read_back = false;
    for (const auto& request : report["cameras"][0]["requests"]) {
        const auto& reply = request["reply"];
        if (request["command"] == "camera.getOptions" && reply.is_object() &&
            reply.contains("results") && reply["results"]["options"].value("_videoType", "") ==
                                             "timelapse") {
            timelapse_read_back = true;
        }
    }
    EXPECT_TRUE(timelapse_read_back);
}

TEST_F(ShootTest, UnactivatedCameraFailsAlone) {
    start_sim();
    set_faults(1, {{"unactivated", true}});
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    for (const std::string camera : {"cam1", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 1);
    }
    const auto& failed = report["cameras"][1];
    EXPECT_EQ(failed["name"], "cam2");
    EXPECT_FALSE(failed["delivered"].get<bool>());
    EXPECT_NE(failed["error"].get<std::string>().find("activate the camera in the Insta360 app"),
              std::string::npos)
        << failed["error"];
    EXPECT_NE(result.out.find("activate the camera"), std::string::npos) << result.out;
    // takePicture is not repeated on an unactivated camera.
    EXPECT_EQ(stats(1)["requests"]["camera.takePicture"], 1);
}

TEST_F(ShootTest, DroppingCameraFailsAlone) {
    start_sim();
    // More dropped replies than any retry bound, so no reply of the camera ever arrives whole.
    set_faults(2, {{"drop_mid_reply", 50}});
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    for (const std::string camera : {"cam1", "cam2", "cam4"}) {
        expect_delivered(shot, report, camera, 1);
    }
    const auto& failed = report["cameras"][2];
    EXPECT_EQ(failed["name"], "cam3");
    EXPECT_FALSE(failed["delivered"].get<bool>());
    EXPECT_NE(failed["error"].get<std::string>().find("connection closed"), std::string::npos)
        << failed["error"];
    EXPECT_FALSE(fs::exists(shot / "cam3")) << "a failed camera leaves no folder";
}

TEST_F(ShootTest, HostileNamesStayInsideShot) {
    start_sim();
    set_faults(0, {{"hostile_file_names", 1}});
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    const auto& hostile = report["cameras"][0];
    EXPECT_FALSE(hostile["delivered"].get<bool>());
    std::size_t rejected = 0;
    std::size_t written = 0;
    for (const auto& file : hostile["files"]) {
        if (file["error"].get<std::string>().empty()) {
            ++written;
            EXPECT_NE(file["url"].get<std::string>().find(".jpg"), std::string::npos);
        } else {
            ++rejected;
            EXPECT_NE(file["error"].get<std::string>().find("unsafe file name"),
                      std::string::npos)
                << file["error"];
            EXPECT_EQ(file["local_path"], "");
        }
    }
    EXPECT_EQ(rejected, 4u) << hostile["files"].dump(2);
    EXPECT_EQ(written, 1u) << hostile["files"].dump(2);

    // Nothing named like the hostile files exists anywhere under the test folder or in /etc.
    for (const auto& entry : fs::recursive_directory_iterator(folder_->path())) {
        EXPECT_EQ(entry.path().filename().string().find("escape"), std::string::npos)
            << entry.path();
    }
    EXPECT_FALSE(fs::exists("/etc/oscrig-escape.jpg"));
    std::size_t in_camera_folder = 0;
    for (const auto& entry : fs::directory_iterator(shot / "cam1")) {
        (void)entry;
        ++in_camera_folder;
    }
    EXPECT_EQ(in_camera_folder, 1u);
    for (const std::string camera : {"cam2", "cam3", "cam4"}) {
        expect_delivered(shot, report, camera, 1);
    }
}

TEST_F(ShootTest, CutDownloadLeavesOnlyPartFile) {
    start_sim();
    set_faults(3, {{"drop_mid_download_at", 1000000}});
    const auto result = shoot({"--photo", "--download-attempts", "1"});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    const auto& cut = report["cameras"][3];
    EXPECT_FALSE(cut["delivered"].get<bool>());
    ASSERT_EQ(cut["files"].size(), 1u);
    EXPECT_FALSE(cut["files"][0]["error"].get<std::string>().empty());
    EXPECT_EQ(cut["files"][0]["sha256"], "");

    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(shot / "cam4")) {
        files.push_back(entry.path());
    }
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].extension(), ".part") << files[0];
    EXPECT_LE(fs::file_size(files[0]), 1000000u);
    for (const std::string camera : {"cam1", "cam2", "cam3"}) {
        expect_delivered(shot, report, camera, 1);
    }
}

TEST_F(ShootTest, CutDownloadResumesWithRange) {
    start_sim();
    set_faults(3, {{"drop_mid_download_at", 1000000}});
    const auto result = shoot({"--photo"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

    const fs::path shot = only_shot();
    const json report = shot_json(shot);
    expect_delivered(shot, report, "cam4", 1);
    // Two GETs of the file: the cut one and the resumed one.
    std::size_t gets = 0;
    for (const auto& request : report["cameras"][3]["requests"]) {
        if (request["method"] == "GET" && request["target"] != "/osc/info") {
            ++gets;
        }
    }
    EXPECT_EQ(gets, 2u);
    // The resumed file is whole: a JPEG ends with the EOI marker.
    const auto& file = report["cameras"][3]["files"][0];
    const std::string bytes = read_file(shot / file["local_path"].get<std::string>());
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[bytes.size() - 2]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(bytes[bytes.size() - 1]), 0xD9);
}

TEST_F(ShootTest, BadDurationIsUsageError) {
    start_sim();
    EXPECT_EQ(shoot({"--video", "soon"}).exit_code, 64);
    EXPECT_EQ(shoot({"--video", "0s"}).exit_code, 64);
    EXPECT_FALSE(fs::exists(shots_));
}

TEST_F(ShootTest, InterruptedVideoStopsRecording) {
    start_sim();
    // SIGINT once the recording runs; the shell waits for the shot and exits with its code.
    const fs::path log = folder_->path() / "shoot.err";
    const std::string script =
        "\"$0\" shoot \"$1\" --video 30s --sync none >/dev/null 2>\"$2\" & pid=$!; "
        "for i in $(seq 300); do grep -q 'recording for' \"$2\" && break; sleep 0.1; done; "
        "kill -INT $pid; wait $pid";
    const auto interrupted = run_command(
        {"/bin/sh", "-c", script, OSCRIG_BINARY, rig_file_.string(), log.string()},
        std::chrono::seconds{60});
    EXPECT_EQ(interrupted.exit_code, 130) << read_file(log);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(stats(i)["requests"].value("camera.stopCapture", 0), 1) << "cam" << i + 1;
    }

    // The cameras are not left recording, so the next shot works.
    const auto next = shoot({"--video", "1s"});
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
}

TEST_F(ShootTest, NoFlagTakesRigPhotoMode) {
    start_sim();
    const auto result = shoot({});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(shot_json(only_shot())["mode"], "photo");
}

TEST_F(ShootTest, NoFlagVideoRigNeedsDuration) {
    start_sim();
    add_to_rig("capture:\n  mode: video\n");
    const auto result = shoot({});
    EXPECT_EQ(result.exit_code, 64);
    EXPECT_NE(result.err.find("--video DURATION"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(shots_));
}

TEST_F(ShootTest, RigErrorsExitWithConfigCode) {
    std::ofstream(rig_file_) << "rig: broken\ncameras:\n  - name: cam1\n    port: not-a-port\n";
    const auto result = shoot({"--photo"});
    EXPECT_EQ(result.exit_code, 78) << result.out << result.err;
    EXPECT_NE(result.err.find("port"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace oscrig::testing
