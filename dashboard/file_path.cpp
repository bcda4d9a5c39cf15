#include "dashboard/file_path.hpp"

#include <system_error>
#include <vector>

namespace oscrig::dashboard {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_safe_segment(const std::string& segment) {
    if (segment.empty() || segment == "." || segment == "..") {
        return false;
    }
    for (unsigned char c : segment) {
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

// True when `path` is `root` itself or lies below it. Both must be canonical.
bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    auto root_part = root.begin();
    auto path_part = path.begin();
    for (; root_part != root.end(); ++root_part, ++path_part) {
        if (path_part == path.end() || *root_part != *path_part) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            decoded += text[i];
            continue;
        }
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        decoded += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return decoded;
}

file_lookup_result find_download(const std::filesystem::path& root, std::string_view relative) {
    // Segments are split before decoding, so an encoded "%2F" cannot add a level.
    std::vector<std::string> segments;
    while (true) {
        const auto slash = relative.find('/');
        const auto decoded = percent_decode(relative.substr(0, slash));
        if (!decoded || !is_safe_segment(*decoded)) {
            return {file_lookup::invalid_path, {}};
        }
        segments.push_back(*decoded);
        if (slash == std::string_view::npos) {
            break;
        }
        relative.remove_prefix(slash + 1);
    }
    if (segments.size() != 3) {
        return {file_lookup::invalid_path, {}};
    }

    std::error_code error;
    const auto canonical_root = std::filesystem::canonical(root, error);
    if (error) {
        return {file_lookup::not_found, {}};
    }
    const auto candidate = canonical_root / segments[0] / segments[1] / segments[2];
    const auto resolved = std::filesystem::canonical(candidate, error);
    if (error || !is_inside(canonical_root, resolved) ||
        !std::filesystem::is_regular_file(resolved, error)) {
        return {file_lookup::not_found, {}};
    }
    return {file_lookup::found, resolved};
}

}  // namespace oscrig::dashboard
