#include "controller/file_sink.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace oscrig::controller {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

/// Returns the threads that write and hash every download of the process: at most two. On the 2-core
/// machines measured, two kept up with eight downloads; more would compete with the event loop
/// for the same cores.
asio::thread_pool& worker_pool() {
    static asio::thread_pool pool(
        std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 2));
    return pool;
}

/// SHA-256 over a stream of chunks with OpenSSL's EVP interface.
class sha256_hasher {
public:
    sha256_hasher() : context_(EVP_MD_CTX_new()) {
        if (context_ == nullptr || EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1) {
            throw std::runtime_error("OpenSSL failed to initialise SHA-256");
        }
    }
    ~sha256_hasher() { EVP_MD_CTX_free(context_); }
    sha256_hasher(const sha256_hasher&) = delete;
    sha256_hasher& operator=(const sha256_hasher&) = delete;

    void update(const void* data, std::size_t size) { EVP_DigestUpdate(context_, data, size); }

    std::string hex_digest() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int length = 0;
        EVP_DigestFinal_ex(context_, digest.data(), &length);
        std::string text;
        text.reserve(length * 2);
        for (unsigned int i = 0; i < length; ++i) {
            text += fmt::format("{:02x}", digest[i]);
        }
        return text;
    }

private:
    EVP_MD_CTX* context_;
};

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

}  // namespace

/// Shared by the sink and the worker jobs in flight, so that a sink dropped mid-download
/// leaves nothing dangling.
struct file_sink::state {
    state(asio::any_io_executor loop_executor, std::filesystem::path file_path, int descriptor)
        : path(std::move(file_path)),
          fd(descriptor),
          strand(asio::make_strand(worker_pool())),
          free_buffers(loop_executor, buffer_count) {
        for (auto& buffer : buffers) {
            buffer.resize(chunk_size);
        }
    }
    ~state() {
        if (fd >= 0) {
            ::close(fd);
        }
    }

    /// Runs on the worker strand.
    void write(const char* data, std::size_t size) {
        if (failed()) {
            return;
        }
        while (size > 0) {
            const ssize_t n = ::write(fd, data, size);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                fail(fmt::format("writing {} failed: {}", path.string(),
                                 n < 0 ? std::strerror(errno) : "nothing written"));
                return;
            }
            hasher.update(data, static_cast<std::size_t>(n));
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    }

    /// Runs on the worker strand: hashes the bytes a resumed download keeps.
    void hash_prefix(std::uint64_t bytes, std::vector<char>& chunk) {
        const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            fail(fmt::format("reading {} failed: {}", path.string(), std::strerror(errno)));
            return;
        }
        std::uint64_t left = bytes;
        while (left > 0) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk_size));
            const ssize_t n = ::read(in, chunk.data(), want);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            hasher.update(chunk.data(), static_cast<std::size_t>(n));
            left -= static_cast<std::uint64_t>(n);
        }
        ::close(in);
        if (left > 0) {
            fail(fmt::format("reading the first {} bytes of {} failed", bytes, path.string()));
        }
    }

    void fail(std::string message) {
        const std::lock_guard lock(mutex);
        if (error.empty()) {
            error = std::move(message);
        }
    }
    bool failed() {
        const std::lock_guard lock(mutex);
        return !error.empty();
    }
    std::string error_text() {
        const std::lock_guard lock(mutex);
        return error;
    }

    std::filesystem::path path;
    int fd;
    sha256_hasher hasher;  // touched on the strand only
    asio::strand<asio::thread_pool::executor_type> strand;
    std::array<std::vector<char>, buffer_count> buffers;
    // Indices of the buffers the worker is done with. Thread-safe; completions run on `loop`.
    asio::experimental::concurrent_channel<void(error_code, std::size_t)> free_buffers;
    std::mutex mutex;
    std::string error;  // first failure, guarded by `mutex`
};

outcome<std::shared_ptr<file_sink>> file_sink::open(asio::any_io_executor loop,
                                                    std::filesystem::path file,
                                                    std::uint64_t offset) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (offset > 0 ? O_APPEND : O_TRUNC);
    const int fd = ::open(file.c_str(), flags, 0644);
    if (fd < 0) {
        return make_failure(errc::file_io,
                            fmt::format("opening {} failed: {}", file.string(),
                                        std::strerror(errno)));
    }
    auto shared = std::make_shared<state>(std::move(loop), std::move(file), fd);
    // A resumed file's prefix is hashed into buffer 0, which comes free only afterwards: like
    // a write job, the prefix job then finishes before finish() can collect every buffer.
    const std::size_t first_free = offset > 0 ? 1 : 0;
    for (std::size_t i = first_free; i < buffer_count; ++i) {
        shared->free_buffers.try_send(error_code{}, i);
    }
    if (offset > 0) {
        asio::post(shared->strand, [shared, offset] {
            shared->hash_prefix(offset, shared->buffers[0]);
            shared->free_buffers.try_send(error_code{}, 0);
        });
    }
    return std::shared_ptr<file_sink>(new file_sink(std::move(shared)));
}

file_sink::file_sink(std::shared_ptr<state> shared) : state_(std::move(shared)) {}

void file_sink::stop_workers() { worker_pool().join(); }

file_sink::~file_sink() = default;

asio::awaitable<outcome<std::span<char>>> file_sink::next_buffer() {
    auto [ec, index] = co_await state_->free_buffers.async_receive(tuple_awaitable);
    if (ec) {
        co_return make_failure(errc::file_io,
                               fmt::format("writing {}: {}", state_->path.string(), ec.message()));
    }
    auto& buffer = state_->buffers[index];
    if (state_->failed()) {
        state_->free_buffers.try_send(error_code{}, index);
        co_return make_failure(errc::file_io, state_->error_text());
    }
    co_return std::span<char>(buffer.data(), buffer.size());
}

void file_sink::submit(std::span<char> buffer, std::size_t used) {
    const auto found = std::find_if(state_->buffers.begin(), state_->buffers.end(),
                                    [&](const auto& own) { return own.data() == buffer.data(); });
    if (found == state_->buffers.end()) {
        throw std::logic_error("file_sink::submit: buffer does not belong to this sink");
    }
    const auto index = static_cast<std::size_t>(found - state_->buffers.begin());
    used = std::min(used, buffer.size());
    asio::post(state_->strand, [shared = state_, index, used] {
        shared->write(shared->buffers[index].data(), used);
        // The channel has room for buffer_count indices, as many as exist, so this send fits.
        shared->free_buffers.try_send(error_code{}, index);
    });
}

asio::awaitable<outcome<std::string>> file_sink::finish() {
    // Every buffer back in hand means every write job has run.
    for (std::size_t i = 0; i < buffer_count; ++i) {
        auto [ec, index] = co_await state_->free_buffers.async_receive(tuple_awaitable);
        if (ec) {
            co_return make_failure(errc::file_io, fmt::format("writing {}: {}",
                                                              state_->path.string(),
                                                              ec.message()));
        }
    }
    if (state_->failed()) {
        co_return make_failure(errc::file_io, state_->error_text());
    }
    const int fd = std::exchange(state_->fd, -1);
    if (::close(fd) != 0) {
        co_return make_failure(errc::file_io, fmt::format("closing {} failed: {}",
                                                          state_->path.string(),
                                                          std::strerror(errno)));
    }
    co_return state_->hasher.hex_digest();
}

}  // namespace oscrig::controller
