// Parsing of valid rig files: every field, the defaults and the merged capture settings.
#include "config/rig.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace oscrig::config {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view full_rig = R"(rig: studio-a
output: captures
capture:
  mode: timelapse
  hdr: true
  photo_stitching: ondevice
  exposure_program: 1
  iso: 400
  shutter_speed: 1/250
  white_balance: daylight
  timelapse_interval: 1.5s
timeouts:
  connect: 2s
  info_state: 4s
  command: 20s
  status: 3s
  download_stall: 1m
status_poll_interval: 250ms
health_interval: 2s
sync:
  method: none
  staging_window: 750ms
  abort_if_not_ready: true
cameras:
  - name: front
    host: 127.0.0.1
    port: 18000
    interface: lo
    source_address: 127.0.0.2
    one_way_delay: 2ms
    auth:
      user: THETAYL00112233
      password_env: THETA_PASSWORD
    options:
      iso: 200
      hdr: false
  - name: back_2.left
    host: localhost
    port: 18001
    auth:
      user: THETAYL00445566
      password: "00445566"
)";

constexpr std::string_view minimal_rig = R"(rig: bench
cameras:
  - name: only
)";

rig parse_valid(std::string_view text) {
    load_result result = parse_rig(text, "rig.yaml");
    for (const config_error& error : result.errors) {
        ADD_FAILURE() << "unexpected error: " << error.to_string();
    }
    if (!result.value) {
        ADD_FAILURE() << "no rig parsed";
        return rig{};
    }
    return *result.value;
}

TEST(RigParse, FullFileRigFields) {
    const rig parsed = parse_valid(full_rig);
    EXPECT_EQ(parsed.name, "studio-a");
    EXPECT_EQ(parsed.output_dir, "captures");
    EXPECT_TRUE(parsed.source_file.empty());
    EXPECT_EQ(parsed.status_poll_interval, 250ms);
    EXPECT_EQ(parsed.health_interval, 2s);
}

TEST(RigParse, FullFileCapture) {
    const capture_settings capture = parse_valid(full_rig).capture;
    EXPECT_EQ(capture.mode, capture_mode::timelapse);
    EXPECT_EQ(capture.hdr, true);
    EXPECT_EQ(capture.photo_stitching, "ondevice");
    EXPECT_EQ(capture.exposure_program, 1);
    EXPECT_EQ(capture.iso, 400);
    ASSERT_TRUE(capture.shutter_speed.has_value());
    EXPECT_DOUBLE_EQ(*capture.shutter_speed, 0.004);
    EXPECT_EQ(capture.white_balance, "daylight");
    ASSERT_TRUE(capture.timelapse_interval.has_value());
    EXPECT_DOUBLE_EQ(*capture.timelapse_interval, 1.5);
}

TEST(RigParse, FullFileTimeoutsAndSync) {
    const rig parsed = parse_valid(full_rig);
    EXPECT_EQ(parsed.timeouts.connect, 2s);
    EXPECT_EQ(parsed.timeouts.info_state, 4s);
    EXPECT_EQ(parsed.timeouts.command, 20s);
    EXPECT_EQ(parsed.timeouts.status, 3s);
    EXPECT_EQ(parsed.timeouts.download_stall, 60s);
    EXPECT_EQ(parsed.sync.method, sync_method::none);
    EXPECT_EQ(parsed.sync.staging_window, 750ms);
    EXPECT_TRUE(parsed.sync.abort_if_not_ready);
}

TEST(RigParse, FullFileFirstCamera) {
    const rig parsed = parse_valid(full_rig);
    ASSERT_EQ(parsed.cameras.size(), 2u);
    const camera_config& front = parsed.cameras[0];
    EXPECT_EQ(front.name, "front");
    EXPECT_EQ(front.host, "127.0.0.1");
    EXPECT_EQ(front.port, 18000);
    EXPECT_EQ(front.interface, "lo");
    EXPECT_EQ(front.source_address, "127.0.0.2");
    EXPECT_EQ(front.one_way_delay, std::chrono::microseconds{2000});
    EXPECT_EQ(front.line, 25);
    ASSERT_TRUE(front.auth.has_value());
    EXPECT_EQ(front.auth->user, "THETAYL00112233");
    EXPECT_EQ(front.auth->password, "");
    EXPECT_EQ(front.auth->password_env, "THETA_PASSWORD");
    EXPECT_EQ(front.overrides.iso, 200);
    EXPECT_EQ(front.overrides.hdr, false);
    EXPECT_FALSE(front.overrides.mode.has_value());
}

