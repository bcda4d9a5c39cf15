// The dashboard server over real loopback sockets, driven by an in-memory fleet.
#include "dashboard/server.hpp"

#include "test_fleet.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

namespace oscrig::dashboard {
namespace {

using namespace std::chrono_literals;
using testing::event_loop;
using testing::http_request;
using testing::ready_camera;
using testing::test_connection;
using testing::test_fleet;

class server_test : public ::testing::Test {
protected:
    void SetUp() override {
        fleet_.camera_list = {ready_camera("cam1", 20001), ready_camera("cam2", 20002)};
    }

    void TearDown() override {
        loop_.call([&] { server_.reset(); });
        loop_.stop();
    }

    void start(server_settings settings = {}) {
        settings.port = 0;
        server_ = std::make_unique<server>(loop_.context().get_executor(), fleet_, settings);
        server_->start();
        port_ = server_->port();
        loop_.run();
    }

    /// Changes the fleet on the event loop and fires its change listeners.
    void change(const std::function<void(test_fleet&)>& edit) {
        loop_.call([&] {
            edit(fleet_);
            fleet_.notify();
        });
    }

    testing::http_result get(const std::string& target) {
        return http_request(port_, "GET", target);
    }

    event_loop loop_;
    test_fleet fleet_;
    std::unique_ptr<server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(server_test, healthy_while_running) {
    start();
    const auto reply = get("/-/healthy");
    EXPECT_EQ(reply.status, 200u);
}

TEST_F(server_test, ready_after_every_camera_was_tried) {
    fleet_.camera_list[1].state = controller::camera_state::connecting;
    start();
    EXPECT_EQ(get("/-/ready").status, 503u);

    change([](test_fleet& fleet) {
        fleet.camera("cam2").state = controller::camera_state::unreachable;
    });
    EXPECT_EQ(get("/-/ready").status, 200u);
}

TEST_F(server_test, ready_check_from_settings_decides) {
    bool ready = false;
    server_settings settings;
    settings.ready_check = [&] { return ready; };
    start(settings);
    EXPECT_EQ(get("/-/ready").status, 503u);
    loop_.call([&] { ready = true; });
    EXPECT_EQ(get("/-/ready").status, 200u);
}

TEST_F(server_test, rejects_public_address_without_token) {
    server_settings settings;
    settings.address = "0.0.0.0";
    settings.port = 0;
    EXPECT_THROW(server(loop_.context().get_executor(), fleet_, settings), std::invalid_argument);

    settings.address = "::";
    EXPECT_THROW(server(loop_.context().get_executor(), fleet_, settings), std::invalid_argument);

    settings.address = "192.0.2.1";  // TEST-NET-1, rejected before any bind
    EXPECT_THROW(server(loop_.context().get_executor(), fleet_, settings), std::invalid_argument);

    settings.address = "127.0.0.1";
    EXPECT_NO_THROW(server(loop_.context().get_executor(), fleet_, settings));
    settings.address = "::1";
    settings.bearer_token = "secret";
    EXPECT_NO_THROW(server(loop_.context().get_executor(), fleet_, settings));
}

TEST_F(server_test, rejection_message_names_fix) {
    server_settings settings;
    settings.address = "0.0.0.0";
    settings.port = 0;
    try {
        server rejected(loop_.context().get_executor(), fleet_, settings);
        FAIL() << "construction on 0.0.0.0 without a token succeeded";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("0.0.0.0"), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("token"), std::string::npos);
    }
}

TEST_F(server_test, rejects_invalid_address) {
    server_settings settings;
    settings.address = "localhost:80";
    settings.port = 0;
    EXPECT_THROW(server(loop_.context().get_executor(), fleet_, settings), std::invalid_argument);
}

TEST_F(server_test, serves_page_and_assets) {
    start();
    const auto page = get("/");
    EXPECT_EQ(page.status, 200u);
    EXPECT_NE(page.body.find("<script src=\"/page.js\">"), std::string::npos);
    EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"),
              std::string::npos);
    EXPECT_EQ(get("/page.js").status, 200u);
    EXPECT_EQ(get("/page.css").status, 200u);
    // No external resources: the page references nothing outside this server.
    EXPECT_EQ(page.body.find("http://"), std::string::npos);
    EXPECT_EQ(page.body.find("https://"), std::string::npos);
}

TEST_F(server_test, camera_strings_escaped_in_json) {
    const std::string hostile = "<script>alert(\"x\")</script>'&";
    fleet_.camera_list[0].reason = hostile;
    fleet_.camera_list[0].model = hostile;
    start();
    const auto reply = get("/api/cameras");
    ASSERT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.header("Content-Type"), "application/json");
    EXPECT_EQ(reply.body.find("<script>"), std::string::npos);
    EXPECT_EQ(reply.body.find('<'), std::string::npos);
    EXPECT_NE(reply.body.find("\\u003cscript\\u003ealert(\\\"x\\\")"), std::string::npos);

