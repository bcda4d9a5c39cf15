// Drives the oscrig-sim binary over plain HTTP: OSC replies, files, violation counts, faults,
// arrival records and Digest authentication.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

/// A running oscrig-sim. The destructor stops it, so every test ends it, also on failure.
class sim_process {
public:
    explicit sim_process(std::vector<std::string> args) {
        std::vector<std::string> argv_strings = {OSCRIG_SIM_BINARY, "--base-port", "0",
                                                 "--log.level", "warn"};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& arg : argv_strings) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);

        int out[2];
        if (pipe(out) != 0) {
            throw std::runtime_error("pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&actions);
        close(out[1]);
        stdout_fd_ = out[0];
        if (pid_ > 0) {
            read_ready_line();
        }
    }

    ~sim_process() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 50; ++i) {
                if (waitpid(pid_, &status, WNOHANG) == pid_) {
                    pid_ = -1;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (pid_ > 0) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
            }
        }
        if (stdout_fd_ >= 0) {
            close(stdout_fd_);
        }
    }

    sim_process(const sim_process&) = delete;
    sim_process& operator=(const sim_process&) = delete;

    const std::vector<std::uint16_t>& ports() const { return ports_; }
    const std::string& ready_line() const { return ready_line_; }

private:
    void read_ready_line() {
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) {
                continue;
            }
            char c = 0;
            if (read(stdout_fd_, &c, 1) != 1) {
                break;
            }
            if (c == '\n') {
                break;
            }
            line.push_back(c);
        }
        ready_line_ = line;
        const std::size_t at = line.rfind("ports ");
        if (line.rfind("oscrig-sim: ready ", 0) != 0 || at == std::string::npos) {
            return;
        }
        std::stringstream list(line.substr(at + 6));
        std::string port;
        while (std::getline(list, port, ',')) {
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(port)));
        }
    }

    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string ready_line_;
    std::vector<std::uint16_t> ports_;
};

struct reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // last value of each header, name lower case
    std::vector<std::string> authenticate;        // every WWW-Authenticate value
    std::string body;

    json body_json() const { return json::parse(body, nullptr, false); }
};

/// Headers every OSC request should carry.
std::map<std::string, std::string> osc_headers() {
    return {{"Accept", "application/json"},
            {"X-XSRF-Protected", "1"},
            {"Content-Type", "application/json;charset=utf-8"}};
}

/// A keep-alive HTTP/1.1 connection with a receive timeout, so that a broken simulator fails
/// the test instead of hanging it.
class client {
public:
    explicit client(std::uint16_t port) : socket_(io_) {
        socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        timeval timeout{10, 0};
        setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }

    reply send(const std::string& method, const std::string& target, const std::string& body,
               const std::map<std::string, std::string>& headers) {
        http::request<http::string_body> request{http::string_to_verb(method), target, 11};
        request.set(http::field::host, "127.0.0.1");
        for (const auto& [name, value] : headers) {
            request.set(name, value);
        }
        request.body() = body;
        if (method == "POST") {
            request.prepare_payload();
        }
        http::write(socket_, request);

        http::response_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024 * 1024);
        http::read(socket_, buffer_, parser);
        const auto& response = parser.get();
        reply out;
        out.status = response.result_int();
        for (const auto& field : response) {
            std::string name(field.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            out.headers[name] = std::string(field.value());
            if (name == "www-authenticate") {
                out.authenticate.emplace_back(field.value());
            }
        }
        out.body = response.body();
        return out;
    }

    reply post(const std::string& target, const json& body) {
        return send("POST", target, body.dump(), osc_headers());
    }

    json execute(const std::string& command, const json& parameters = json::object()) {
        return post("/osc/commands/execute", {{"name", command}, {"parameters", parameters}})
            .body_json();
    }

private:
    asio::io_context io_;
    tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

/// Path part of an absolute http:// URL.
std::string path_of(const std::string& url) {
    const std::size_t slash = url.find('/', 7);
    return slash == std::string::npos ? "/" : url.substr(slash);
}

/// Reads info and state once, as a client must before capturing.
void greet(client& c) {
    c.send("GET", "/osc/info", "", osc_headers());
    c.post("/osc/state", json::object());
}

/// Polls a command until it leaves inProgress; fails after about ten seconds.
json wait_for_done(client& c, json reply) {
    for (int i = 0; i < 100 && reply.value("state", "") == "inProgress"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        reply = c.post("/osc/commands/status", {{"id", reply["id"]}}).body_json();
    }
    return reply;
}

std::filesystem::path write_temp_file(const std::string& stem, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      (stem + "-" + std::to_string(getpid()) + "-" +
                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::ofstream(path) << text;
    return path;
}

std::int64_t steady_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string hex_digest(const EVP_MD* md, const std::string& text) {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), hash, &length, md, nullptr);
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", hash[i]);
        hex += two;
    }
    return hex;
}

