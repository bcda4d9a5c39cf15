#include "controller/option_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace oscrig::osc {
namespace {

using nlohmann::json;

camera_info insta_info() {
    camera_info info;
    info.manufacturer = "Arashi Vision";
    info.model = "Insta360 X3";
    info.api_levels = {2};
    return info;
}

camera_info theta_info() {
    camera_info info;
    info.manufacturer = "RICOH";
    info.model = "RICOH THETA Z1";
    info.api_levels = {2};
    return info;
}

// Options as an Insta360 camera with on-device stitching reports them.
camera_options insta_options() {
    camera_options options;
    options.values = json::parse(R"({
        "captureMode": "image",
        "hdr": "off", "hdrSupport": ["off", "hdr"],
        "photoStitching": "none", "photoStitchingSupport": ["none", "ondevice"],
        "_videoType": "normal", "_videoTypeSupport": ["normal", "timelapse"],
        "_timelapseInterval": 4,
        "_timelapseIntervalSupport": [0.2, 0.5, 1, 2, 4, 10, 30, 60, 120],
        "exposureProgram": 2,
        "iso": 100, "isoSupport": [0, 100, 200, 400, 800],
        "shutterSpeed": 0.001, "shutterSpeedSupport": [0, 1, 0.5, 0.03333, 0.01666, 0.001],
        "whiteBalance": "auto", "whiteBalanceSupport": ["auto", "daylight", "cloudy-daylight"],
        "exposureDelaySupport": [0]
    })");
    return options;
}

bool was_skipped(const option_plan& plan, const std::string& name) {
    return std::any_of(plan.skipped.begin(), plan.skipped.end(),
                       [&](const option_note& note) { return note.name == name; });
}

const option_note* find_note(const std::vector<option_note>& notes, const std::string& name) {
    auto it = std::find_if(notes.begin(), notes.end(),
                           [&](const option_note& note) { return note.name == name; });
    return it == notes.end() ? nullptr : &*it;
}

TEST(OptionPlan, UnsetSettingsSendNothing) {
    auto plan = plan_options({}, insta_options(), insta_info());
    EXPECT_TRUE(plan.options.empty());
    EXPECT_TRUE(plan.skipped.empty());
    EXPECT_TRUE(plan.mode_supported);
    EXPECT_FALSE(plan.changes_capture_mode);
}

TEST(OptionPlan, PhotoSetsImageMode) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::photo;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["captureMode"], "image");
    EXPECT_TRUE(plan.mode_supported);
    EXPECT_FALSE(plan.changes_capture_mode);
}

TEST(OptionPlan, VideoOnInstaSetsNormalVideoType) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::video;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["captureMode"], "video");
    EXPECT_EQ(plan.options["_videoType"], "normal");
    EXPECT_TRUE(plan.changes_capture_mode);
}

TEST(OptionPlan, VideoOnThetaHasNoVideoType) {
    camera_options current;
    current.values =
        json::parse(R"({"captureMode":"image","captureModeSupport":["image","video"]})");
    config::capture_settings settings;
    settings.mode = config::capture_mode::video;
    auto plan = plan_options(settings, current, theta_info());
    EXPECT_EQ(plan.options["captureMode"], "video");
    EXPECT_FALSE(plan.options.contains("_videoType"));
    EXPECT_TRUE(plan.mode_supported);
}

TEST(OptionPlan, ModeMissingFromCaptureModeSupport) {
    camera_options current;
    current.values =
        json::parse(R"({"captureMode":"image","captureModeSupport":["image","interval"]})");
    config::capture_settings settings;
    settings.mode = config::capture_mode::video;
    auto plan = plan_options(settings, current, theta_info());
    EXPECT_FALSE(plan.options.contains("captureMode"));
    EXPECT_FALSE(plan.mode_supported);
    EXPECT_TRUE(was_skipped(plan, "captureMode"));
}

TEST(OptionPlan, SingleCaptureModeStillAllowed) {
    camera_options current;
    current.values = json::parse(R"({"captureMode":"image","captureModeSupport":["image"]})");
    config::capture_settings settings;
    settings.mode = config::capture_mode::photo;
    auto plan = plan_options(settings, current, theta_info());
    EXPECT_EQ(plan.options["captureMode"], "image");
    EXPECT_TRUE(plan.mode_supported);
    EXPECT_TRUE(plan.skipped.empty());
}

