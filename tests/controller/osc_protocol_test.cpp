#include "controller/osc_protocol.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace oscrig::osc {
namespace {

using nlohmann::json;

command_reply parse_ok(int status, std::string_view body) {
    auto reply = parse_command_reply(status, body);
    EXPECT_TRUE(reply.has_value()) << (reply ? "" : reply.error().to_string());
    return reply ? *reply : command_reply{};
}

boost::system::error_code parse_error_code(int status, std::string_view body) {
    auto reply = parse_command_reply(status, body);
    EXPECT_FALSE(reply.has_value()) << "expected a failure for: " << body;
    return reply ? boost::system::error_code{} : reply.error().code;
}

TEST(OscRequestBodies, ExecuteWithoutParameters) {
    json body = json::parse(make_execute_body("camera.takePicture"));
    EXPECT_EQ(body["name"], "camera.takePicture");
    EXPECT_FALSE(body.contains("parameters"));
}

TEST(OscRequestBodies, ExecuteWithParameters) {
    json parameters = {{"optionNames", {"iso", "isoSupport"}}};
    json body = json::parse(make_execute_body("camera.getOptions", parameters));
    EXPECT_EQ(body["name"], "camera.getOptions");
    EXPECT_EQ(body["parameters"], parameters);
}

TEST(OscRequestBodies, StatusBody) {
    json body = json::parse(make_status_body("001996"));
    EXPECT_EQ(body, json({{"id", "001996"}}));
}

TEST(OscCommandReply, ErrorWithoutNameOrState) {
    auto reply = parse_ok(200, R"({"error":{"code":"invalidParameterName",
        "message":"Parameter options contains unsupported option captureInterval."}})");
    EXPECT_EQ(reply.state, command_state::error);
    EXPECT_TRUE(reply.name.empty());
    ASSERT_TRUE(reply.error.has_value());
    EXPECT_EQ(reply.error->code, "invalidParameterName");
    EXPECT_EQ(reply.error->message,
              "Parameter options contains unsupported option captureInterval.");
}

TEST(OscCommandReply, ErrorCodeWithTrailingSpace) {
    auto reply = parse_ok(200, R"({"name":"camera.getOptions","state":"error",
        "error":{"code":"invalidParameterName ","message":"parameter is not supported."}})");
    ASSERT_TRUE(reply.error.has_value());
    EXPECT_EQ(reply.error->code, "invalidParameterName");
    EXPECT_EQ(classify_camera_error(reply.error->code), errc::unsupported);
}

TEST(OscCommandReply, Http400WithOscErrorBody) {
    auto reply = parse_ok(400, R"({"name":"camera.takePicture","state":"error",
        "error":{"code":"disabledCommand",
                 "message":"Currently camera is not working in image mode"}})");
    EXPECT_EQ(reply.state, command_state::error);
    EXPECT_EQ(reply.name, "camera.takePicture");
    ASSERT_TRUE(reply.error.has_value());
    EXPECT_EQ(reply.error->code, "disabledCommand");
}

TEST(OscCommandReply, RicohStatusWithOscErrorBody) {
    for (int status : {403, 404, 503}) {
        auto reply = parse_ok(status, R"({"name":"camera.startCapture","state":"error",
            "error":{"code":"serviceUnavailable","message":"busy"}})");
        EXPECT_EQ(reply.state, command_state::error) << status;
        ASSERT_TRUE(reply.error.has_value()) << status;
        EXPECT_EQ(reply.error->code, "serviceUnavailable") << status;
    }
}

TEST(OscCommandReply, ServerErrorWithoutJson) {
    auto code = parse_error_code(503, "<html><body>Service Unavailable</body></html>");
    EXPECT_EQ(code, make_error_code(errc::http_status));
}

TEST(OscCommandReply, ServerErrorWithEmptyBody) {
    auto code = parse_error_code(500, "");
    EXPECT_EQ(code, make_error_code(errc::http_status));
}

TEST(OscCommandReply, ClientErrorWithJsonWithoutError) {
    auto reply = parse_command_reply(404, R"({"message":"not found"})");
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(reply.error().code, make_error_code(errc::http_status));
    EXPECT_NE(reply.error().detail.find("404"), std::string::npos);
}

TEST(OscCommandReply, EmptyBody) {
    EXPECT_EQ(parse_error_code(200, ""), make_error_code(errc::empty_body));
    EXPECT_EQ(parse_error_code(200, "  \r\n"), make_error_code(errc::empty_body));
}

