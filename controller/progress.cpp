#include "controller/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

namespace oscrig::controller {
namespace {

// Files at least this large get a log line every 10 % when the output is not a terminal.
constexpr std::uint64_t large_file_bytes = 10ull * 1024 * 1024;
constexpr auto redraw_interval = std::chrono::milliseconds{200};

std::string key_of(std::string_view camera, std::string_view file) {
    std::string key(camera);
    key += '/';
    key += file;
    return key;
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
    constexpr std::array<const char*, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        return fmt::format("{} B", bytes);
    }
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < units.size()) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string format_rate(double bytes_per_second) {
    if (bytes_per_second < 0) {
        bytes_per_second = 0;
    }
    return format_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}

console_progress::console_progress(bool terminal, std::FILE* out)
    : terminal_(terminal), out_(out), started_(std::chrono::steady_clock::now()) {}

console_progress::~console_progress() {
    finish();
}

bool console_progress::is_terminal(std::FILE* out) {
    return out != nullptr && ::isatty(::fileno(out)) == 1;
}

void console_progress::file_started(std::string_view camera, std::string_view file,
                                    std::optional<std::uint64_t> total) {
    auto& state = files_[key_of(camera, file)];
    state.total = total;
    state.bytes = 0;
    state.logged_tenths = 0;
    state.finished = false;
    if (terminal_) {
        redraw(true);
        return;
    }
    if (total) {
        spdlog::info("[{}] downloading {} ({})", camera, file, format_bytes(*total));
    } else {
        spdlog::info("[{}] downloading {}", camera, file);
    }
}

void console_progress::file_progress(std::string_view camera, std::string_view file,
                                     std::uint64_t bytes) {
    auto& state = files_[key_of(camera, file)];
    state.bytes = bytes;
    if (terminal_) {
        redraw(false);
        return;
    }
    if (!state.total || *state.total < large_file_bytes || *state.total == 0) {
        return;
    }
    const int tenths = static_cast<int>(bytes * 10 / *state.total);
    if (tenths > state.logged_tenths && tenths < 10) {
        state.logged_tenths = tenths;
        spdlog::info("[{}] {}: {} % of {}", camera, file, tenths * 10,
                     format_bytes(*state.total));
    }
}

void console_progress::file_finished(std::string_view camera, std::string_view file,
                                     std::uint64_t bytes, std::string_view error) {
    auto& state = files_[key_of(camera, file)];
    state.bytes = bytes;
    state.finished = true;
    if (terminal_) {
        redraw(true);
        return;
    }
    // The downloader logs failures itself.
    if (error.empty()) {
        spdlog::info("[{}] downloaded {} ({})", camera, file, format_bytes(bytes));
    }
}

void console_progress::redraw(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_draw_ < redraw_interval) {
        return;
    }
    last_draw_ = now;

    std::uint64_t done = 0;
    std::uint64_t total = 0;
    bool total_known = true;
    std::size_t finished = 0;
    for (const auto& [key, state] : files_) {
        done += state.bytes;
        if (state.total) {
            total += *state.total;
        } else {
            total_known = false;
        }
        if (state.finished) {
            ++finished;
        }
    }
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    std::string line = fmt::format("downloading: {} files of {} done, {}", finished,
                                   files_.size(), format_bytes(done));
    if (total_known && total > 0) {
        line += fmt::format(" of {} ({:.0f} %)", format_bytes(total),
                            100.0 * static_cast<double>(done) / static_cast<double>(total));
    }
    line += ", " + format_rate(rate);
    // \r returns to the line start and ESC [K clears what a longer earlier line left behind.
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    std::fflush(out_);
    line_open_ = true;
}

void console_progress::finish() {
    if (line_open_) {
        redraw(true);
        std::fputc('\n', out_);
        std::fflush(out_);
        line_open_ = false;
    }
}

}  // namespace oscrig::controller