TEST(RigParse, FullFileSecondCamera) {
    const rig parsed = parse_valid(full_rig);
    ASSERT_EQ(parsed.cameras.size(), 2u);
    const camera_config& back = parsed.cameras[1];
    EXPECT_EQ(back.name, "back_2.left");
    EXPECT_EQ(back.host, "localhost");
    EXPECT_EQ(back.port, 18001);
    EXPECT_EQ(back.interface, "");
    EXPECT_EQ(back.source_address, "");
    EXPECT_FALSE(back.one_way_delay.has_value());
    EXPECT_EQ(back.line, 37);
    ASSERT_TRUE(back.auth.has_value());
    EXPECT_EQ(back.auth->user, "THETAYL00445566");
    EXPECT_EQ(back.auth->password, "00445566");
    EXPECT_EQ(back.auth->password_env, "");
}

TEST(RigParse, Defaults) {
    const rig parsed = parse_valid(minimal_rig);
    EXPECT_EQ(parsed.name, "bench");
    EXPECT_EQ(parsed.output_dir, "shots");
    EXPECT_EQ(parsed.capture.mode, capture_mode::photo);
    EXPECT_FALSE(parsed.capture.hdr.has_value());
    EXPECT_FALSE(parsed.capture.iso.has_value());
    EXPECT_FALSE(parsed.capture.timelapse_interval.has_value());
    EXPECT_EQ(parsed.timeouts.connect, 3s);
    EXPECT_EQ(parsed.timeouts.info_state, 5s);
    EXPECT_EQ(parsed.timeouts.command, 15s);
    EXPECT_EQ(parsed.timeouts.status, 5s);
    EXPECT_EQ(parsed.timeouts.download_stall, 15s);
    EXPECT_EQ(parsed.status_poll_interval, 1s);
    EXPECT_EQ(parsed.health_interval, 5s);
    EXPECT_EQ(parsed.sync.method, sync_method::staged);
    EXPECT_EQ(parsed.sync.staging_window, 500ms);
    EXPECT_FALSE(parsed.sync.abort_if_not_ready);
}

TEST(RigParse, CameraDefaults) {
    const rig parsed = parse_valid(minimal_rig);
    ASSERT_EQ(parsed.cameras.size(), 1u);
    const camera_config& camera = parsed.cameras[0];
    EXPECT_EQ(camera.host, "192.168.42.1");
    EXPECT_EQ(camera.port, 80);
    EXPECT_EQ(camera.interface, "");
    EXPECT_EQ(camera.source_address, "");
    EXPECT_FALSE(camera.auth.has_value());
    EXPECT_FALSE(camera.one_way_delay.has_value());
    EXPECT_EQ(camera.line, 3);
}

TEST(RigParse, DefaultConstructedRigIsPhoto) {
    EXPECT_EQ(rig{}.capture.mode, capture_mode::photo);
}

TEST(RigParse, PartialTimeoutsKeepOtherDefaults) {
    const rig parsed = parse_valid(R"(rig: r
timeouts:
  command: 40s
cameras:
  - name: a
)");
    EXPECT_EQ(parsed.timeouts.command, 40s);
    EXPECT_EQ(parsed.timeouts.connect, 3s);
    EXPECT_EQ(parsed.timeouts.download_stall, 15s);
}