TEST(OscCommandReply, BodyNotJson) {
    auto reply = parse_command_reply(200, "{\"name\": \"camera.takePicture\", ");
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(reply.error().code, make_error_code(errc::malformed_reply));
    EXPECT_NE(reply.error().detail.find("not JSON"), std::string::npos);
}

TEST(OscCommandReply, JsonThatIsNotAnObject) {
    EXPECT_EQ(parse_error_code(200, "[1, 2]"), make_error_code(errc::malformed_reply));
}

TEST(OscCommandReply, UnknownState) {
    EXPECT_EQ(parse_error_code(200, R"({"name":"camera.takePicture","state":"waiting"})"),
              make_error_code(errc::malformed_reply));
}

TEST(OscCommandReply, InProgressWithCompletion) {
    auto reply = parse_ok(200, R"({"name":"camera.takePicture","state":"inProgress",
        "id":"001996","progress":{"completion":0.5}})");
    EXPECT_EQ(reply.state, command_state::in_progress);
    EXPECT_EQ(reply.id, "001996");
    ASSERT_TRUE(reply.completion.has_value());
    EXPECT_DOUBLE_EQ(*reply.completion, 0.5);
    EXPECT_TRUE(reply.file_urls().empty());
}

TEST(OscCommandReply, InProgressWithNumericId) {
    auto reply = parse_ok(200, R"({"name":"camera.takePicture","state":"inProgress","id":2792})");
    EXPECT_EQ(reply.id, "2792");
    EXPECT_FALSE(reply.completion.has_value());
}

TEST(OscCommandReply, InProgressWithoutId) {
    EXPECT_EQ(parse_error_code(200, R"({"name":"camera.takePicture","state":"inProgress"})"),
              make_error_code(errc::malformed_reply));
}

TEST(OscCommandReply, DoneWithFileUrl) {
    auto reply = parse_ok(200, R"({"name":"camera.takePicture","state":"done",
        "results":{"fileUrl":"http://127.0.0.1/100RICOH/R0013308.JPG"}})");
    EXPECT_EQ(reply.state, command_state::done);
    EXPECT_EQ(reply.file_urls(),
              std::vector<std::string>{"http://127.0.0.1/100RICOH/R0013308.JPG"});
}

TEST(OscCommandReply, DoneWithFileGroup) {
    auto reply = parse_ok(200, R"({"name":"camera.takePicture","state":"done","results":{
        "_fileGroup":["http://127.0.0.1/DCIM/IMG_00_042.jpg","http://127.0.0.1/DCIM/IMG_00_043.jpg",
                      "http://127.0.0.1/DCIM/IMG_00_044.jpg"],
        "_localFileGroup":["/DCIM/IMG_00_042.jpg"],
        "fileUrl":"http://127.0.0.1/DCIM/IMG_00_042.jpg"}})");
    auto urls = reply.file_urls();
    ASSERT_EQ(urls.size(), 3u);
    EXPECT_EQ(urls[0], "http://127.0.0.1/DCIM/IMG_00_042.jpg");
    EXPECT_EQ(urls[1], "http://127.0.0.1/DCIM/IMG_00_043.jpg");
    EXPECT_EQ(urls[2], "http://127.0.0.1/DCIM/IMG_00_044.jpg");
}

TEST(OscCommandReply, DoneWithFileUrls) {
    auto reply = parse_ok(200, R"({"name":"camera.stopCapture","state":"done","results":{
        "fileUrls":["http://127.0.0.1/DCIM/VID_10_005.mp4","http://127.0.0.1/DCIM/VID_00_005.mp4"],
        "_localFileUrls":["/DCIM/VID_10_005.mp4","/DCIM/VID_00_005.mp4"]}})");
    auto urls = reply.file_urls();
    ASSERT_EQ(urls.size(), 2u);
    EXPECT_EQ(urls[0], "http://127.0.0.1/DCIM/VID_10_005.mp4");
    EXPECT_EQ(urls[1], "http://127.0.0.1/DCIM/VID_00_005.mp4");
}

TEST(OscCommandReply, DoneWithVendorFileUrlsInResults) {
    auto reply = parse_ok(200, R"({"name":"camera.stopCapture","state":"done",
        "results":{"_fileUrls":["http://127.0.0.1/a.MP4"]}})");
    EXPECT_EQ(reply.file_urls(), std::vector<std::string>{"http://127.0.0.1/a.MP4"});
}