/// Value of `key` in a WWW-Authenticate challenge, quoted or not.
std::string challenge_field(const std::string& challenge, const std::string& key) {
    const std::size_t at = challenge.find(key + "=");
    if (at == std::string::npos) {
        return {};
    }
    std::size_t start = at + key.size() + 1;
    if (challenge[start] == '"') {
        ++start;
        return challenge.substr(start, challenge.find('"', start) - start);
    }
    return challenge.substr(start, challenge.find_first_of(", ", start) - start);
}

/// Builds the Authorization header that responds to `challenge` for `method target`.
std::string digest_authorization(const std::string& challenge, const std::string& user,
                                 const std::string& password, const std::string& method,
                                 const std::string& target, int nonce_count) {
    const std::string algorithm = challenge_field(challenge, "algorithm");
    const EVP_MD* md = algorithm == "SHA-256" ? EVP_sha256() : EVP_md5();
    const std::string realm = challenge_field(challenge, "realm");
    const std::string nonce = challenge_field(challenge, "nonce");
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", nonce_count);
    const std::string cnonce = "0a4f113b";
    const std::string ha1 = hex_digest(md, user + ":" + realm + ":" + password);
    const std::string ha2 = hex_digest(md, method + ":" + target);
    const std::string response =
        hex_digest(md, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
           "\", uri=\"" + target + "\", algorithm=" + algorithm + ", qop=auth, nc=" + nc +
           ", cnonce=\"" + cnonce + "\", response=\"" + response + "\", opaque=\"" +
           challenge_field(challenge, "opaque") + "\"";
}

TEST(Simulator, ReadyLineListsEveryPort) {
    sim_process sim({"--cameras", "3"});
    ASSERT_EQ(sim.ports().size(), 3u) << sim.ready_line();
    EXPECT_NE(sim.ports()[0], 0);
    EXPECT_NE(sim.ports()[0], sim.ports()[1]);
}

TEST(Simulator, WritesRigFileWithActualPorts) {
    const auto rig = write_temp_file("oscrig-sim-rig", "");
    sim_process sim({"--cameras", "2", "--write-rig", rig.string(), "--output", "out-dir"});
    ASSERT_EQ(sim.ports().size(), 2u) << sim.ready_line();
    std::ifstream file(rig);
    const std::string text((std::istreambuf_iterator<char>(file)), {});
    std::filesystem::remove(rig);
    // Relative to the current folder, written absolute: the rig file may be elsewhere.
    const auto output = (std::filesystem::current_path() / "out-dir").string();
    EXPECT_NE(text.find("output: " + output), std::string::npos) << text;
    EXPECT_NE(text.find("name: cam1"), std::string::npos) << text;
    EXPECT_NE(text.find("name: cam2"), std::string::npos) << text;
    EXPECT_NE(text.find("port: " + std::to_string(sim.ports()[1])), std::string::npos) << text;
    EXPECT_NE(text.find("host: 127.0.0.1"), std::string::npos) << text;
}

TEST(Simulator, InfoStateAndOptionsShapes) {
    sim_process sim({"--cameras", "1"});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);

    const json info = c.send("GET", "/osc/info", "", osc_headers()).body_json();
    EXPECT_EQ(info.value("manufacturer", ""), "Arashi Vision");
    EXPECT_EQ(info.value("model", ""), "Insta360 ONE X2");
    EXPECT_FALSE(info.value("serialNumber", "").empty());
    EXPECT_EQ(info["apiLevel"], json({2}));
    EXPECT_TRUE(info["uptime"].is_number_integer());
    EXPECT_EQ(info["endpoints"]["httpPort"], sim.ports()[0]);

    const json state = c.post("/osc/state", json::object()).body_json();
    EXPECT_TRUE(state["fingerprint"].is_string());
    EXPECT_EQ(state["state"]["_cardState"], "pass");
    EXPECT_GE(state["state"]["batteryLevel"].get<double>(), 0.0);
    EXPECT_LE(state["state"]["batteryLevel"].get<double>(), 1.0);
    EXPECT_NE(state["state"]["storageUri"].get<std::string>().find("/DCIM/Camera01/"),
              std::string::npos);

    const json options = c.execute("camera.getOptions",
                                   {{"optionNames",
                                     {"iso", "isoSupport", "hdrSupport", "photoStitchingSupport",
                                      "_MuteEnable", "_batteryCapacity", "_sysTimestamp",
                                      "remainingSpace", "totalSpace", "_timelapseIntervalSupport",
                                      "captureIntervalSupport", "_dateTime"}}});
    ASSERT_EQ(options.value("state", ""), "done") << options.dump();
    const json& values = options["results"]["options"];
    EXPECT_EQ(values["_MuteEnable"], json({{"_MuteEnable", 0}}));
    EXPECT_TRUE(values["_sysTimestamp"].is_number_integer());
    EXPECT_EQ(values["_batteryCapacity"]["powerType"], 0);
    EXPECT_EQ(values["photoStitchingSupport"], json({"none", "ondevice"}));
    EXPECT_GT(values["totalSpace"].get<std::uint64_t>(),
              values["remainingSpace"].get<std::uint64_t>());
    EXPECT_EQ(values["captureIntervalSupport"]["maxInterval"], 120);
    EXPECT_EQ(values["_dateTime"].get<std::string>().size(), 19u);

    const json unknown = c.execute("camera.getOptions", {{"optionNames", {"noSuchOption"}}});
    EXPECT_EQ(unknown["error"]["code"], "invalidParameterName ");
}