    const auto json = nlohmann::json::parse(reply.body);
    EXPECT_EQ(json["cameras"][0]["reason"], hostile);
    EXPECT_EQ(json["cameras"][0]["model"], hostile);
}

TEST_F(server_test, invalid_utf8_from_camera_still_serializes) {
    fleet_.camera_list[0].reason = "bad \xff byte";
    start();
    const auto reply = get("/api/cameras");
    ASSERT_EQ(reply.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(reply.body)["cameras"][0]["reason"], "bad \xEF\xBF\xBD byte");
}

TEST_F(server_test, cameras_api_lists_fields) {
    fleet_.camera_list[0].last_thumbnail_base64 = "/9j/4AAQ";
    start();
    const auto json = nlohmann::json::parse(get("/api/cameras").body);
    ASSERT_EQ(json["cameras"].size(), 2u);
    const auto& camera = json["cameras"][0];
    EXPECT_EQ(json["rig"], "test-rig");
    EXPECT_EQ(camera["name"], "cam1");
    EXPECT_EQ(camera["state"], "ready");
    EXPECT_DOUBLE_EQ(camera["battery_ratio"].get<double>(), 0.8);
    EXPECT_EQ(camera["remaining_bytes"], 50'000'000'000u);
    EXPECT_EQ(camera["thumbnail_jpeg_base64"], "/9j/4AAQ");
    EXPECT_TRUE(json["cameras"][1]["thumbnail_jpeg_base64"].get<std::string>().empty());
}

TEST_F(server_test, post_needs_token_when_set) {
    server_settings settings;
    settings.bearer_token = "s3cret";
    start(settings);

    const auto without = http_request(port_, "POST", "/api/shots", R"({"mode":"photo"})");
    EXPECT_EQ(without.status, 401u);
    EXPECT_EQ(without.header("WWW-Authenticate"), "Bearer realm=\"oscrig\"");
    EXPECT_TRUE(fleet_.shot_requests.empty());

    const auto wrong = http_request(port_, "POST", "/api/shots", R"({"mode":"photo"})",
                                    {{"Authorization", "Bearer s3cre"}});
    EXPECT_EQ(wrong.status, 401u);
    const auto stop_without = http_request(port_, "POST", "/api/recording/stop");
    EXPECT_EQ(stop_without.status, 401u);

    const auto with = http_request(port_, "POST", "/api/shots", R"({"mode":"photo"})",
                                   {{"Authorization", "Bearer s3cret"}});
    EXPECT_EQ(with.status, 202u);
    EXPECT_EQ(nlohmann::json::parse(with.body)["shot_id"], "shot-1");
    EXPECT_EQ(with.header("Location"), "/api/shots/shot-1");
    loop_.call([&] { EXPECT_EQ(fleet_.shot_requests.size(), 1u); });

    // Reading needs no token.
    EXPECT_EQ(get("/api/cameras").status, 200u);
}

TEST_F(server_test, post_from_other_origin_rejected) {
    start();
    const auto reply = http_request(port_, "POST", "/api/shots", "{}",
                                    {{"Origin", "http://evil.example"}});
    EXPECT_EQ(reply.status, 403u);
    const auto same = http_request(port_, "POST", "/api/shots", "{}",
                                   {{"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
    EXPECT_EQ(same.status, 202u);
}

TEST_F(server_test, shot_request_fields_reach_fleet) {
    start();
    const auto reply = http_request(port_, "POST", "/api/shots",
                                    R"({"mode":"video","duration_ms":3000,"sync":"none"})");
    ASSERT_EQ(reply.status, 202u);
    loop_.call([&] {
        ASSERT_EQ(fleet_.shot_requests.size(), 1u);
        const auto& request = fleet_.shot_requests[0];
        EXPECT_EQ(request.mode, config::capture_mode::video);
        ASSERT_TRUE(request.duration.has_value());
        EXPECT_EQ(request.duration->count(), 3000);
        EXPECT_EQ(request.sync, config::sync_method::none);
    });
}

TEST_F(server_test, invalid_shot_requests_get_400) {
    start();
    for (const std::string body : {R"({"mode":"panorama"})", R"([1,2])", "{not json",
                                   R"({"mode":"video","duration_ms":-5})",
                                   R"({"mode":"video","duration_ms":"3000"})",
                                   R"({"mode":"photo","duration_ms":3000})",
                                   R"({"mode":"photo","extra":1})", R"({"sync":"later"})"}) {
        const auto reply = http_request(port_, "POST", "/api/shots", body);
        EXPECT_EQ(reply.status, 400u) << body;
        EXPECT_TRUE(nlohmann::json::parse(reply.body).contains("error")) << body;
    }
    loop_.call([&] { EXPECT_TRUE(fleet_.shot_requests.empty()); });
}

TEST_F(server_test, second_shot_while_running_gets_409) {
    start();
    EXPECT_EQ(http_request(port_, "POST", "/api/shots", R"({"mode":"video"})").status, 202u);
    const auto busy = http_request(port_, "POST", "/api/shots", R"({"mode":"photo"})");
    EXPECT_EQ(busy.status, 409u);
    EXPECT_NE(nlohmann::json::parse(busy.body)["error"].get<std::string>().find("shot-1"),
              std::string::npos);

    EXPECT_EQ(http_request(port_, "POST", "/api/recording/stop").status, 200u);
    loop_.call([&] { EXPECT_EQ(fleet_.stop_requests, 1); });
}

TEST_F(server_test, stop_without_recording_gets_409) {
    start();
    EXPECT_EQ(http_request(port_, "POST", "/api/recording/stop").status, 409u);
}

TEST_F(server_test, current_shot_and_history) {
    start();
    EXPECT_EQ(get("/api/current-shot").status, 404u);
    EXPECT_EQ(get("/api/shots/shot-1").status, 404u);

    ASSERT_EQ(http_request(port_, "POST", "/api/shots", "").status, 202u);
    const auto current = get("/api/current-shot");
    ASSERT_EQ(current.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(current.body)["shot_id"], "shot-1");

    change([](test_fleet& fleet) { fleet.finish_current_shot(); });
    EXPECT_EQ(get("/api/current-shot").status, 404u);
    const auto shots = nlohmann::json::parse(get("/api/shots").body);
    ASSERT_EQ(shots["shots"].size(), 1u);
    EXPECT_EQ(shots["shots"][0]["shot_id"], "shot-1");
    EXPECT_EQ(shots["shots"][0]["cameras"].size(), 2u);

    const auto detail = get("/api/shots/shot-1");
    ASSERT_EQ(detail.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(detail.body)["shot_id"], "shot-1");
}

TEST_F(server_test, unknown_path_and_method) {
    start();
    const auto missing = get("/api/nothing");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_TRUE(nlohmann::json::parse(missing.body).contains("error"));
    const auto wrong_method = http_request(port_, "DELETE", "/api/shots");
    EXPECT_EQ(wrong_method.status, 405u);
    EXPECT_EQ(wrong_method.header("Allow"), "GET, POST");
    EXPECT_EQ(get("/api/recording/stop").status, 405u);
}

TEST_F(server_test, large_body_gets_413) {
    start();
    const std::string body(100 * 1024, 'x');
    const auto reply = http_request(port_, "POST", "/api/shots", body);
    EXPECT_EQ(reply.status, 413u);
    loop_.call([&] { EXPECT_TRUE(fleet_.shot_requests.empty()); });
}

TEST_F(server_test, large_chunked_body_gets_413) {
    start();
    test_connection connection(port_);
    std::string request =
        "POST /api/shots HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk(16 * 1024, 'x');
    for (int i = 0; i < 5; ++i) {
        request += "4000\r\n" + chunk + "\r\n";
    }
    request += "0\r\n\r\n";
    connection.send(request);
    EXPECT_EQ(connection.read_response().status, 413u);
}

TEST_F(server_test, large_header_gets_431) {
    start();
    const auto reply = http_request(port_, "GET", "/api/cameras", {},
                                    {{"X-Padding", std::string(16 * 1024, 'a')}});
    EXPECT_EQ(reply.status, 431u);
}

TEST_F(server_test, keep_alive_serves_several_requests) {
    start();
    test_connection connection(port_);
    for (int i = 0; i < 3; ++i) {
        connection.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(connection.read_response().status, 200u) << "request " << i;
    }
}

TEST_F(server_test, idle_connection_closed) {
    server_settings settings;
    settings.limits.idle_timeout = 1s;
    start(settings);
    test_connection connection(port_);
    const auto before = std::chrono::steady_clock::now();
    EXPECT_TRUE(connection.wait_for_close(10s));
    EXPECT_GE(std::chrono::steady_clock::now() - before, 900ms);
}

TEST_F(server_test, connections_over_limit_closed) {
    server_settings settings;
    settings.limits.max_connections = 2;
    start(settings);
    test_connection first(port_);
    test_connection second(port_);
    // The limit counts connections the server accepted, so give it time to accept both.
    first.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
    second.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(first.read_response().status, 200u);
    ASSERT_EQ(second.read_response().status, 200u);

    test_connection third(port_);
    EXPECT_TRUE(third.wait_for_close(5s));
    EXPECT_TRUE(third.received().empty());
}

TEST_F(server_test, event_stream_sends_change) {
    start();
    test_connection events(port_);
    events.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(events.read_until("\n\n", 5s)) << events.received();
    EXPECT_NE(events.received().find("Content-Type: text/event-stream"), std::string::npos);
    ASSERT_TRUE(events.read_until("event: update\ndata: ", 5s));
    ASSERT_TRUE(events.read_until("\n\n", 5s));

    const auto before = std::chrono::steady_clock::now();
    change([](test_fleet& fleet) { fleet.camera("cam2").battery_ratio = 0.125; });
    ASSERT_TRUE(events.read_until("\"battery_ratio\":0.125", 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
}

TEST_F(server_test, event_stream_coalesces_changes) {
    start();
    test_connection events(port_);
    events.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(events.read_until("event: update", 5s));
    events.received().clear();

    // Fifty changes in one burst, all inside the coalescing window.
    change([](test_fleet& fleet) {
        for (int i = 1; i <= 50; ++i) {
            fleet.camera("cam1").requests_total = 1000 + i;
            fleet.notify();
        }
    });
    ASSERT_TRUE(events.read_until("\"requests_total\":1050", 5s));
    std::this_thread::sleep_for(300ms);
    events.read_until("never sent", 200ms);
    std::size_t count = 0;
    for (auto at = events.received().find("event: update"); at != std::string::npos;
         at = events.received().find("event: update", at + 1)) {
        ++count;
    }
    EXPECT_LE(count, 2u);
}

TEST_F(server_test, event_stream_keep_alive_comment) {
    server_settings settings;
    settings.event_keep_alive = 1s;
    start(settings);
    test_connection events(port_);
    events.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(events.read_until(": keep-alive\n\n", 5s));
}

TEST_F(server_test, event_streams_over_limit_get_503) {
    server_settings settings;
    settings.limits.max_event_clients = 1;
    start(settings);
    test_connection first(port_);
    first.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(first.read_until("event: update", 5s));

    test_connection second(port_);
    second.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(second.read_response().status, 503u);
}

TEST_F(server_test, stop_closes_event_streams) {
    start();
    test_connection events(port_);
    events.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(events.read_until("event: update", 5s));
    loop_.call([&] { server_->stop(); });
    EXPECT_TRUE(events.wait_for_close(5s));
}

class files_test : public server_test {
protected:
    void SetUp() override {
        server_test::SetUp();
        base_ = std::filesystem::temp_directory_path() /
                ("oscrig-dashboard-files-" + std::to_string(::getpid()));
        std::filesystem::remove_all(base_);
        const auto camera_folder = base_ / "shots" / "20260101-120000" / "cam1";
        std::filesystem::create_directories(camera_folder);
        std::ofstream(camera_folder / "IMG 0001.jpg") << "jpeg bytes";
        std::ofstream(base_ / "secret.txt") << "outside the output folder";
        std::filesystem::create_symlink(base_ / "secret.txt", camera_folder / "link.jpg");
        fleet_.output_folder = base_ / "shots";
    }

    void TearDown() override {
        server_test::TearDown();
        std::filesystem::remove_all(base_);
    }

    std::filesystem::path base_;
};

TEST_F(files_test, serves_downloaded_copy) {
    start();
    const auto reply = get("/files/20260101-120000/cam1/IMG%200001.jpg");
    ASSERT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.body, "jpeg bytes");
    EXPECT_EQ(reply.header("Content-Type"), "image/jpeg");
}

TEST_F(files_test, path_traversal_rejected) {
    start();
    for (const std::string target :
         {"/files/../secret.txt", "/files/20260101-120000/../../secret.txt",
          "/files/20260101-120000/cam1/..%2F..%2F..%2Fsecret.txt",
          "/files/20260101-120000/cam1/%2e%2e", "/files//etc/passwd",
          "/files/20260101-120000/cam1/a%5C..%5Csecret.txt", "/files/%2Fetc/x/passwd",
          "/files/20260101-120000/cam1/IMG%000001.jpg", "/files/20260101-120000/cam1/bad%zz"}) {
        const auto reply = get(target);
        EXPECT_TRUE(reply.status == 400u || reply.status == 404u)
            << target << " answered " << reply.status;
        EXPECT_EQ(reply.body.find("outside the output folder"), std::string::npos) << target;
    }
}

TEST_F(files_test, symlink_escape_not_found) {
    start();
    const auto reply = get("/files/20260101-120000/cam1/link.jpg");
    EXPECT_EQ(reply.status, 404u);
    EXPECT_EQ(reply.body.find("outside the output folder"), std::string::npos);
}

TEST_F(files_test, missing_file_not_found) {
    start();
    EXPECT_EQ(get("/files/20260101-120000/cam1/IMG_0002.jpg").status, 404u);
    EXPECT_EQ(get("/files/20260101-120000/cam1").status, 400u);
}

}  // namespace
}  // namespace oscrig::dashboard
