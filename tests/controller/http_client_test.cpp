// http_client against a scripted loopback server: headers, keep-alive reopen, deadlines,
// downloads and the staging hooks.
#include "controller/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace oscrig::controller {
namespace {

using namespace std::chrono_literals;

/// A loopback TCP server on an ephemeral port that runs `script` for each accepted connection
/// on its own thread.
class scripted_server {
public:
    using script = std::function<void(int fd)>;

    explicit scripted_server(script handler) : handler_(std::move(handler)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 8) != 0) {
            throw std::runtime_error("test server: bind or listen failed");
        }
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { accept_loop(); });
    }

    ~scripted_server() {
        stopping_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        ::close(listener_);
        thread_.join();
        for (auto& worker : workers_) {
            worker.join();
        }
    }

    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_; }

private:
    void accept_loop() {
        while (!stopping_) {
            pollfd poll_fd{listener_, POLLIN, 0};
            if (::poll(&poll_fd, 1, 50) <= 0) {
                continue;
            }
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) {
                continue;
            }
            ++accepted_;
            workers_.emplace_back([this, fd] {
                handler_(fd);
                ::close(fd);
            });
        }
    }

    script handler_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::vector<std::thread> workers_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
};

/// Reads one request head and body (by Content-Length). Returns empty on end of stream.
std::string read_request(int fd, std::chrono::milliseconds limit = 5000ms) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            std::size_t length = 0;
            const auto field = data.find("Content-Length: ");
            if (field != std::string::npos && field < head_end) {
                length = std::stoul(data.substr(field + 16));
            }
            if (data.size() >= head_end + 4 + length) {
                return data;
            }
        }
        pollfd poll_fd{fd, POLLIN, 0};
        if (::poll(&poll_fd, 1, 20) <= 0) {
            continue;
        }
        char chunk[4096];
        const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
        if (got <= 0) {
            return {};
        }
        data.append(chunk, static_cast<std::size_t>(got));
    }
    return {};
}

void send_text(int fd, const std::string& text) {
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

std::string ok_reply(const std::string& body, bool keep_alive = true) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + (keep_alive ? "" : "\r\nConnection: close") +
           "\r\n\r\n" + body;
}

config::camera_config camera_at(std::uint16_t port) {
    config::camera_config camera;
    camera.name = "test";
    camera.host = "127.0.0.1";
    camera.port = port;
    return camera;
}

/// Runs `body` as a coroutine on a fresh io_context until it finishes.
template <class Body>
void run(Body body) {
    boost::asio::io_context context;
    auto done = boost::asio::co_spawn(context, body(context.get_executor()),
                                      boost::asio::use_future);
    context.run();
    done.get();
}

http_request post(std::string body, std::chrono::milliseconds timeout = 3000ms) {
    http_request request;
    request.method = "POST";
    request.target = "/osc/commands/execute";
    request.body = std::move(body);
    request.timeout = timeout;
    return request;
}

TEST(HttpClient, SendsOscHeaders) {
    std::mutex lock;
    std::string seen;
    scripted_server server([&](int fd) {
        const std::string request = read_request(fd);
        {
            std::scoped_lock guard(lock);
            seen = request;
        }
        send_text(fd, ok_reply(R"({"state":"done"})"));
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto reply = co_await client.send(post(R"({"name":"camera.getOptions"})"));
        EXPECT_TRUE(reply) << reply.error().to_string();
        if (reply) {
            EXPECT_EQ(reply->status, 200);
            EXPECT_EQ(reply->body, R"({"state":"done"})");
            EXPECT_LE(reply->sent_host_us, reply->received_host_us);
        }
    });
    std::scoped_lock guard(lock);
    EXPECT_NE(seen.find("POST /osc/commands/execute HTTP/1.1\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Content-Type: application/json;charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(seen.find("Accept: application/json\r\n"), std::string::npos);
    EXPECT_NE(seen.find("X-XSRF-Protected: 1\r\n"), std::string::npos);
    EXPECT_NE(seen.find("Content-Length: 28\r\n"), std::string::npos);
    EXPECT_NE(seen.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
              std::string::npos);
}

TEST(HttpClient, ReopensConnectionClosedByCamera) {
    scripted_server server([](int fd) {
        // Reply to one request per connection, then close it without a Connection: close header.
        if (!read_request(fd).empty()) {
            send_text(fd, ok_reply("{}"));
        }
        std::this_thread::sleep_for(50ms);
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        for (int i = 0; i < 3; ++i) {
            auto reply = co_await client.send(post("{}"));
            EXPECT_TRUE(reply) << i << ": " << reply.error().to_string();
            boost::asio::steady_timer pause(executor, 150ms);
            co_await pause.async_wait(boost::asio::use_awaitable);
        }
        EXPECT_EQ(client.connections_opened(), 3u);
    });
}

TEST(HttpClient, ReportsTimeout) {
    scripted_server server([](int fd) {
        read_request(fd);
        std::this_thread::sleep_for(800ms);
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        const auto start = std::chrono::steady_clock::now();
        auto reply = co_await client.send(post("{}", 200ms));
        const auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(reply);
        if (!reply) {
            EXPECT_EQ(reply.error().code, errc::timed_out) << reply.error().to_string();
        }
        EXPECT_LT(elapsed, 700ms);
        EXPECT_FALSE(client.is_open());
    });
}

TEST(HttpClient, ConnectionRefusedFails) {
    std::uint16_t port = 0;
    {
        scripted_server closed([](int) {});
        port = closed.port();
    }
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(port), {});
        auto reply = co_await client.send(post("{}"));
        EXPECT_FALSE(reply);
    });
}