TEST(Simulator, SetOptionsValidatesAgainstSupportLists) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);

    const json bad_value = c.execute("camera.setOptions", {{"options", {{"iso", 123}}}});
    EXPECT_EQ(bad_value["error"]["code"], "invalidParameterValue");
    EXPECT_FALSE(bad_value.contains("state"));
    const json bad_name = c.execute("camera.setOptions", {{"options", {{"noSuch", 1}}}});
    EXPECT_EQ(bad_name["error"]["code"], "invalidParameterName");
    const json good = c.execute("camera.setOptions", {{"options", {{"iso", 400}}}});
    EXPECT_EQ(good["state"], "done");
    const json read_back = c.execute("camera.getOptions", {{"optionNames", {"iso"}}});
    EXPECT_EQ(read_back["results"]["options"]["iso"], 400);
}

TEST(Simulator, PictureDownloadsJpegNamingCamera) {
    sim_process sim({"--cameras", "2"});
    ASSERT_EQ(sim.ports().size(), 2u) << sim.ready_line();
    client c(sim.ports()[1]);
    greet(c);
    const json info = c.send("GET", "/osc/info", "", osc_headers()).body_json();

    const json started = c.execute("camera.takePicture");
    ASSERT_EQ(started.value("state", ""), "inProgress") << started.dump();
    EXPECT_EQ(started["id"].get<std::string>().size(), 6u);
    const json done = wait_for_done(c, started);
    ASSERT_EQ(done.value("state", ""), "done") << done.dump();
    const std::string url = done["results"]["fileUrl"];
    EXPECT_EQ(done["results"]["_fileGroup"].size(), 1u);

    const reply file = c.send("GET", path_of(url), "", {});
    ASSERT_EQ(file.status, 200);
    EXPECT_EQ(file.headers.at("content-length"), std::to_string(file.body.size()));
    ASSERT_GT(file.body.size(), 4u);
    EXPECT_EQ(static_cast<unsigned char>(file.body[0]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(file.body[1]), 0xD8);
    EXPECT_EQ(static_cast<unsigned char>(file.body[file.body.size() - 2]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(file.body[file.body.size() - 1]), 0xD9);
    EXPECT_NE(file.body.find("camera=cam2"), std::string::npos);
    EXPECT_NE(file.body.find(info["serialNumber"].get<std::string>()), std::string::npos);

    const json listed = c.execute("camera.listFiles", {{"fileType", "image"},
                                                       {"entryCount", 10},
                                                       {"maxThumbSize", 100}});
    ASSERT_EQ(listed["results"]["entries"].size(), 1u) << listed.dump();
    const json& entry = listed["results"]["entries"][0];
    EXPECT_EQ(entry["fileUrl"], url);
    EXPECT_EQ(entry["size"], file.body.size());
    EXPECT_EQ(entry["thumbnail"].get<std::string>().rfind("/9j/", 0), 0u);
    EXPECT_EQ(listed["results"]["totalEntries"], 1);
}

TEST(Simulator, HdrWithoutStitchingGivesThreeFiles) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    c.execute("camera.setOptions",
              {{"options", {{"captureMode", "image"}, {"hdr", "hdr"}, {"photoStitching", "none"}}}});
    const json done = wait_for_done(c, c.execute("camera.takePicture"));
    ASSERT_EQ(done.value("state", ""), "done") << done.dump();
    EXPECT_EQ(done["results"]["_fileGroup"].size(), 3u);
    EXPECT_EQ(done["results"]["_localFileGroup"].size(), 3u);
}

TEST(Simulator, VideoGivesOneFilePerLens) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    c.post("/sim/set", {{"video_bytes", 200000}});
    c.execute("camera.setOptions", {{"options", {{"captureMode", "video"}}}});
    ASSERT_EQ(c.execute("camera.startCapture").value("state", ""), "done");
    const json stopped = c.execute("camera.stopCapture");
    ASSERT_EQ(stopped.value("state", ""), "done") << stopped.dump();
    const json& urls = stopped["results"]["fileUrls"];
    ASSERT_EQ(urls.size(), 2u);
    EXPECT_NE(urls[0].get<std::string>().find("_10_"), std::string::npos);
    EXPECT_NE(urls[1].get<std::string>().find("_00_"), std::string::npos);

    const reply file = c.send("GET", path_of(urls[1]), "", {});
    ASSERT_EQ(file.status, 200);
    EXPECT_EQ(file.body.size(), 200000u);
    EXPECT_EQ(file.body.substr(4, 4), "ftyp");
    EXPECT_NE(file.body.find("camera=cam1"), std::string::npos);
}