TEST(RigParse, DurationUnits) {
    const rig parsed = parse_valid(R"(rig: r
timeouts:
  connect: 1500ms
  info_state: 2.25s
  command: 1.5m
  status: 7000us
status_poll_interval: 0.2s
cameras:
  - name: a
    one_way_delay: 350us
)");
    EXPECT_EQ(parsed.timeouts.connect, 1500ms);
    EXPECT_EQ(parsed.timeouts.info_state, 2250ms);
    EXPECT_EQ(parsed.timeouts.command, 90s);
    EXPECT_EQ(parsed.timeouts.status, 7ms);
    EXPECT_EQ(parsed.status_poll_interval, 200ms);
    ASSERT_EQ(parsed.cameras.size(), 1u);
    EXPECT_EQ(parsed.cameras[0].one_way_delay, std::chrono::microseconds{350});
}

TEST(RigParse, DurationLimitsInclusive) {
    const rig parsed = parse_valid(R"(rig: r
status_poll_interval: 200ms
health_interval: 1s
sync:
  staging_window: 10s
cameras:
  - name: a
    one_way_delay: 1s
  - name: b
    one_way_delay: 0ms
)");
    EXPECT_EQ(parsed.status_poll_interval, 200ms);
    EXPECT_EQ(parsed.health_interval, 1s);
    EXPECT_EQ(parsed.sync.staging_window, 10s);
    ASSERT_EQ(parsed.cameras.size(), 2u);
    EXPECT_EQ(parsed.cameras[0].one_way_delay, 1s);
    EXPECT_EQ(parsed.cameras[1].one_way_delay, 0s);
}

TEST(RigParse, ValueSpellings) {
    const rig parsed = parse_valid(R"(rig: "quoted name"
capture:
  hdr: False
  iso: 0
  shutter_speed: 0
  exposure_program: 9
sync:
  abort_if_not_ready: TRUE
cameras:
  - name: '123'
    host: "::1"
    port: 65535
  - name: b
    host: cam-1.local.
    port: 1
)");
    EXPECT_EQ(parsed.name, "quoted name");
    EXPECT_EQ(parsed.capture.hdr, false);
    EXPECT_EQ(parsed.capture.iso, 0);
    EXPECT_EQ(parsed.capture.shutter_speed, 0.0);
    EXPECT_EQ(parsed.capture.exposure_program, 9);
    EXPECT_TRUE(parsed.sync.abort_if_not_ready);
    ASSERT_EQ(parsed.cameras.size(), 2u);
    EXPECT_EQ(parsed.cameras[0].name, "123");
    EXPECT_EQ(parsed.cameras[0].host, "::1");
    EXPECT_EQ(parsed.cameras[0].port, 65535);
    EXPECT_EQ(parsed.cameras[1].host, "cam-1.local.");
    EXPECT_EQ(parsed.cameras[1].port, 1);
}

TEST(RigParse, FlowStyle) {
    const rig parsed =
        parse_valid("{rig: flow, cameras: [{name: a, port: 18000}, {name: b, port: 18001}]}");
    EXPECT_EQ(parsed.name, "flow");
    ASSERT_EQ(parsed.cameras.size(), 2u);
    EXPECT_EQ(parsed.cameras[1].port, 18001);
}

TEST(RigParse, DecimalShutterSpeed) {
    const rig parsed = parse_valid(R"(rig: r
capture:
  shutter_speed: 0.5
cameras:
  - name: a
)");
    EXPECT_EQ(parsed.capture.shutter_speed, 0.5);
}

TEST(CaptureMode, Names) {
    EXPECT_EQ(to_string(capture_mode::photo), "photo");
    EXPECT_EQ(to_string(capture_mode::video), "video");
    EXPECT_EQ(to_string(capture_mode::timelapse), "timelapse");
}

TEST(MergedSettings, OverrideReplacesOnlySetFields) {
    capture_settings base;
    base.mode = capture_mode::photo;
    base.iso = 100;
    base.white_balance = "auto";
    capture_settings overrides;
    overrides.iso = 800;
    overrides.hdr = true;

    const capture_settings merged = base.merged_with(overrides);
    EXPECT_EQ(merged.mode, capture_mode::photo);
    EXPECT_EQ(merged.iso, 800);
    EXPECT_EQ(merged.hdr, true);
    EXPECT_EQ(merged.white_balance, "auto");
    EXPECT_FALSE(merged.shutter_speed.has_value());
}