TEST(OscCommandReply, TopLevelFileUrlsFromTheta) {
    auto reply = parse_ok(200, R"({"_fileUrls":["http://127.0.0.1/files/100RICOH/R0010429.MP4"],
        "id":"154","name":"camera.startCapture","state":"done"})");
    EXPECT_EQ(reply.state, command_state::done);
    EXPECT_EQ(reply.id, "154");
    EXPECT_EQ(reply.file_urls(),
              std::vector<std::string>{"http://127.0.0.1/files/100RICOH/R0010429.MP4"});
}

TEST(OscCommandReply, FileUrlsWithoutRepeats) {
    auto reply = parse_ok(200, R"({"state":"done","results":{"fileUrl":"http://127.0.0.1/x.jpg",
        "_fileGroup":["http://127.0.0.1/x.jpg", ""], "fileUrls":["http://127.0.0.1/x.dng"]}})");
    auto urls = reply.file_urls();
    ASSERT_EQ(urls.size(), 2u);
    EXPECT_EQ(urls[0], "http://127.0.0.1/x.jpg");
    EXPECT_EQ(urls[1], "http://127.0.0.1/x.dng");
}

TEST(OscCommandReply, SetOptionsDoneWithoutResults) {
    auto reply = parse_ok(200, R"({"name":"camera.setOptions","state":"done"})");
    EXPECT_EQ(reply.state, command_state::done);
    EXPECT_EQ(reply.name, "camera.setOptions");
    EXPECT_TRUE(reply.results.is_null());
    EXPECT_FALSE(reply.error.has_value());
}

TEST(OscCommandReply, ResultsWithoutState) {
    auto reply =
        parse_ok(200, R"({"results":{"options":{"photoStitchingSupport":["none","ondevice"],
        "photoStitching":"none"}}})");
    EXPECT_EQ(reply.state, command_state::done);
    EXPECT_TRUE(reply.results.contains("options"));
}

TEST(OscCommandReply, ErrorStateWithoutErrorObject) {
    auto reply = parse_ok(200, R"({"name":"camera.delete","state":"error"})");
    EXPECT_EQ(reply.state, command_state::error);
    ASSERT_TRUE(reply.error.has_value());
    EXPECT_TRUE(reply.error->code.empty());
}

TEST(OscCameraError, Classification) {
    EXPECT_EQ(classify_camera_error("unactivated"), errc::unactivated);
    EXPECT_EQ(classify_camera_error("disabledCommand"), errc::disabled_command);
    EXPECT_EQ(classify_camera_error("unknownCommand"), errc::unsupported);
    EXPECT_EQ(classify_camera_error("missingParameter"), errc::unsupported);
    EXPECT_EQ(classify_camera_error("invalidParameterName"), errc::unsupported);
    EXPECT_EQ(classify_camera_error("invalidParameterValue"), errc::unsupported);
    EXPECT_EQ(classify_camera_error(" invalidParameterName \n"), errc::unsupported);
    EXPECT_EQ(classify_camera_error("serviceUnavailable"), errc::camera_error);
    EXPECT_EQ(classify_camera_error("canceledShooting"), errc::camera_error);
    EXPECT_EQ(classify_camera_error(""), errc::camera_error);
}

TEST(OscInfo, InstaInfo) {
    auto info = parse_info(200, R"({"manufacturer":"Arashi Vision","model":"Insta360 One2",
        "serialNumber":"IXE3619AYS76P6","firmwareVersion":"v1.18.43","uptime":48,
        "apiLevel":[2],"_vendorVersion":"v1.1_build1"})");
    ASSERT_TRUE(info.has_value()) << info.error().to_string();
    EXPECT_EQ(info->manufacturer, "Arashi Vision");
    EXPECT_EQ(info->model, "Insta360 One2");
    EXPECT_EQ(info->serial_number, "IXE3619AYS76P6");
    EXPECT_EQ(info->firmware_version, "v1.18.43");
    EXPECT_EQ(info->api_levels, std::vector<int>{2});
    EXPECT_EQ(info->uptime_seconds, 48);
    EXPECT_TRUE(info->is_insta360());
    EXPECT_FALSE(info->is_ricoh());
    EXPECT_EQ(info->raw["_vendorVersion"], "v1.1_build1");
}

TEST(OscInfo, MissingApiLevelMeansLevelOne) {
    auto info = parse_info(200, R"({"manufacturer":"RICOH","model":"RICOH THETA S"})");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->api_levels, std::vector<int>{1});
    EXPECT_FALSE(info->uptime_seconds.has_value());
    EXPECT_TRUE(info->is_ricoh());
    EXPECT_FALSE(info->is_insta360());
}

