// Writes a download to disk and hashes it on worker threads, so that the event-loop thread only
// moves bytes off the sockets. Included by the HTTP client's source file, and by the commands
// that run downloads for stop_workers(). It brings in Asio, so keep it out of other headers.
#pragma once

#include "controller/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace oscrig::controller {

/// A file being downloaded, with a fixed set of chunk buffers that cycle between the event loop
/// (filling them from the socket) and a worker thread (writing and hashing them in order).
/// Memory stays at `buffer_count * chunk_size` whatever the file size, and a slow disk slows the
/// socket reads instead of queueing bytes.
///
/// Use from one coroutine: next_buffer(), fill it, submit() (also with 0 bytes used); then
/// finish() once, holding no buffer. Dropping the sink without finish() is safe: pending writes
/// complete on the worker and the file is closed.
class file_sink {
public:
    static constexpr std::size_t chunk_size = 64 * 1024;
    static constexpr std::size_t buffer_count = 4;

    /// Opens `file`: truncated when `offset` is 0, else appended to after its first `offset`
    /// bytes, which are hashed first (on the worker) so that the digest covers the whole file.
    /// `loop` is the executor that next_buffer() and finish() resume on.
    static outcome<std::shared_ptr<file_sink>> open(boost::asio::any_io_executor loop,
                                                    std::filesystem::path file,
                                                    std::uint64_t offset);

    ~file_sink();
    file_sink(const file_sink&) = delete;
    file_sink& operator=(const file_sink&) = delete;

    /// Waits for a free buffer. Fails with errc::file_io once an earlier write failed.
    boost::asio::awaitable<outcome<std::span<char>>> next_buffer();

    /// Hands the first `used` bytes of `buffer` (from next_buffer()) to the worker.
    void submit(std::span<char> buffer, std::size_t used);

    /// Waits until every submitted byte is written, closes the file and returns the lowercase
    /// hex SHA-256 of the whole file.
    boost::asio::awaitable<outcome<std::string>> finish();

    /// Waits for the write jobs of every sink to finish and stops the worker threads; no sink
    /// may be opened afterwards. A program calls it once, after its event loop returned and
    /// before the loop's io_context is destroyed: pending jobs refer to that io_context.
    static void stop_workers();

private:
    struct state;
    explicit file_sink(std::shared_ptr<state> shared);

    std::shared_ptr<state> state_;
};

}  // namespace oscrig::controller