TEST(Simulator, RangeRequestResumesDownload) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    const json done = wait_for_done(c, c.execute("camera.takePicture"));
    const std::string path = path_of(done["results"]["fileUrl"]);
    const reply whole = c.send("GET", path, "", {});
    const reply tail = c.send("GET", path, "", {{"Range", "bytes=1000-"}});
    ASSERT_EQ(tail.status, 206);
    EXPECT_EQ(tail.body, whole.body.substr(1000));
    EXPECT_EQ(tail.headers.at("content-range"),
              "bytes 1000-" + std::to_string(whole.body.size() - 1) + "/" +
                  std::to_string(whole.body.size()));
}

TEST(Simulator, MissingXsrfHeaderCountsViolation) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    c.send("GET", "/osc/info", "", {{"Accept", "application/json"}});
    const json stats = c.send("GET", "/sim/stats", "", {}).body_json();
    EXPECT_EQ(stats["violations"].value("xsrf_protected", 0), 1);
    EXPECT_EQ(stats["violations_total"], 1);
}

TEST(Simulator, OverlappingRequestsCountOneViolation) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client control(sim.ports()[0]);
    control.post("/sim/set", {{"reply_delay_ms", 400}});

    std::thread first([&] {
        client c(sim.ports()[0]);
        c.execute("camera.getOptions", {{"optionNames", {"iso"}}});
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client second(sim.ports()[0]);
    second.execute("camera.getOptions", {{"optionNames", {"iso"}}});
    first.join();

    const json stats = control.send("GET", "/sim/stats", "", {}).body_json();
    EXPECT_EQ(stats["violations"].value("concurrent_request", 0), 1) << stats.dump();
}

TEST(Simulator, CaptureBeforeInfoAndStateCountsViolation) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    c.execute("camera.takePicture");
    const json stats = c.send("GET", "/sim/stats", "", {}).body_json();
    EXPECT_EQ(stats["violations"].value("capture_before_info_state", 0), 1) << stats.dump();
}

