// file_sink: order of writes, the digest over resumed files, and write failures.
#include "controller/file_sink.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace oscrig::controller {
namespace {

namespace asio = boost::asio;

template <typename Body>
void run(Body body) {
    asio::io_context context;
    auto done = asio::co_spawn(context, body(context.get_executor()), asio::use_future);
    context.run();
    done.get();
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

class FileSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        file_ = std::filesystem::temp_directory_path() /
                ("oscrig-file-sink-" + std::to_string(::getpid()) + ".part");
    }
    void TearDown() override { std::filesystem::remove(file_); }

    std::filesystem::path file_;
};

TEST_F(FileSinkTest, WritesChunksInOrder) {
    // 3 MiB in uneven pieces: every buffer goes round several times.
    std::string content(3 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>(i % 251);
    }
    run([&](auto executor) -> asio::awaitable<void> {
        auto sink = file_sink::open(executor, file_, 0);
        EXPECT_TRUE(sink) << sink.error().to_string();
        if (!sink) {
            co_return;
        }
        std::size_t at = 0;
        std::size_t piece = 1;
        while (at < content.size()) {
            auto buffer = co_await (*sink)->next_buffer();
            EXPECT_TRUE(buffer);
            if (!buffer) {
                co_return;
            }
            piece = piece * 31 % 100003 + 1;
            const std::size_t used = std::min({piece, buffer->size(), content.size() - at});
            std::memcpy(buffer->data(), content.data() + at, used);
            (*sink)->submit(*buffer, used);
            at += used;
        }
        auto digest = co_await (*sink)->finish();
        EXPECT_TRUE(digest) << digest.error().to_string();
        if (digest) {
            EXPECT_EQ(*digest, "a1feacf0d812ba4d0b0e463ed45bbd583cea1de55c54693116754b30b5794745");
        }
    });
    EXPECT_TRUE(read_file(file_) == content);
}

TEST_F(FileSinkTest, ResumeHashesPrefix) {
    std::ofstream(file_, std::ios::binary) << "hello, ";
    run([&](auto executor) -> asio::awaitable<void> {
        auto sink = file_sink::open(executor, file_, 7);
        EXPECT_TRUE(sink) << sink.error().to_string();
        if (!sink) {
            co_return;
        }
        auto buffer = co_await (*sink)->next_buffer();
        EXPECT_TRUE(buffer);
        if (!buffer) {
            co_return;
        }
        std::memcpy(buffer->data(), "world", 5);
        (*sink)->submit(*buffer, 5);
        auto digest = co_await (*sink)->finish();
        EXPECT_TRUE(digest);
        if (digest) {
            EXPECT_EQ(*digest, "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
        }
    });
    EXPECT_EQ(read_file(file_), "hello, world");
}

TEST_F(FileSinkTest, ResumeOfAShorterFileFails) {
    std::ofstream(file_, std::ios::binary) << "abc";
    run([&](auto executor) -> asio::awaitable<void> {
        auto sink = file_sink::open(executor, file_, 10);
        EXPECT_TRUE(sink);
        if (!sink) {
            co_return;
        }
        auto digest = co_await (*sink)->finish();
        EXPECT_FALSE(digest);
        if (!digest) {
            EXPECT_EQ(digest.error().code, errc::file_io);
            EXPECT_NE(digest.error().detail.find("first 10 bytes"), std::string::npos)
                << digest.error().to_string();
        }
    });
}

TEST_F(FileSinkTest, FullDiskFailsTheNextBufferAndFinish) {
    if (!std::filesystem::exists("/dev/full")) {
        GTEST_SKIP() << "/dev/full is missing";
    }
    run([&](auto executor) -> asio::awaitable<void> {
        auto sink = file_sink::open(executor, "/dev/full", 0);
        EXPECT_TRUE(sink) << sink.error().to_string();
        if (!sink) {
            co_return;
        }
        // Submit until next_buffer() fails. The write error surfaces at the latest once every
        // buffer has gone through the worker.
        bool rejected = false;
        for (std::size_t i = 0; i < 4 * file_sink::buffer_count && !rejected; ++i) {
            auto buffer = co_await (*sink)->next_buffer();
            if (!buffer) {
                rejected = true;
                EXPECT_EQ(buffer.error().code, errc::file_io);
                EXPECT_NE(buffer.error().detail.find("/dev/full"), std::string::npos);
                break;
            }
            std::memset(buffer->data(), 'x', 4096);
            (*sink)->submit(*buffer, 4096);
        }
        EXPECT_TRUE(rejected);
        auto digest = co_await (*sink)->finish();
        EXPECT_FALSE(digest);
        if (!digest) {
            EXPECT_EQ(digest.error().code, errc::file_io);
        }
    });
}

TEST_F(FileSinkTest, MissingFolderFailsAtOpen) {
    asio::io_context context;
    auto sink = file_sink::open(context.get_executor(), file_ / "no-such-folder" / "a.jpg", 0);
    ASSERT_FALSE(sink);
    EXPECT_EQ(sink.error().code, errc::file_io);
    EXPECT_NE(sink.error().detail.find("opening"), std::string::npos);
}

TEST_F(FileSinkTest, DroppedSinkLetsPendingWritesFinish) {
    run([&](auto executor) -> asio::awaitable<void> {
        auto sink = file_sink::open(executor, file_, 0);
        EXPECT_TRUE(sink);
        if (!sink) {
            co_return;
        }
        auto buffer = co_await (*sink)->next_buffer();
        EXPECT_TRUE(buffer);
        if (buffer) {
            std::memcpy(buffer->data(), "abc", 3);
            (*sink)->submit(*buffer, 3);
        }
        sink->reset();
    });
    // The write job owns the file now; it lands without anyone waiting for it.
    for (int i = 0; i < 200 && std::filesystem::file_size(file_) < 3; ++i) {
        ::usleep(10000);
    }
    EXPECT_EQ(read_file(file_), "abc");
}

}  // namespace
}  // namespace oscrig::controller
