#include "config/rig.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace oscrig::config {
namespace {

// Replaces `target` with `source` when `source` is set.
template <class T>
void override_with(std::optional<T>& target, const std::optional<T>& source) {
    if (source) {
        target = source;
    }
}

// Contents of a file, or the reason why it could not be read.
struct file_text {
    std::string text;
    std::string error;  // empty on success
};

// Reads a whole file with POSIX calls, so that a failure carries the OS reason from errno,
// including for a directory (EISDIR from read).
file_text read_file(const std::filesystem::path& path) {
    file_text result;
    // O_NONBLOCK keeps open() from waiting for a writer when the path is a named pipe, which
    // the check below then rejects.
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (descriptor < 0) {
        result.error = std::generic_category().message(errno);
        return result;
    }
    struct stat status {};
    if (::fstat(descriptor, &status) == 0 && !S_ISREG(status.st_mode) &&
        !S_ISDIR(status.st_mode)) {
        ::close(descriptor);
        result.error = "not a regular file";
        return result;
    }

    char buffer[16 * 1024];
    while (true) {
        const ssize_t count = ::read(descriptor, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            result.error = std::generic_category().message(errno);
            break;
        }
        if (count == 0) {
            break;
        }
        if (result.text.size() + static_cast<std::size_t>(count) > max_rig_file_size) {
            result.error = "larger than " + std::to_string(max_rig_file_size / (1024 * 1024)) +
                           " MiB, which is too large for a rig file";
            break;
        }
        result.text.append(buffer, static_cast<std::size_t>(count));
    }
    ::close(descriptor);
    return result;
}

}  // namespace

std::string_view to_string(capture_mode mode) {
    switch (mode) {
    case capture_mode::photo:
        return "photo";
    case capture_mode::video:
        return "video";
    case capture_mode::timelapse:
        return "timelapse";
    }
    return "unknown";
}

capture_settings capture_settings::merged_with(const capture_settings& overrides) const {
    capture_settings merged = *this;
    override_with(merged.mode, overrides.mode);
    override_with(merged.hdr, overrides.hdr);
    override_with(merged.photo_stitching, overrides.photo_stitching);
    override_with(merged.exposure_program, overrides.exposure_program);
    override_with(merged.iso, overrides.iso);
    override_with(merged.shutter_speed, overrides.shutter_speed);
    override_with(merged.white_balance, overrides.white_balance);
    override_with(merged.timelapse_interval, overrides.timelapse_interval);
    return merged;
}

capture_settings rig::settings_for(const camera_config& camera) const {
    return capture.merged_with(camera.overrides);
}

std::string config_error::to_string() const {
    std::string text = file;
    if (line > 0) {
        text += ':' + std::to_string(line) + ':' + std::to_string(column);
    }
    text += ": ";
    if (!path.empty()) {
        text += path + ": ";
    }
    text += message;
    return text;
}

load_result load_rig_file(const std::filesystem::path& path) {
    const std::string label = path.string();
    file_text file = read_file(path);
    if (!file.error.empty()) {
        config_error error{label, 0, 0, "", "failed to read the file: " + file.error};
        return load_result{std::nullopt, {std::move(error)}};
    }

    load_result result = parse_rig(file.text, label);
    if (result.value) {
        rig& loaded = *result.value;
        loaded.source_file = path;
        if (loaded.output_dir.is_relative()) {
            loaded.output_dir = path.parent_path() / loaded.output_dir;
        }
    }
    return result;
}

}  // namespace oscrig::config