TEST(OptionPlan, TimelapseOnInstaPicksNearestInterval) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::timelapse;
    settings.timelapse_interval = 3.0;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["captureMode"], "video");
    EXPECT_EQ(plan.options["_videoType"], "timelapse");
    ASSERT_TRUE(plan.options.contains("_timelapseInterval"));
    // 2 and 4 are equally near; the first in the list wins.
    EXPECT_DOUBLE_EQ(plan.options["_timelapseInterval"].get<double>(), 2.0);
    const option_note* note = find_note(plan.adjusted, "_timelapseInterval");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->reason.find("nearest supported"), std::string::npos);
    EXPECT_TRUE(plan.mode_supported);
}

TEST(OptionPlan, TimelapseExactIntervalIsNotAdjusted) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::timelapse;
    settings.timelapse_interval = 0.5;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_DOUBLE_EQ(plan.options["_timelapseInterval"].get<double>(), 0.5);
    EXPECT_TRUE(plan.adjusted.empty());
}

TEST(OptionPlan, TimelapseIntervalAboveRange) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::timelapse;
    settings.timelapse_interval = 600.0;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_DOUBLE_EQ(plan.options["_timelapseInterval"].get<double>(), 120.0);
    EXPECT_NE(find_note(plan.adjusted, "_timelapseInterval"), nullptr);
}

TEST(OptionPlan, TimelapseOnThetaIsUnsupported) {
    camera_options current;
    current.values = json::parse(R"({"captureMode":"image",
        "captureModeSupport":["image","video","interval"]})");
    config::capture_settings settings;
    settings.mode = config::capture_mode::timelapse;
    settings.timelapse_interval = 5.0;
    auto plan = plan_options(settings, current, theta_info());
    EXPECT_FALSE(plan.mode_supported);
    EXPECT_TRUE(plan.options.empty());
    const option_note* note = find_note(plan.skipped, "captureMode");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->reason.find("interval"), std::string::npos);
}

TEST(OptionPlan, HdrOnInsta) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::photo;
    settings.hdr = true;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["hdr"], "hdr");

    settings.hdr = false;
    plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["hdr"], "off");
}

TEST(OptionPlan, HdrWithoutSupportListIsSkipped) {
    camera_options current;
    current.values = json::parse(R"({"captureMode":"image"})");
    config::capture_settings settings;
    settings.hdr = true;
    auto plan = plan_options(settings, current, theta_info());
    EXPECT_FALSE(plan.options.contains("hdr"));
    const option_note* note = find_note(plan.skipped, "hdr");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->reason.find("hdrSupport"), std::string::npos);
}

TEST(OptionPlan, HdrInVideoModeIsSkipped) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::video;
    settings.hdr = true;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_FALSE(plan.options.contains("hdr"));
    EXPECT_TRUE(was_skipped(plan, "hdr"));
}

TEST(OptionPlan, StitchingSentWhenSupported) {
    config::capture_settings settings;
    settings.photo_stitching = "ondevice";
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_EQ(plan.options["photoStitching"], "ondevice");
}

TEST(OptionPlan, StitchingNotSentWhenOnlyNone) {
    auto current = insta_options();
    current.values["photoStitchingSupport"] = json::array({"none"});
    for (std::string wanted : {"none", "ondevice"}) {
        config::capture_settings settings;
        settings.photo_stitching = wanted;
        auto plan = plan_options(settings, current, insta_info());
        EXPECT_FALSE(plan.options.contains("photoStitching")) << wanted;
        EXPECT_TRUE(was_skipped(plan, "photoStitching")) << wanted;
    }
}

TEST(OptionPlan, StitchingNotSentWithoutSupportList) {
    auto current = insta_options();
    current.values.erase("photoStitchingSupport");
    config::capture_settings settings;
    settings.photo_stitching = "none";
    auto plan = plan_options(settings, current, insta_info());
    EXPECT_FALSE(plan.options.contains("photoStitching"));
    EXPECT_TRUE(was_skipped(plan, "photoStitching"));
}