TEST(OscInfo, InstaByModelName) {
    auto info = parse_info(200, R"({"manufacturer":"","model":"Insta360 X3"})");
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->is_insta360());
}

TEST(OscInfo, RejectsJsonWithoutManufacturerOrModel) {
    auto info = parse_info(200, R"({"status":"ok"})");
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, make_error_code(errc::malformed_reply));
}

TEST(OscInfo, Failures) {
    auto empty = parse_info(200, "");
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, make_error_code(errc::empty_body));

    auto not_json = parse_info(200, "OK");
    ASSERT_FALSE(not_json.has_value());
    EXPECT_EQ(not_json.error().code, make_error_code(errc::malformed_reply));

    auto unavailable = parse_info(503, "");
    ASSERT_FALSE(unavailable.has_value());
    EXPECT_EQ(unavailable.error().code, make_error_code(errc::http_status));

    auto camera = parse_info(403, R"({"error":{"code":"unactivated","message":"activate"}})");
    ASSERT_FALSE(camera.has_value());
    EXPECT_EQ(camera.error().code, make_error_code(errc::unactivated));
    EXPECT_NE(camera.error().detail.find("activate"), std::string::npos);
}

TEST(OscState, InstaState) {
    auto state = parse_state(200, R"({"fingerprint":"FPR_52923","state":{"_cardState":"pass",
        "batteryLevel":1,"storageUri":"http://127.0.0.1:80/DCIM/Camera01/"}})");
    ASSERT_TRUE(state.has_value()) << state.error().to_string();
    EXPECT_EQ(state->fingerprint, "FPR_52923");
    ASSERT_TRUE(state->battery_level.has_value());
    EXPECT_DOUBLE_EQ(*state->battery_level, 1.0);
    EXPECT_EQ(state->storage_uri, "http://127.0.0.1:80/DCIM/Camera01/");
    EXPECT_EQ(state->card_state, "pass");
    EXPECT_TRUE(state->capture_status.empty());
    EXPECT_FALSE(state->api_version.has_value());
}

TEST(OscState, RicohState) {
    auto state = parse_state(200, R"({"fingerprint":"FIG_0002","state":{"batteryLevel":0.67,
        "_captureStatus":"shooting","_batteryState":"charging","_apiVersion":1}})");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->capture_status, "shooting");
    EXPECT_EQ(state->battery_state, "charging");
    EXPECT_EQ(state->api_version, 1);
    ASSERT_TRUE(state->battery_level.has_value());
    EXPECT_DOUBLE_EQ(*state->battery_level, 0.67);
    EXPECT_TRUE(state->card_state.empty());
}

TEST(OscState, MissingStateObject) {
    auto state = parse_state(200, R"({"fingerprint":"FIG_0002"})");
    ASSERT_FALSE(state.has_value());
    EXPECT_EQ(state.error().code, make_error_code(errc::malformed_reply));
}

TEST(OscOptions, UnwrapsSelfNamedObjects) {
    auto reply = parse_ok(200, R"({"name":"camera.getOptions","state":"done","results":{"options":{
        "_MuteEnable":{"_MuteEnable":0},"_topBottomCorrection":{"_topBottomCorrection":1},
        "_batteryCapacity":{"powerType":1,"powerLevel":100},"hdr":"off"}}})");
    auto options = options_from_reply(reply);
    ASSERT_TRUE(options.has_value()) << options.error().to_string();
    EXPECT_EQ(options->values["_MuteEnable"], 0);
    EXPECT_EQ(options->values["_topBottomCorrection"], 1);
    // An object with other keys is a value, not a wrapper.
    EXPECT_TRUE(options->values["_batteryCapacity"].is_object());
    EXPECT_EQ(options->values["hdr"], "off");
}

TEST(OscOptions, Accessors) {
    auto reply = parse_ok(200, R"({"state":"done","results":{"options":{
        "totalSpace":64000000000,"remainingSpace":12345678901,
        "_batteryCapacity":{"powerType":0,"powerLevel":87},"_sysTimestamp":60427274,
        "isoSupport":[0,100,200],"captureIntervalSupport":{"minInterval":3,"maxInterval":120}}}})");
    auto options = options_from_reply(reply);
    ASSERT_TRUE(options.has_value());
    EXPECT_EQ(options->total_space(), 64000000000u);
    EXPECT_EQ(options->remaining_space(), 12345678901u);
    EXPECT_EQ(options->battery_percent(), 87);
    EXPECT_EQ(options->charging(), false);
    EXPECT_EQ(options->sys_timestamp_us(), 60427274);
    EXPECT_EQ(options->supported_values("iso"), json::parse("[0,100,200]"));
    EXPECT_EQ(options->supported_values("whiteBalance"), json::array());
    EXPECT_EQ(options->supported_values("captureInterval"), json::array());
}

