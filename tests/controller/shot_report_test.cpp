#include "controller/shot_report.hpp"

#include "controller/camera_snapshot.hpp"

#include <gtest/gtest.h>

namespace oscrig::controller {
namespace {

using nlohmann::json;

shot_report sample_report() {
    shot_report report;
    report.rig = "lobby";
    report.shot_id = "20261204-142500";
    report.mode = config::capture_mode::video;
    report.sync = "staged";
    report.started_us = 1'700'000'000'000'000;
    report.finished_us = 1'700'000'012'500'000;
    report.duration_seconds = 10.0;

    camera_shot front;
    front.name = "front";
    front.host = "127.0.0.2";
    front.delivered = true;
    front.warnings = {"hdr: sent \"hdr\", camera reports \"off\""};

    request_record request;
    request.method = "POST";
    request.target = "/osc/commands/execute";
    request.command = "camera.startCapture";
    request.sent_us = 1'700'000'001'000'000;
    request.received_us = 1'700'000'001'020'000;
    request.http_status = 200;
    request.reply = json::parse(R"({"name":"camera.startCapture","state":"done"})");
    front.requests.push_back(request);

    trigger_record trigger;
    trigger.command = "camera.startCapture";
    trigger.planned_release_us = 5'000'000;
    trigger.actual_release_us = 5'000'040;
    trigger.one_way_delay_us = 1500.0;
    front.triggers.push_back(trigger);

    file_record file;
    file.url = "http://127.0.0.2/DCIM/VID_00.mp4";
    file.local_path = "front/VID_00.mp4";
    file.bytes = 123456;
    file.sha256 = std::string(64, 'a');
    front.files.push_back(file);

    camera_shot back;
    back.name = "back";
    back.host = "127.0.0.3";
    back.delivered = false;
    back.error = "timed out: POST /osc/commands/execute";

    report.cameras = {front, back};

    sync_summary summary;
    summary.command = "camera.startCapture";
    summary.cameras = 2;
    summary.arrival_spread_us = 850.0;
    report.sync_summaries.push_back(summary);
    return report;
}

TEST(ShotReport, AllDelivered) {
    auto report = sample_report();
    EXPECT_FALSE(report.all_delivered());
    report.cameras[1].delivered = true;
    EXPECT_TRUE(report.all_delivered());
}

TEST(ShotReport, NoCamerasIsNotDelivered) {
    shot_report report;
    EXPECT_FALSE(report.all_delivered());
}

TEST(ShotReport, TopLevelFields) {
    json document = sample_report().to_json();
    EXPECT_EQ(document["rig"], "lobby");
    EXPECT_EQ(document["shot_id"], "20261204-142500");
    EXPECT_EQ(document["mode"], "video");
    EXPECT_EQ(document["sync"], "staged");
    EXPECT_EQ(document["started_us"], 1'700'000'000'000'000);
    EXPECT_EQ(document["finished_us"], 1'700'000'012'500'000);
    EXPECT_DOUBLE_EQ(document["duration_seconds"].get<double>(), 10.0);
    EXPECT_EQ(document["all_delivered"], false);
    ASSERT_EQ(document["cameras"].size(), 2u);
    ASSERT_EQ(document["sync_summaries"].size(), 1u);
}

TEST(ShotReport, CameraFields) {
    json document = sample_report().to_json();
    const json& front = document["cameras"][0];
    EXPECT_EQ(front["name"], "front");
    EXPECT_EQ(front["host"], "127.0.0.2");
    EXPECT_EQ(front["delivered"], true);
    EXPECT_EQ(front["error"], "");
    EXPECT_EQ(front["warnings"], json::array({"hdr: sent \"hdr\", camera reports \"off\""}));

    const json& request = front["requests"][0];
    EXPECT_EQ(request["method"], "POST");
    EXPECT_EQ(request["target"], "/osc/commands/execute");
    EXPECT_EQ(request["command"], "camera.startCapture");
    EXPECT_EQ(request["sent_us"], 1'700'000'001'000'000);
    EXPECT_EQ(request["received_us"], 1'700'000'001'020'000);
    EXPECT_EQ(request["http_status"], 200);
    EXPECT_EQ(request["reply"]["state"], "done");
    EXPECT_EQ(request["error"], "");

    const json& file = front["files"][0];
    EXPECT_EQ(file["url"], "http://127.0.0.2/DCIM/VID_00.mp4");
    EXPECT_EQ(file["local_path"], "front/VID_00.mp4");
    EXPECT_EQ(file["bytes"], 123456);
    EXPECT_EQ(file["sha256"], std::string(64, 'a'));
    EXPECT_EQ(file["error"], "");

    const json& back = document["cameras"][1];
    EXPECT_EQ(back["delivered"], false);
    EXPECT_EQ(back["error"], "timed out: POST /osc/commands/execute");
    EXPECT_TRUE(back["requests"].is_array());
    EXPECT_TRUE(back["triggers"].is_array());
    EXPECT_TRUE(back["files"].is_array());
}

TEST(ShotReport, UnsetOptionalsAreOmitted) {
    json document = sample_report().to_json();
    const json& trigger = document["cameras"][0]["triggers"][0];
    EXPECT_EQ(trigger["command"], "camera.startCapture");
    EXPECT_EQ(trigger["planned_release_us"], 5'000'000);
    EXPECT_EQ(trigger["actual_release_us"], 5'000'040);
    EXPECT_DOUBLE_EQ(trigger["one_way_delay_us"].get<double>(), 1500.0);
    EXPECT_FALSE(trigger.contains("estimated_arrival_host_us"));
    EXPECT_FALSE(trigger.contains("estimated_arrival_camera_us"));
    EXPECT_FALSE(trigger.contains("arrival_uncertainty_us"));
    EXPECT_EQ(trigger["resent_whole"], false);
    EXPECT_EQ(trigger["missed"], false);
    EXPECT_EQ(trigger["rejected"], false);
    EXPECT_EQ(trigger["note"], "");

    const json& summary = document["sync_summaries"][0];
    EXPECT_EQ(summary["command"], "camera.startCapture");
    EXPECT_EQ(summary["cameras"], 2);
    EXPECT_DOUBLE_EQ(summary["arrival_spread_us"].get<double>(), 850.0);
    EXPECT_FALSE(summary.contains("spread_bound_us"));

    shot_report photo;
    photo.mode = config::capture_mode::photo;
    json photo_document = photo.to_json();
    EXPECT_FALSE(photo_document.contains("duration_seconds"));
    EXPECT_EQ(photo_document["mode"], "photo");
}

TEST(ShotReport, NoNullValues) {
    std::string text = sample_report().to_json().dump();
    EXPECT_EQ(text.find("null"), std::string::npos) << text;
}

TEST(CameraSnapshot, StateNames) {
    EXPECT_EQ(to_string(camera_state::connecting), "connecting");
    EXPECT_EQ(to_string(camera_state::ready), "ready");
    EXPECT_EQ(to_string(camera_state::busy), "busy");
    EXPECT_EQ(to_string(camera_state::unreachable), "unreachable");
    EXPECT_EQ(to_string(camera_state::needs_activation), "needs_activation");
    EXPECT_EQ(to_string(camera_state::error), "error");
}

}  // namespace
}  // namespace oscrig::controller