TEST(OptionPlan, SingleEntrySupportCannotBeSet) {
    auto current = insta_options();
    current.values["isoSupport"] = json::array({100});
    config::capture_settings settings;
    settings.iso = 100;
    auto plan = plan_options(settings, current, insta_info());
    EXPECT_FALSE(plan.options.contains("iso"));
    const option_note* note = find_note(plan.skipped, "iso");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->reason.find("one entry"), std::string::npos);
}

TEST(OptionPlan, EmptySupportCannotBeSet) {
    auto current = insta_options();
    current.values["whiteBalanceSupport"] = json::array();
    config::capture_settings settings;
    settings.white_balance = "auto";
    auto plan = plan_options(settings, current, insta_info());
    EXPECT_FALSE(plan.options.contains("whiteBalance"));
    EXPECT_TRUE(was_skipped(plan, "whiteBalance"));
}

TEST(OptionPlan, ValueNotInSupportIsReported) {
    config::capture_settings settings;
    settings.iso = 1600;
    settings.white_balance = "fluorescent";
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_FALSE(plan.options.contains("iso"));
    EXPECT_FALSE(plan.options.contains("whiteBalance"));
    const option_note* iso = find_note(plan.skipped, "iso");
    ASSERT_NE(iso, nullptr);
    EXPECT_NE(iso->reason.find("1600"), std::string::npos);
    EXPECT_TRUE(was_skipped(plan, "whiteBalance"));
}

TEST(OptionPlan, ExposureProgramWithoutSupportList) {
    config::capture_settings settings;
    settings.exposure_program = 2;
    auto plan = plan_options(settings, insta_options(), insta_info());
    EXPECT_FALSE(plan.options.contains("exposureProgram"));
    const option_note* note = find_note(plan.skipped, "exposureProgram");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->reason.find("exposureProgramSupport"), std::string::npos);
}

TEST(OptionPlan, ExposureValuesFromSupportList) {
    auto current = insta_options();
    current.values["exposureProgramSupport"] = json::array({1, 2, 4, 9});
    config::capture_settings settings;
    settings.exposure_program = 4;
    settings.iso = 0;
    settings.shutter_speed = 1.0 / 30.0;
    settings.white_balance = "daylight";
    auto plan = plan_options(settings, current, insta_info());
    EXPECT_EQ(plan.options["exposureProgram"], 4);
    EXPECT_EQ(plan.options["iso"], 0);
    // The camera's own spelling of 1/30 s is sent, so that it matches when read back.
    EXPECT_DOUBLE_EQ(plan.options["shutterSpeed"].get<double>(), 0.03333);
    EXPECT_EQ(plan.options["whiteBalance"], "daylight");
    EXPECT_TRUE(plan.skipped.empty());
}