TEST(Simulator, FaultSwitchesAtRunTime) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);

    ASSERT_EQ(c.post("/sim/faults", {{"unactivated", true}}).status, 200);
    EXPECT_EQ(c.execute("camera.takePicture")["error"]["code"], "unactivated");
    c.post("/sim/faults", {{"unactivated", false}});
    EXPECT_EQ(c.execute("camera.takePicture").value("state", ""), "inProgress");

    c.post("/sim/faults", {{"http_500", 1}});
    EXPECT_EQ(c.send("GET", "/osc/info", "", osc_headers()).status, 500);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(c.send("GET", "/osc/info", "", osc_headers()).status, 200);

    EXPECT_EQ(c.post("/sim/faults", {{"no_such_fault", 1}}).status, 400);
}

TEST(Simulator, HostileFileNamesFault) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    c.post("/sim/faults", {{"hostile_file_names", 1}});
    const json done = wait_for_done(c, c.execute("camera.takePicture"));
    ASSERT_EQ(done.value("state", ""), "done") << done.dump();
    const std::string urls = done["results"]["_fileGroup"].dump();
    EXPECT_NE(urls.find("/../../escape.jpg"), std::string::npos) << urls;
    EXPECT_NE(urls.find("..%2F..%2Fescape.jpg"), std::string::npos) << urls;
    EXPECT_NE(urls.find("%2Fetc%2Foscrig-escape.jpg"), std::string::npos) << urls;
    EXPECT_NE(urls.find("/DCIM/Camera01/\""), std::string::npos) << urls;
    EXPECT_EQ(done["results"]["_fileGroup"].size(), 5u);
}

TEST(Simulator, DownloadCutAtConfiguredOffset) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    const json done = wait_for_done(c, c.execute("camera.takePicture"));
    c.post("/sim/faults", {{"drop_mid_download_at", 5000}});
    EXPECT_THROW(c.send("GET", path_of(done["results"]["fileUrl"]), "", {}),
                 boost::system::system_error);
    client again(sim.ports()[0]);
    const reply tail = again.send("GET", path_of(done["results"]["fileUrl"]), "",
                                  {{"Range", "bytes=5000-"}});
    EXPECT_EQ(tail.status, 206);
}

TEST(Simulator, ArrivalsRecordCommand) {
    sim_process sim({});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    const std::int64_t before = steady_now_us();
    const json options = c.execute("camera.getOptions", {{"optionNames", {"_sysTimestamp"}}});
    const std::int64_t after = steady_now_us();

    const json arrivals = c.send("GET", "/sim/arrivals", "", {}).body_json();
    ASSERT_EQ(arrivals["arrivals"].size(), 1u) << arrivals.dump();
    const json& arrival = arrivals["arrivals"][0];
    EXPECT_EQ(arrival["command"], "camera.getOptions");
    EXPECT_GE(arrival["host_monotonic_us"].get<std::int64_t>(), before);
    EXPECT_LE(arrival["host_monotonic_us"].get<std::int64_t>(), after);
    EXPECT_EQ(arrival["camera_us"], options["results"]["options"]["_sysTimestamp"]);
    const auto wall_now = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    EXPECT_LT(std::abs(wall_now - arrival["host_wall_us"].get<std::int64_t>()), 5'000'000);
}

