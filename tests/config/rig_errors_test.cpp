// Errors of invalid rig files: position, path and message of each kind of problem.
#include "config/rig.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::config {
namespace {

std::string describe_errors(const std::vector<config_error>& errors) {
    std::string text;
    for (const config_error& error : errors) {
        text += "\n  " + error.to_string();
    }
    return text;
}

// Parses `text`, which must be rejected, and returns its errors.
std::vector<config_error> errors_of(std::string_view text) {
    load_result result = parse_rig(text, "rig.yaml");
    EXPECT_FALSE(result.value.has_value()) << "a rig was returned with its errors";
    return result.errors;
}

// Parses `text`, which must have exactly one error, and returns that error.
config_error only_error(std::string_view text) {
    const std::vector<config_error> errors = errors_of(text);
    EXPECT_EQ(errors.size(), 1u) << describe_errors(errors);
    return errors.empty() ? config_error{} : errors.front();
}

struct error_case {
    std::string name;  // test name suffix
    std::string text;
    int line;
    int column;
    std::string path;
    std::string message;
};

// Every case starts from a valid rig with one camera and breaks one thing.
const std::string rig_head = "rig: r\ncameras:\n  - name: a\n";  // lines 1-3
const std::string rig_tail = "cameras:\n  - name: a\n";

const std::string duration_form =
    R"(a duration with a unit (us, ms, s or m) such as "500ms", "3s" or "2m")";
const std::string camera_keys =
    "name, host, port, interface, source_address, one_way_delay, auth, options";
const std::string capture_keys =
    "mode, hdr, photo_stitching, exposure_program, iso, shutter_speed, white_balance, "
    "timelapse_interval";
const std::string root_keys =
    "rig, output, capture, timeouts, status_poll_interval, health_interval, sync, cameras";

std::vector<error_case> single_error_cases() {
    return {
        // Wrong types and ranges.
        {"PortWord",
         "rig: studio-a\ncameras:\n  - name: front\n    port: 18000\n  - name: back\n"
         "    host: 127.0.0.1\n    port: eighty\n",
         7, 11, "cameras[1].port", R"(expected an integer 1-65535, got "eighty")"},
        {"PortZero", rig_head + "    port: 0\n", 4, 11, "cameras[0].port",
         R"(expected an integer 1-65535, got "0")"},
        {"PortTooLarge", rig_head + "    port: 65536\n", 4, 11, "cameras[0].port",
         R"(expected an integer 1-65535, got "65536")"},
        {"PortQuoted", rig_head + "    port: \"80\"\n", 4, 11, "cameras[0].port",
         R"(expected an integer 1-65535 without quotes, got "80")"},
        {"PortFraction", rig_head + "    port: 80.5\n", 4, 11, "cameras[0].port",
         R"(expected an integer 1-65535, got "80.5")"},
        {"PortEmpty", rig_head + "    port:\n", 4, 5, "cameras[0].port",
         "expected an integer 1-65535, got nothing"},
        {"PortList", rig_head + "    port: [80]\n", 4, 11, "cameras[0].port",
         "expected an integer 1-65535, got a list"},
        {"HdrYes", "rig: r\ncapture:\n  hdr: yes\n" + rig_tail, 3, 8, "capture.hdr",
         R"(expected true or false, got "yes")"},
        {"ModeUnknown", "rig: r\ncapture:\n  mode: still\n" + rig_tail, 3, 9, "capture.mode",
         R"(expected photo, video or timelapse, got "still")"},
        {"StitchingUnknown", "rig: r\ncapture:\n  photo_stitching: auto\n" + rig_tail, 3, 20,
         "capture.photo_stitching", R"(expected none or ondevice, got "auto")"},
        {"ExposureProgramThree", "rig: r\ncapture:\n  exposure_program: 3\n" + rig_tail, 3, 21,
         "capture.exposure_program",
         "expected 1 (manual), 2 (auto), 4 (shutter priority) or 9 (ISO priority), got \"3\""},
        {"IsoTooLow", "rig: r\ncapture:\n  iso: 25\n" + rig_tail, 3, 8, "capture.iso",
         R"(expected 0 (auto) or an integer 50-12800, got "25")"},
        {"IsoTooHigh", "rig: r\ncapture:\n  iso: 25600\n" + rig_tail, 3, 8, "capture.iso",
         R"(expected 0 (auto) or an integer 50-12800, got "25600")"},
        {"ShutterNegative", "rig: r\ncapture:\n  shutter_speed: -1\n" + rig_tail, 3, 18,
         "capture.shutter_speed",
         R"(expected a shutter speed in seconds such as 0.004 or 1/250, or 0 for auto, got "-1")"},
        {"ShutterZeroDenominator", "rig: r\ncapture:\n  shutter_speed: 1/0\n" + rig_tail, 3, 18,
         "capture.shutter_speed",
         R"(expected a shutter speed in seconds such as 0.004 or 1/250, or 0 for auto, got "1/0")"},
        {"WhiteBalanceEmpty", "rig: r\ncapture:\n  white_balance: \"\"\n" + rig_tail, 3, 18,
         "capture.white_balance",
         R"(expected a white balance name such as "auto" or "daylight", got "")"},
        {"CaptureScalar", "rig: r\ncapture: photo\n" + rig_tail, 2, 10, "capture",
         "expected a mapping with the keys " + capture_keys + R"(, got "photo")"},
        {"TimeoutsList", "rig: r\ntimeouts: [1s]\n" + rig_tail, 2, 11, "timeouts",
         "expected a mapping with the keys connect, info_state, command, status, "
         "download_stall, got a list"},
        {"SyncMethodUnknown", "rig: r\nsync:\n  method: fast\n" + rig_tail, 3, 11,
         "sync.method", R"(expected staged or none, got "fast")"},
        {"AbortIfNotReadyNumber", "rig: r\nsync:\n  abort_if_not_ready: 1\n" + rig_tail, 3, 23,
         "sync.abort_if_not_ready", R"(expected true or false, got "1")"},
        {"RigNameEmpty", "rig: \"\"\n" + rig_tail, 1, 6, "rig", R"(expected a rig name, got "")"},
        {"RigNameMapping", "rig:\n  name: r\n" + rig_tail, 2, 3, "rig",
         "expected a rig name, got a mapping"},
        {"OutputControlCharacter", "rig: r\noutput: \"a\\tb\"\n" + rig_tail, 2, 9, "output",
         R"(expected an output directory without control characters, got "a\tb")"},

        // Durations.
        {"DurationBareNumber", "rig: r\ntimeouts:\n  connect: 3\n" + rig_tail, 3, 12,
         "timeouts.connect", "expected " + duration_form + R"(, got "3")"},
        {"DurationUnknownUnit", "rig: r\ntimeouts:\n  connect: 3h\n" + rig_tail, 3, 12,
         "timeouts.connect", "expected " + duration_form + R"(, got "3h")"},
        {"DurationSpaceBeforeUnit", "rig: r\ntimeouts:\n  command: 3 s\n" + rig_tail, 3, 12,
         "timeouts.command", "expected " + duration_form + R"(, got "3 s")"},
        {"DurationNegative", "rig: r\ntimeouts:\n  status: -1s\n" + rig_tail, 3, 11,
         "timeouts.status", "expected " + duration_form + R"(, got "-1s")"},
        {"TimeoutZero", "rig: r\ntimeouts:\n  connect: 0s\n" + rig_tail, 3, 12,
         "timeouts.connect", R"(expected a duration of at least 1ms, got "0s")"},
        {"TimeoutBelowMillisecond", "rig: r\ntimeouts:\n  connect: 1500us\n" + rig_tail, 3, 12,
         "timeouts.connect", R"(expected a whole number of milliseconds, got "1500us")"},
        {"StagingWindowTooLong", "rig: r\nsync:\n  staging_window: 20s\n" + rig_tail, 3, 19,
         "sync.staging_window", R"(expected a duration from 10ms to 10s, got "20s")"},
        {"StagingWindowTooShort", "rig: r\nsync:\n  staging_window: 5ms\n" + rig_tail, 3, 19,
         "sync.staging_window", R"(expected a duration from 10ms to 10s, got "5ms")"},
        {"StatusPollTooShort", "rig: r\nstatus_poll_interval: 100ms\n" + rig_tail, 2, 23,
         "status_poll_interval", R"(expected a duration of at least 200ms, got "100ms")"},
        {"HealthIntervalTooShort", "rig: r\nhealth_interval: 500ms\n" + rig_tail, 2, 18,
         "health_interval", R"(expected a duration of at least 1s, got "500ms")"},
        {"OneWayDelayTooLong", rig_head + "    one_way_delay: 2s\n", 4, 20,
         "cameras[0].one_way_delay", R"(expected a duration from 0s to 1s, got "2s")"},
        {"TimelapseIntervalZero", "rig: r\ncapture:\n  timelapse_interval: 0s\n" + rig_tail, 3,
         23, "capture.timelapse_interval", R"(expected a duration of at least 1ms, got "0s")"},

        // Missing keys and document shape.
        {"MissingRig", "cameras:\n  - name: a\n", 1, 1, "", R"(missing required key "rig")"},
        {"MissingCameras", "rig: r\n", 1, 1, "", R"(missing required key "cameras")"},
        {"MissingCameraName", "rig: r\ncameras:\n  - host: 127.0.0.1\n", 3, 5, "cameras[0]",
         R"(missing required key "name")"},
        {"CamerasEmptyList", "rig: r\ncameras: []\n", 2, 10, "cameras",
         "expected a list of at least one camera, got an empty list"},
        {"CamerasMapping", "rig: r\ncameras:\n  name: a\n", 3, 3, "cameras",
         "expected a list of at least one camera, got a mapping"},
        {"CameraScalar", "rig: r\ncameras:\n  - front\n", 3, 5, "cameras[0]",
         "expected a mapping with the keys " + camera_keys + R"(, got "front")"},
        {"EmptyFile", "", 1, 1, "",
         R"(expected a mapping with the keys "rig" and "cameras", got an empty file)"},
        {"CommentsOnly", "# rig file\n\n", 1, 1, "",
         R"(expected a mapping with the keys "rig" and "cameras", got an empty file)"},
        {"RootScalar", "hello\n", 1, 1, "",
         R"(expected a mapping with the keys "rig" and "cameras", got "hello")"},
        {"RootList", "- rig: r\n", 1, 1, "",
         R"(expected a mapping with the keys "rig" and "cameras", got a list)"},
        {"SecondDocument", rig_head + "---\nrig: s\n", 5, 1, "",
         "expected one YAML document, got a second one"},
        {"SyntaxError", "rig: a\ncameras:\n  - name: x\n   port: 1\n", 4, 4, "",
         "invalid YAML: end of sequence not found"},
        {"KeyNotScalar", "rig: r\n? [a, b]\n: c\n" + rig_tail, 2, 3, "",
         "expected a key name, got a list"},

        // Unknown and duplicate keys.
        {"UnknownKeySuggested", rig_head + "    prot: 80\n", 4, 5, "cameras[0].prot",
         R"(unknown key "prot"; did you mean "port"?)"},
        {"UnknownCaptureKeySuggested", "rig: r\ncapture:\n  isp: 100\n" + rig_tail, 3, 3,
         "capture.isp", R"(unknown key "isp"; did you mean "iso"?)"},
        {"UnknownOptionKeySuggested", rig_head + "    options:\n      hdx: true\n", 5, 7,
         "cameras[0].options.hdx", R"(unknown key "hdx"; did you mean "hdr"?)"},
        {"UnknownKeyListed", "rig: r\ncolour: red\n" + rig_tail, 2, 1, "colour",
         R"(unknown key "colour"; the keys here are )" + root_keys},
        {"DuplicateKey", rig_head + "    port: 80\n    port: 81\n", 5, 5, "cameras[0].port",
         R"(duplicate key "port"; the first is on line 4)"},
        {"DuplicateRootKey", "rig: r\nrig: s\n" + rig_tail, 2, 1, "rig",
         R"(duplicate key "rig"; the first is on line 1)"},
        {"DuplicateCameraName", "rig: r\ncameras:\n  - name: a\n  - name: b\n  - name: a\n", 5,
         11, "cameras[2].name", R"(duplicate camera name "a"; the first is on line 3)"},

        // Camera fields.
        {"CameraNameSpace", "rig: r\ncameras:\n  - name: front cam\n", 3, 11, "cameras[0].name",
         "expected a camera name of at most 64 letters, digits, '-', '_' or '.', got "
         "\"front cam\""},
        {"CameraNameSlash", "rig: r\ncameras:\n  - name: a/b\n", 3, 11, "cameras[0].name",
         "expected a camera name of at most 64 letters, digits, '-', '_' or '.', got \"a/b\""},
        {"CameraNameDotDot", "rig: r\ncameras:\n  - name: \"..\"\n", 3, 11, "cameras[0].name",
         R"(expected a camera name other than "." and "..", which name folders, got "..")"},
        {"CameraNameDot", "rig: r\ncameras:\n  - name: .\n", 3, 11, "cameras[0].name",
         R"(expected a camera name other than "." and "..", which name folders, got ".")"},
        {"CameraNameTooLong", "rig: r\ncameras:\n  - name: " + std::string(65, 'a') + "\n", 3,
         11, "cameras[0].name",
         "expected a camera name of at most 64 letters, digits, '-', '_' or '.', got \"" +
             std::string(60, 'a') + "...\""},
        {"CameraNameEmpty", "rig: r\ncameras:\n  - name: ''\n", 3, 11, "cameras[0].name",
         R"(expected a camera name, got "")"},
        {"HostUnderscore", rig_head + "    host: cam_1\n", 4, 11, "cameras[0].host",
         R"(expected a host name, or an IPv4 or IPv6 address without brackets, got "cam_1")"},
        {"HostBrackets", rig_head + "    host: \"[::1]\"\n", 4, 11, "cameras[0].host",
         R"(expected a host name, or an IPv4 or IPv6 address without brackets, got "[::1]")"},
        {"HostShortIpv4", rig_head + "    host: 127.0.0\n", 4, 11, "cameras[0].host",
         R"(expected a host name, or an IPv4 or IPv6 address without brackets, got "127.0.0")"},
        {"InterfaceTooLong", rig_head + "    interface: abcdefghijklmnop\n", 4, 16,
         "cameras[0].interface",
         R"(expected a network interface name of 1-15 characters, not "." or "..", )"
         R"(without '/', ':' or whitespace, got "abcdefghijklmnop")"},
        {"InterfaceColon", rig_head + "    interface: eth0:1\n", 4, 16, "cameras[0].interface",
         R"(expected a network interface name of 1-15 characters, not "." or "..", )"
         R"(without '/', ':' or whitespace, got "eth0:1")"},
        {"SourceAddressName", rig_head + "    source_address: localhost\n", 4, 21,
         "cameras[0].source_address", R"(expected an IPv4 or IPv6 address, got "localhost")"},
        {"OptionsIsoInvalid", rig_head + "    options:\n      iso: 7\n", 5, 12,
         "cameras[0].options.iso", R"(expected 0 (auto) or an integer 50-12800, got "7")"},

        // Credentials.
        {"AuthBothPasswords",
         rig_head + "    auth:\n      user: u\n      password: p\n      password_env: P\n", 7, 7,
         "cameras[0].auth",
         R"(expected exactly one of "password" and "password_env", got both)"},
        {"AuthNoPassword", rig_head + "    auth:\n      user: u\n", 5, 7, "cameras[0].auth",
         R"(missing required key "password" or "password_env")"},
        {"AuthNoUser", rig_head + "    auth:\n      password_env: P\n", 5, 7, "cameras[0].auth",
         R"(missing required key "user")"},
        {"AuthBadVariableName", rig_head + "    auth:\n      user: u\n      password_env: 1PASS\n",
         6, 21, "cameras[0].auth.password_env",
         "expected an environment variable name of letters, digits and '_', not starting "
         "with a digit, got \"1PASS\""},
        {"AuthEmptyPassword", rig_head + "    auth:\n      user: u\n      password: \"\"\n", 6,
         17, "cameras[0].auth.password", "expected a non-empty password"},
        {"AuthScalarHidden", rig_head + "    auth: hunter2\n", 4, 11, "cameras[0].auth",
         "expected a mapping with the keys user, password, password_env"},
        {"AuthPasswordListHidden",
         rig_head + "    auth:\n      user: u\n      password: [hunter2]\n", 6, 17,
         "cameras[0].auth.password", "expected a non-empty password"},
    };
}

// Shows the case name, not the bytes of the struct, when a case fails.
void PrintTo(const error_case& value, std::ostream* out) {
    *out << value.name;
}

class SingleError : public testing::TestWithParam<error_case> {};

TEST_P(SingleError, PositionPathAndMessage) {
    const error_case& expected = GetParam();
    const config_error error = only_error(expected.text);
    EXPECT_EQ(error.file, "rig.yaml");
    EXPECT_EQ(error.line, expected.line);
    EXPECT_EQ(error.column, expected.column);
    EXPECT_EQ(error.path, expected.path);
    EXPECT_EQ(error.message, expected.message);
}

INSTANTIATE_TEST_SUITE_P(RigErrors, SingleError, testing::ValuesIn(single_error_cases()),
                         [](const testing::TestParamInfo<error_case>& info) {
                             return info.param.name;
                         });

TEST(RigErrors, BriefFormat) {
    const config_error error = only_error(single_error_cases().front().text);
    EXPECT_EQ(error.to_string(),
              R"(rig.yaml:7:11: cameras[1].port: expected an integer 1-65535, got "eighty")");
}

TEST(RigErrors, SeveralErrorsInFileOrder) {
    const std::vector<config_error> errors = errors_of(R"(rig: r
capture:
  iso: 25
  hdx: true
cameras:
  - name: a
    port: eighty
  - name: a
    prot: 1
)");
    ASSERT_EQ(errors.size(), 5u) << describe_errors(errors);
    EXPECT_EQ(errors[0].to_string(),
              R"(rig.yaml:3:8: capture.iso: expected 0 (auto) or an integer 50-12800, got "25")");
    EXPECT_EQ(errors[1].to_string(),
              R"(rig.yaml:4:3: capture.hdx: unknown key "hdx"; did you mean "hdr"?)");
    EXPECT_EQ(errors[2].to_string(),
              R"(rig.yaml:7:11: cameras[0].port: expected an integer 1-65535, got "eighty")");
    EXPECT_EQ(errors[3].to_string(),
              R"(rig.yaml:8:11: cameras[1].name: duplicate camera name "a"; the first is on line 6)");
    EXPECT_EQ(errors[4].to_string(),
              R"(rig.yaml:9:5: cameras[1].prot: unknown key "prot"; did you mean "port"?)");
}

TEST(RigErrors, MissingRigAndCameras) {
    const std::vector<config_error> errors = errors_of("output: shots\n");
    ASSERT_EQ(errors.size(), 2u) << describe_errors(errors);
    EXPECT_EQ(errors[0].message, R"(missing required key "rig")");
    EXPECT_EQ(errors[1].message, R"(missing required key "cameras")");
}

TEST(RigErrors, EveryCameraChecked) {
    const std::vector<config_error> errors = errors_of(R"(rig: r
cameras:
  - name: a
    port: 0
  - name: b
    port: 0
  - name: c
    port: 0
)");
    ASSERT_EQ(errors.size(), 3u) << describe_errors(errors);
    EXPECT_EQ(errors[0].path, "cameras[0].port");
    EXPECT_EQ(errors[1].path, "cameras[1].port");
    EXPECT_EQ(errors[2].path, "cameras[2].port");
}

TEST(RigErrors, SecondDocumentStillChecksFirst) {
    const std::vector<config_error> errors = errors_of("rig: r\ncameras: []\n---\nrig: s\n");
    ASSERT_EQ(errors.size(), 2u) << describe_errors(errors);
    EXPECT_EQ(errors[0].path, "cameras");
    EXPECT_EQ(errors[1].message, "expected one YAML document, got a second one");
}

TEST(RigErrors, DuplicateCameraNameEachRepeat) {
    const std::vector<config_error> errors =
        errors_of("rig: r\ncameras:\n  - name: a\n  - name: a\n  - name: a\n");
    ASSERT_EQ(errors.size(), 2u) << describe_errors(errors);
    EXPECT_EQ(errors[0].line, 4);
    EXPECT_EQ(errors[0].message, R"(duplicate camera name "a"; the first is on line 3)");
    EXPECT_EQ(errors[1].line, 5);
    EXPECT_EQ(errors[1].message, R"(duplicate camera name "a"; the first is on line 3)");
}

TEST(RigErrors, PasswordNeverShown) {
    const std::vector<config_error> errors = errors_of(rig_head +
                                                       "    auth:\n"
                                                       "      user: u\n"
                                                       "      password: {hunter2: 1}\n"
                                                       "      pasword: hunter2\n");
    ASSERT_EQ(errors.size(), 2u) << describe_errors(errors);
    for (const config_error& error : errors) {
        EXPECT_EQ(error.to_string().find("hunter2"), std::string::npos) << error.to_string();
    }
}

TEST(RigErrors, LongValueShortened) {
    const config_error error = only_error(rig_head + "    host: " + std::string(300, 'x') + "_\n");
    EXPECT_LT(error.message.size(), 160u);
    EXPECT_NE(error.message.find("...\""), std::string::npos);
}

TEST(RigErrors, FileNameLabelsErrors) {
    const load_result result = parse_rig("rig: r\n", "/etc/oscrig/studio.yaml");
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].file, "/etc/oscrig/studio.yaml");
}

TEST(RigErrors, DeepNestingIsAnError) {
    const std::string nested = "rig: " + std::string(5000, '[') + std::string(5000, ']') +
                               "\ncameras:\n  - name: a\n";
    const load_result result = parse_rig(nested, "rig.yaml");
    EXPECT_FALSE(result.value.has_value());
    EXPECT_FALSE(result.errors.empty());
}

}  // namespace
}  // namespace oscrig::config