TEST(HttpClient, StageHoldsFinalByteUntilRelease) {
    std::atomic<std::size_t> bytes_before_release{0};
    std::atomic<bool> complete{false};
    std::atomic<bool> released{false};
    scripted_server server([&](int fd) {
        std::string data;
        while (!complete) {
            pollfd poll_fd{fd, POLLIN, 0};
            if (::poll(&poll_fd, 1, 10) <= 0) {
                continue;
            }
            char chunk[4096];
            const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
            if (got <= 0) {
                return;
            }
            data.append(chunk, static_cast<std::size_t>(got));
            if (!released) {
                bytes_before_release = data.size();
            }
            const auto head_end = data.find("\r\n\r\n");
            if (head_end != std::string::npos && data.size() == head_end + 4 + 2) {
                complete = true;
            }
        }
        send_text(fd, ok_reply(R"({"state":"inProgress","id":"7"})"));
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto staged = co_await client.stage(post("{}"));
        EXPECT_TRUE(staged) << staged.error().to_string();
        EXPECT_TRUE(client.is_staged());

        boost::asio::steady_timer pause(executor, 200ms);
        co_await pause.async_wait(boost::asio::use_awaitable);
        EXPECT_FALSE(complete) << "the request arrived whole before release()";
        const std::size_t staged_bytes = bytes_before_release;
        EXPECT_GT(staged_bytes, 0u);

        released = true;
        auto times = client.release();
        EXPECT_TRUE(times) << times.error().to_string();
        if (times) {
            EXPECT_LE(times->before, times->after);
        }
        EXPECT_FALSE(client.is_staged());

        auto reply = co_await client.read_staged_reply();
        EXPECT_TRUE(reply) << reply.error().to_string();
        if (reply) {
            EXPECT_EQ(reply->status, 200);
            EXPECT_EQ(reply->body, R"({"state":"inProgress","id":"7"})");
        }
        EXPECT_TRUE(complete);
    });
}

TEST(HttpClient, ReleaseFailsWhenClosedWhileStaged) {
    scripted_server server([](int fd) {
        // Read what is staged, then close before the final byte comes.
        char chunk[4096];
        pollfd poll_fd{fd, POLLIN, 0};
        ::poll(&poll_fd, 1, 2000);
        ::recv(fd, chunk, sizeof chunk, 0);
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto staged = co_await client.stage(post("{}"));
        EXPECT_TRUE(staged) << staged.error().to_string();

        boost::asio::steady_timer pause(executor, 300ms);
        co_await pause.async_wait(boost::asio::use_awaitable);
        auto times = client.release();
        EXPECT_FALSE(times);
        if (!times) {
            EXPECT_EQ(times.error().code, errc::connection_closed) << times.error().to_string();
        }
        EXPECT_FALSE(client.is_staged());
        EXPECT_FALSE(client.is_open());
    });
}

TEST(HttpClient, ReleaseWithoutStageFails) {
    boost::asio::io_context context;
    http_client client(context.get_executor(), camera_at(1), {});
    auto times = client.release();
    ASSERT_FALSE(times);
    EXPECT_EQ(times.error().code, errc::not_ready);
}

class DownloadTest : public ::testing::Test {
protected:
    void SetUp() override {
        file_ = std::filesystem::temp_directory_path() /
                ("oscrig-http-client-" + std::to_string(::getpid()) + ".part");
    }
    void TearDown() override { std::filesystem::remove(file_); }

    std::filesystem::path file_;
};