TEST(OscOptions, AccessorsWhenMissing) {
    camera_options options;
    options.values = json::object();
    EXPECT_FALSE(options.total_space().has_value());
    EXPECT_FALSE(options.remaining_space().has_value());
    EXPECT_FALSE(options.battery_percent().has_value());
    EXPECT_FALSE(options.charging().has_value());
    EXPECT_FALSE(options.sys_timestamp_us().has_value());
}

TEST(OscOptions, ChargingWhenPowerTypeOne) {
    camera_options options;
    options.values = json::parse(R"({"_batteryCapacity":{"powerType":1,"powerLevel":100}})");
    EXPECT_EQ(options.charging(), true);
    EXPECT_EQ(options.battery_percent(), 100);
}

TEST(OscOptions, ErrorReplyFails) {
    auto reply = parse_ok(200, R"({"name":"camera.getOptions","state":"error",
        "error":{"code":"invalidParameterName ","message":"parameter is not supported."}})");
    auto options = options_from_reply(reply);
    ASSERT_FALSE(options.has_value());
    EXPECT_EQ(options.error().code, make_error_code(errc::unsupported));
    EXPECT_NE(options.error().detail.find("invalidParameterName"), std::string::npos);
}

TEST(OscOptions, DoneWithoutOptionsFails) {
    auto reply = parse_ok(200, R"({"name":"camera.getOptions","state":"done","results":{}})");
    auto options = options_from_reply(reply);
    ASSERT_FALSE(options.has_value());
    EXPECT_EQ(options.error().code, make_error_code(errc::malformed_reply));
}

TEST(OscListFiles, EntriesAndTotal) {
    auto reply = parse_ok(200, R"({"name":"camera.listFiles","state":"done","results":{
        "entries":[{"name":"IMG_006.jpg","fileUrl":"http://127.0.0.1/DCIM/IMG_006.jpg",
        "size":4494224,"dateTimeZone":"2018:01:06 18:02:14+08:00","thumbnail":"/9j/2wCEAAI"},
        {"name":"no-url.jpg"}],"totalEntries":3}})");
    auto list = file_list_from_reply(reply);
    ASSERT_TRUE(list.has_value()) << list.error().to_string();
    ASSERT_EQ(list->entries.size(), 1u);
    const auto& entry = list->entries[0];
    EXPECT_EQ(entry.name, "IMG_006.jpg");
    EXPECT_EQ(entry.file_url, "http://127.0.0.1/DCIM/IMG_006.jpg");
    EXPECT_EQ(entry.size, 4494224u);
    EXPECT_EQ(entry.date_time_zone, "2018:01:06 18:02:14+08:00");
    EXPECT_EQ(entry.thumbnail_base64, "/9j/2wCEAAI");
    EXPECT_EQ(list->total_entries, 3);
}

TEST(OscListFiles, ErrorReplyFails) {
    auto reply = parse_ok(400, R"({"name":"camera.listFiles","state":"error",
        "error":{"code":"invalidParameterValue","message":"bad entryCount"}})");
    auto list = file_list_from_reply(reply);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code, make_error_code(errc::unsupported));
}

TEST(OscListFiles, InProgressFails) {
    auto reply = parse_ok(200, R"({"name":"camera.listFiles","state":"inProgress","id":"7"})");
    auto list = file_list_from_reply(reply);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().code, make_error_code(errc::malformed_reply));
}

// Replies of RICOH THETA cameras, read from the sample folder when it is present.
class ThetaFixtures : public ::testing::Test {
  protected:
    static std::filesystem::path folder() {
        return std::filesystem::path(OSCRIG_FIXTURES_DIR) / "theta";
    }

    static std::string read_file(const std::filesystem::path& path) {
        std::ifstream stream(path, std::ios::binary);
        std::ostringstream text;
        text << stream.rdbuf();
        return text.str();
    }
};

