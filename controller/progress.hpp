// Download progress for people: one updating line on a terminal, log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace oscrig::controller {

/// Receives download progress. Called on the event-loop thread.
class progress_sink {
public:
    virtual ~progress_sink() = default;

    /// A file download started; `total` is its size when known.
    virtual void file_started(std::string_view camera, std::string_view file,
                              std::optional<std::uint64_t> total) = 0;
    /// The file now has `bytes` on disk.
    virtual void file_progress(std::string_view camera, std::string_view file,
                               std::uint64_t bytes) = 0;
    /// The file is finished; `error` is empty on success.
    virtual void file_finished(std::string_view camera, std::string_view file,
                               std::uint64_t bytes, std::string_view error) = 0;
};

/// Formats a byte count with a binary unit: "512 B", "1.5 KiB", "3.2 GiB".
std::string format_bytes(std::uint64_t bytes);

/// Formats a rate in bytes per second, for example "12.4 MiB/s".
std::string format_rate(double bytes_per_second);

/// Progress shown on a terminal or logged. With `terminal` true it rewrites one line on `out`
/// with the rig's bytes, percentage and rate, at most every 200 ms. Otherwise it logs a line
/// per file started and finished, and every 10 % of a file of at least 10 MiB.
class console_progress final : public progress_sink {
public:
    console_progress(bool terminal, std::FILE* out);
    ~console_progress() override;

    /// True when `out` is a terminal.
    static bool is_terminal(std::FILE* out);

    void file_started(std::string_view camera, std::string_view file,
                      std::optional<std::uint64_t> total) override;
    void file_progress(std::string_view camera, std::string_view file,
                       std::uint64_t bytes) override;
    void file_finished(std::string_view camera, std::string_view file, std::uint64_t bytes,
                       std::string_view error) override;

    /// Ends the updating line so that later output starts on a new line.
    void finish();

private:
    struct file_state {
        std::optional<std::uint64_t> total;
        std::uint64_t bytes = 0;
        int logged_tenths = 0;  // tenths of the file already logged
        bool finished = false;
    };

    void redraw(bool force);

    bool terminal_;
    std::FILE* out_;
    std::map<std::string, file_state> files_;  // key: camera + '/' + file
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point last_draw_{};
    bool line_open_ = false;
};

}  // namespace oscrig::controller