TEST_F(DownloadTest, StreamsBodyWithSha256) {
    scripted_server server([](int fd) {
        read_request(fd);
        send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        std::uint64_t last_progress = 0;
        auto result = co_await client.download("/DCIM/a.jpg", file_, 0,
                                               [&](std::uint64_t bytes) { last_progress = bytes; });
        EXPECT_TRUE(result) << result.error().to_string();
        if (result) {
            EXPECT_EQ(result->status, 200);
            EXPECT_EQ(result->bytes_written, 3u);
            EXPECT_EQ(result->content_length, std::optional<std::uint64_t>{3});
            EXPECT_EQ(result->sha256,
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        }
        EXPECT_EQ(last_progress, 3u);
    });
    EXPECT_EQ(std::filesystem::file_size(file_), 3u);
}

TEST_F(DownloadTest, LargeBodySpansBuffers) {
    // 1.5 MB, several sink buffers, sent in uneven pieces with the first bytes in the same
    // segment as the header.
    std::string body(1500000, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>((i * 7) % 256);
    }
    scripted_server server([&](int fd) {
        read_request(fd);
        std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1500000\r\n\r\n";
        first += body.substr(0, 1000);
        send_text(fd, first);
        for (std::size_t at = 1000; at < body.size(); at += 70001) {
            send_text(fd, body.substr(at, 70001));
        }
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto result = co_await client.download("/DCIM/v.mp4", file_, 0);
        EXPECT_TRUE(result) << result.error().to_string();
        if (result) {
            EXPECT_EQ(result->bytes_written, body.size());
            EXPECT_EQ(result->sha256,
                      "f25ed13215817a5e38a27d8025baa4b410a93a3a9efba728ca456dd1475d87b5");
        }
    });
    std::ifstream in(file_, std::ios::binary);
    const std::string written((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(written == body) << "file differs from the body, " << written.size() << " bytes";
}

TEST_F(DownloadTest, ChunkedBodyIsDecoded) {
    scripted_server server([](int fd) {
        read_request(fd);
        send_text(fd,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "7\r\nhello, \r\n5\r\nworld\r\n0\r\n\r\n");
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto result = co_await client.download("/DCIM/a.jpg", file_, 0);
        EXPECT_TRUE(result) << result.error().to_string();
        if (result) {
            EXPECT_EQ(result->bytes_written, 12u);
            EXPECT_EQ(result->content_length, std::nullopt);
            EXPECT_EQ(result->sha256,
                      "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
        }
    });
    EXPECT_EQ(std::filesystem::file_size(file_), 12u);
}

TEST_F(DownloadTest, ShortBodyFailsAndKeepsBytes) {
    scripted_server server([](int fd) {
        read_request(fd);
        send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto result = co_await client.download("/DCIM/a.jpg", file_, 0);
        EXPECT_FALSE(result);
        if (!result) {
            EXPECT_EQ(result.error().code, errc::connection_closed) << result.error().to_string();
        }
    });
    EXPECT_EQ(std::filesystem::file_size(file_), 5u);
}

TEST_F(DownloadTest, ResumeAppendsOnPartialContent) {
    std::mutex lock;
    std::string seen;
    scripted_server server([&](int fd) {
        const std::string request = read_request(fd);
        {
            std::scoped_lock guard(lock);
            seen = request;
        }
        send_text(fd,
                  "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1-2/3\r\n"
                  "Content-Length: 2\r\n\r\nbc");
    });
    std::ofstream(file_, std::ios::binary) << "a";
    run([&](auto executor) -> boost::asio::awaitable<void> {
        http_client client(executor, camera_at(server.port()), {});
        auto result = co_await client.download("/DCIM/a.jpg", file_, 1);
        EXPECT_TRUE(result) << result.error().to_string();
        if (result) {
            EXPECT_EQ(result->status, 206);
            EXPECT_EQ(result->offset, 1u);
            EXPECT_EQ(result->bytes_written, 2u);
            // The hash covers the whole file, the resumed prefix included.
            EXPECT_EQ(result->sha256,
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        }
    });
    std::scoped_lock guard(lock);
    EXPECT_NE(seen.find("Range: bytes=1-\r\n"), std::string::npos) << seen;
    EXPECT_EQ(std::filesystem::file_size(file_), 3u);
}

TEST_F(DownloadTest, StallEndsDownload) {
    scripted_server server([](int fd) {
        read_request(fd);
        send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel");
        std::this_thread::sleep_for(900ms);
    });
    run([&](auto executor) -> boost::asio::awaitable<void> {
        config::request_timeouts timeouts;
        timeouts.download_stall = 200ms;
        http_client client(executor, camera_at(server.port()), timeouts);
        auto result = co_await client.download("/DCIM/a.jpg", file_, 0);
        EXPECT_FALSE(result);
        if (!result) {
            EXPECT_EQ(result.error().code, errc::timed_out) << result.error().to_string();
        }
    });
    EXPECT_EQ(std::filesystem::file_size(file_), 3u);
}

}  // namespace
}  // namespace oscrig::controller