TEST(OptionNames, InstaSessionNames) {
    auto names = session_option_names(insta_info());
    for (const char* expected :
         {"captureMode", "hdr", "hdrSupport", "photoStitchingSupport", "_videoTypeSupport",
          "_timelapseIntervalSupport", "_batteryCapacity", "_sysTimestamp", "remainingSpace"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    }
    EXPECT_EQ(std::find(names.begin(), names.end(), "captureModeSupport"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "exposureProgramSupport"), names.end());
}

TEST(OptionNames, ThetaSessionNames) {
    auto names = session_option_names(theta_info());
    EXPECT_NE(std::find(names.begin(), names.end(), "captureModeSupport"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "dateTimeZone"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "exposureProgramSupport"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "_sysTimestamp"), names.end());
    EXPECT_EQ(std::find(names.begin(), names.end(), "_batteryCapacity"), names.end());
}

TEST(OptionNames, HealthNames) {
    auto insta = health_option_names(insta_info());
    EXPECT_NE(std::find(insta.begin(), insta.end(), "_sysTimestamp"), insta.end());
    EXPECT_NE(std::find(insta.begin(), insta.end(), "remainingSpace"), insta.end());
    auto theta = health_option_names(theta_info());
    EXPECT_EQ(std::find(theta.begin(), theta.end(), "_sysTimestamp"), theta.end());
    EXPECT_NE(std::find(theta.begin(), theta.end(), "remainingSpace"), theta.end());
}

TEST(OptionNames, NamesOfOptionsObject) {
    auto names = option_names(json::parse(R"({"hdr":"hdr","captureMode":"image"})"));
    ASSERT_EQ(names.size(), 2u);
    EXPECT_NE(std::find(names.begin(), names.end(), "hdr"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "captureMode"), names.end());
}

TEST(VerifyOptions, AllTaken) {
    camera_options read_back;
    read_back.values = json::parse(R"({"hdr":"hdr","captureMode":"image","shutterSpeed":0.03333})");
    auto sent = json::parse(R"({"hdr":"hdr","captureMode":"image","shutterSpeed":0.033333})");
    EXPECT_TRUE(verify_options(sent, read_back).empty());
}

TEST(VerifyOptions, IgnoredValueIsListed) {
    camera_options read_back;
    read_back.values = json::parse(R"({"hdr":"off","captureMode":"image"})");
    auto sent = json::parse(R"({"hdr":"hdr","captureMode":"image"})");
    auto mismatches = verify_options(sent, read_back);
    ASSERT_EQ(mismatches.size(), 1u);
    EXPECT_EQ(mismatches[0].name, "hdr");
    EXPECT_EQ(mismatches[0].sent, "hdr");
    EXPECT_EQ(mismatches[0].read_back, "off");
    EXPECT_EQ(to_string(mismatches[0]), R"(hdr: sent "hdr", camera reports "off")");
}

TEST(VerifyOptions, MissingValueIsListed) {
    camera_options read_back;
    read_back.values = json::parse(R"({"captureMode":"image"})");
    auto mismatches = verify_options(json::parse(R"({"iso":200})"), read_back);
    ASSERT_EQ(mismatches.size(), 1u);
    EXPECT_EQ(mismatches[0].name, "iso");
    EXPECT_TRUE(mismatches[0].read_back.is_null());
    EXPECT_NE(to_string(mismatches[0]).find("did not report"), std::string::npos);
}

TEST(CaptureFiles, NoFilesIsFlagged) {
    auto warnings = check_capture_files({}, insta_info(), {});
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("no file"), std::string::npos);
}

TEST(CaptureFiles, StitchedHdrGivesOneImage) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::photo;
    settings.hdr = true;
    settings.photo_stitching = "ondevice";
    EXPECT_TRUE(
        check_capture_files(settings, insta_info(), {"http://127.0.0.1/IMG_1.jpg"}).empty());
    // A RAW companion does not count as an extra image.
    EXPECT_TRUE(check_capture_files(settings, insta_info(),
                                    {"http://127.0.0.1/IMG_1.jpg", "http://127.0.0.1/IMG_1.DNG"})
                    .empty());

    auto warnings = check_capture_files(
        settings, insta_info(),
        {"http://127.0.0.1/IMG_1.jpg", "http://127.0.0.1/IMG_2.jpg", "http://127.0.0.1/IMG_3.jpg"});
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("stitching was probably not done"), std::string::npos);
}

TEST(CaptureFiles, UnstitchedHdrOnInstaGivesThree) {
    config::capture_settings settings;
    settings.hdr = true;
    settings.photo_stitching = "none";
    std::vector<std::string> three = {"http://127.0.0.1/a_00.jpg", "http://127.0.0.1/b_00.jpg",
                                      "http://127.0.0.1/c_00.jpg"};
    EXPECT_TRUE(check_capture_files(settings, insta_info(), three).empty());

    auto warnings = check_capture_files(settings, insta_info(), {"http://127.0.0.1/a_00.jpg"});
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("three"), std::string::npos);

    // The three-image rule is Insta360's; other cameras are not held to it.
    EXPECT_TRUE(check_capture_files(settings, theta_info(), {"http://127.0.0.1/R1.JPG"}).empty());
}

TEST(CaptureFiles, VideoIsNotCounted) {
    config::capture_settings settings;
    settings.mode = config::capture_mode::video;
    settings.photo_stitching = "ondevice";
    EXPECT_TRUE(check_capture_files(settings, insta_info(),
                                    {"http://127.0.0.1/VID_00.mp4", "http://127.0.0.1/VID_10.mp4"})
                    .empty());
}

}  // namespace
}  // namespace oscrig::osc
