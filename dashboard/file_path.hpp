// Maps a /files request path to a downloaded file inside the fleet's output folder. I/O-free
// except for the file-system lookups that resolve symbolic links.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace oscrig::dashboard {

enum class file_lookup { found, invalid_path, not_found };

struct file_lookup_result {
    file_lookup status = file_lookup::not_found;
    std::filesystem::path path;  // canonical path of a regular file when found
};

/// Decodes %XX escapes. Returns nothing for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text);

/// Resolves `relative`, the still percent-encoded part after "/files/" (SHOT_ID/CAMERA/NAME),
/// below `root`. Rejects with invalid_path anything but exactly three segments, and segments
/// that are empty, "." or "..", or that contain a separator, NUL or control character after
/// decoding. Returns not_found unless the canonical path, with every symbolic link resolved,
/// is a regular file inside the canonical root.
file_lookup_result find_download(const std::filesystem::path& root, std::string_view relative);

}  // namespace oscrig::dashboard