TEST(Simulator, ArrivalsMatchLastByteSendTime) {
    sim_process sim({"--cameras", "16"});
    ASSERT_EQ(sim.ports().size(), 16u) << sim.ready_line();
    const std::string body = R"({"name":"camera.getOptions","parameters":{"optionNames":["iso"]}})";
    const std::string request =
        "POST /osc/commands/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        "X-XSRF-Protected: 1\r\nContent-Type: application/json;charset=utf-8\r\n"
        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;

    // Every request but its last byte goes out first, then the last bytes back to back, so all
    // requests complete within a short burst, as in a synchronised trigger.
    asio::io_context io;
    std::vector<tcp::socket> sockets;
    for (const auto port : sim.ports()) {
        sockets.emplace_back(io).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        sockets.back().set_option(tcp::no_delay(true));
        asio::write(sockets.back(), asio::buffer(request.data(), request.size() - 1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<std::int64_t> sent;
    for (auto& socket : sockets) {
        sent.push_back(steady_now_us());
        asio::write(socket, asio::buffer(request.data() + request.size() - 1, 1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    for (std::size_t i = 0; i < sockets.size(); ++i) {
        client c(sim.ports()[i]);
        const json arrivals = c.send("GET", "/sim/arrivals", "", {}).body_json();
        ASSERT_EQ(arrivals["arrivals"].size(), 1u) << arrivals.dump();
        const std::int64_t arrival = arrivals["arrivals"][0]["host_monotonic_us"];
        // Loopback delivery takes microseconds; 2 ms leaves room for a loaded machine.
        EXPECT_GE(arrival, sent[i] - 100) << "camera " << i;
        EXPECT_LT(arrival, sent[i] + 2000) << "camera " << i;
    }
}

TEST(Simulator, StopAndStartClosesPort) {
    sim_process sim({"--cameras", "2"});
    ASSERT_EQ(sim.ports().size(), 2u) << sim.ready_line();
    client other(sim.ports()[1]);
    other.post("/sim/stop", {{"camera", "cam1"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_THROW(client{sim.ports()[0]}, boost::system::system_error);
    other.post("/sim/start", {{"camera", "cam1"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    client back(sim.ports()[0]);
    EXPECT_EQ(back.send("GET", "/osc/info", "", osc_headers()).status, 200);
}

TEST(Simulator, ThetaDigestAcceptsOnlyCorrectPassword) {
    const auto config = write_temp_file("oscrig-sim-theta",
                                        "cameras:\n"
                                        "  - name: theta1\n"
                                        "    flavour: theta\n"
                                        "    user: THETAYL00105377\n"
                                        "    password: \"00105377\"\n");
    sim_process sim({"--config", config.string()});
    std::filesystem::remove(config);
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);

    const reply challenge = c.send("GET", "/osc/info", "", osc_headers());
    ASSERT_EQ(challenge.status, 401);
    ASSERT_EQ(challenge.authenticate.size(), 2u);
    EXPECT_NE(challenge.authenticate[0].find("algorithm=SHA-256"), std::string::npos);
    EXPECT_NE(challenge.authenticate[1].find("algorithm=MD5"), std::string::npos);

    for (const auto& offer : challenge.authenticate) {
        auto headers = osc_headers();
        headers["Authorization"] =
            digest_authorization(offer, "THETAYL00105377", "00105377", "GET", "/osc/info", 1);
        const reply accepted = c.send("GET", "/osc/info", "", headers);
        ASSERT_EQ(accepted.status, 200) << offer;
        EXPECT_EQ(accepted.body_json()["manufacturer"], "RICOH");
        EXPECT_EQ(accepted.body_json()["apiLevel"], json({1, 2}));

        // The same nonce stays valid with a higher count.
        headers["Authorization"] = digest_authorization(offer, "THETAYL00105377", "00105377",
                                                        "POST", "/osc/state", 2);
        const reply state = c.send("POST", "/osc/state", "{}", headers);
        EXPECT_EQ(state.status, 200);
        EXPECT_EQ(state.body_json()["state"]["_captureStatus"], "idle");

        headers["Authorization"] =
            digest_authorization(offer, "THETAYL00105377", "wrong", "GET", "/osc/info", 3);
        EXPECT_EQ(c.send("GET", "/osc/info", "", headers).status, 401);
    }
}

TEST(Simulator, ThetaRejectsCaptureRightAfterModeChange) {
    sim_process sim({"--flavour", "theta"});
    ASSERT_EQ(sim.ports().size(), 1u) << sim.ready_line();
    client c(sim.ports()[0]);
    greet(c);
    c.execute("camera.setOptions", {{"options", {{"captureMode", "video"}}}});
    EXPECT_EQ(c.execute("camera.startCapture")["error"]["code"], "disabledCommand");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(c.execute("camera.startCapture").value("state", ""), "done");
    const json stopped = c.execute("camera.stopCapture");
    ASSERT_EQ(stopped["results"]["fileUrls"].size(), 1u) << stopped.dump();
    EXPECT_NE(stopped["results"]["fileUrls"][0].get<std::string>().find("/100RICOH/R"),
              std::string::npos);
}

}  // namespace