TEST_F(ThetaFixtures, EveryFileParses) {
    if (!std::filesystem::is_directory(folder())) {
        GTEST_SKIP() << "THETA sample folder " << folder() << " is missing";
    }
    int info_files = 0;
    int state_files = 0;
    int option_files = 0;
    int list_files = 0;
    int command_files = 0;

    for (const auto& item : std::filesystem::recursive_directory_iterator(folder())) {
        if (!item.is_regular_file() || item.path().extension() != ".json") {
            continue;
        }
        const auto& path = item.path();
        std::string kind = path.parent_path().filename().string();
        std::string stem = path.stem().string();
        std::string body = read_file(path);
        SCOPED_TRACE(path.string());
        json document = json::parse(body);

        if (kind == "info") {
            auto info = parse_info(200, body);
            ASSERT_TRUE(info.has_value()) << info.error().to_string();
            EXPECT_TRUE(info->is_ricoh());
            EXPECT_EQ(info->model, document["model"]);
            EXPECT_EQ(info->serial_number, document["serialNumber"]);
            EXPECT_EQ(info->firmware_version, document["firmwareVersion"]);
            EXPECT_FALSE(info->api_levels.empty());
            ++info_files;
            continue;
        }
        if (kind == "state" || stem.starts_with("state_")) {
            auto state = parse_state(200, body);
            ASSERT_TRUE(state.has_value()) << state.error().to_string();
            EXPECT_EQ(state->fingerprint, document["fingerprint"]);
            EXPECT_EQ(state->capture_status, document["state"]["_captureStatus"]);
            EXPECT_EQ(state->battery_state, document["state"]["_batteryState"]);
            EXPECT_EQ(state->api_version, document["state"]["_apiVersion"].get<int>());
            ASSERT_TRUE(state->battery_level.has_value());
            EXPECT_DOUBLE_EQ(*state->battery_level,
                             document["state"]["batteryLevel"].get<double>());
            ++state_files;
            continue;
        }

        auto reply = parse_command_reply(200, body);
        ASSERT_TRUE(reply.has_value()) << reply.error().to_string();
        if (document.contains("error")) {
            EXPECT_EQ(reply->state, command_state::error);
            ASSERT_TRUE(reply->error.has_value());
            EXPECT_EQ(reply->error->code, document["error"]["code"]);
            EXPECT_EQ(reply->error->message, document["error"]["message"]);
            ++command_files;
            continue;
        }
        if (kind == "getOptions") {
            auto options = options_from_reply(*reply);
            ASSERT_TRUE(options.has_value()) << options.error().to_string();
            EXPECT_EQ(options->values, document["results"]["options"]);
            ++option_files;
            continue;
        }
        if (kind == "listFiles") {
            auto list = file_list_from_reply(*reply);
            ASSERT_TRUE(list.has_value()) << list.error().to_string();
            const auto& entries = document["results"]["entries"];
            ASSERT_EQ(list->entries.size(), entries.size());
            for (std::size_t i = 0; i < entries.size(); ++i) {
                EXPECT_EQ(list->entries[i].file_url, entries[i]["fileUrl"]);
                EXPECT_EQ(list->entries[i].name, entries[i]["name"]);
                EXPECT_EQ(list->entries[i].size, entries[i]["size"].get<std::uint64_t>());
            }
            EXPECT_EQ(list->total_entries, document["results"]["totalEntries"].get<long>());
            ++list_files;
            continue;
        }

        // takePicture and startCapture/stopCapture replies.
        EXPECT_EQ(reply->name, document["name"]);
        if (document["state"] == "inProgress") {
            EXPECT_EQ(reply->state, command_state::in_progress);
            EXPECT_EQ(reply->id, document["id"]);
            EXPECT_TRUE(reply->completion.has_value());
        } else {
            EXPECT_EQ(reply->state, command_state::done);
            EXPECT_FALSE(reply->file_urls().empty());
        }
        ++command_files;
    }

    EXPECT_GT(info_files, 0);
    EXPECT_GT(state_files, 0);
    EXPECT_GT(option_files, 0);
    EXPECT_GT(list_files, 0);
    EXPECT_GT(command_files, 0);
}

TEST_F(ThetaFixtures, StartCaptureTopLevelFileUrls) {
    auto path = folder() / "VideoCapture" / "start_capture_done.json";
    if (!std::filesystem::exists(path)) {
        GTEST_SKIP() << "THETA sample " << path << " is missing";
    }
    auto reply = parse_command_reply(200, read_file(path));
    ASSERT_TRUE(reply.has_value());
    auto urls = reply->file_urls();
    ASSERT_EQ(urls.size(), 1u);
    EXPECT_TRUE(urls[0].ends_with("R0010429.MP4"));
}

}  // namespace
}  // namespace oscrig::osc