TEST(MergedSettings, EveryFieldOverrides) {
    capture_settings base;
    base.mode = capture_mode::photo;
    base.hdr = false;
    base.photo_stitching = "none";
    base.exposure_program = 2;
    base.iso = 100;
    base.shutter_speed = 0.01;
    base.white_balance = "auto";
    base.timelapse_interval = 1.0;
    capture_settings overrides;
    overrides.mode = capture_mode::video;
    overrides.hdr = true;
    overrides.photo_stitching = "ondevice";
    overrides.exposure_program = 1;
    overrides.iso = 3200;
    overrides.shutter_speed = 0.5;
    overrides.white_balance = "shade";
    overrides.timelapse_interval = 10.0;

    const capture_settings merged = base.merged_with(overrides);
    EXPECT_EQ(merged.mode, capture_mode::video);
    EXPECT_EQ(merged.hdr, true);
    EXPECT_EQ(merged.photo_stitching, "ondevice");
    EXPECT_EQ(merged.exposure_program, 1);
    EXPECT_EQ(merged.iso, 3200);
    EXPECT_EQ(merged.shutter_speed, 0.5);
    EXPECT_EQ(merged.white_balance, "shade");
    EXPECT_EQ(merged.timelapse_interval, 10.0);
}

TEST(MergedSettings, EmptyOverridesKeepBase) {
    capture_settings base;
    base.mode = capture_mode::timelapse;
    base.timelapse_interval = 4.0;
    const capture_settings merged = base.merged_with(capture_settings{});
    EXPECT_EQ(merged.mode, capture_mode::timelapse);
    EXPECT_EQ(merged.timelapse_interval, 4.0);
    EXPECT_FALSE(merged.iso.has_value());
}

TEST(MergedSettings, SettingsForCameraFromFile) {
    const rig parsed = parse_valid(full_rig);
    ASSERT_EQ(parsed.cameras.size(), 2u);

    const capture_settings front = parsed.settings_for(parsed.cameras[0]);
    EXPECT_EQ(front.mode, capture_mode::timelapse);
    EXPECT_EQ(front.iso, 200);
    EXPECT_EQ(front.hdr, false);
    EXPECT_EQ(front.white_balance, "daylight");

    const capture_settings back = parsed.settings_for(parsed.cameras[1]);
    EXPECT_EQ(back.iso, 400);
    EXPECT_EQ(back.hdr, true);
}

TEST(ConfigError, FormatWithPosition) {
    const config_error error{"rig.yaml", 7, 11, "cameras[1].port",
                             "expected an integer 1-65535, got \"eighty\""};
    EXPECT_EQ(error.to_string(),
              "rig.yaml:7:11: cameras[1].port: expected an integer 1-65535, got \"eighty\"");
}

TEST(ConfigError, FormatWithoutPath) {
    const config_error error{"rig.yaml", 1, 1, "", "missing required key \"rig\""};
    EXPECT_EQ(error.to_string(), "rig.yaml:1:1: missing required key \"rig\"");
}

TEST(ConfigError, FormatWithoutPosition) {
    const config_error error{"/no/rig.yaml", 0, 0, "",
                             "failed to read the file: No such file or directory"};
    EXPECT_EQ(error.to_string(),
              "/no/rig.yaml: failed to read the file: No such file or directory");
}

TEST(RigErrorPath, ControlCharacterInKeyIsEscaped) {
    const load_result result =
        parse_rig("rig: x\ncameras:\n  - name: a\n    \x1b[31mkey: 1\n", "rig.yaml");
    ASSERT_EQ(result.errors.size(), 1u);
    const std::string& path = result.errors.front().path;
    EXPECT_EQ(path.find('\x1b'), std::string::npos) << path;
    EXPECT_EQ(path, "cameras[0].\\x1b[31mkey");
}

}  // namespace
}  // namespace oscrig::config
