#include "controller/file_naming.hpp"

#include <fmt/format.h>

#include <ctime>

namespace oscrig::controller {
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

/// Strips "scheme://authority" from a URL, leaving path, query and fragment.
std::string_view strip_origin(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return url;
    }
    const auto path_start = url.find('/', scheme_end + 3);
    if (path_start == std::string_view::npos) {
        return {};
    }
    return url.substr(path_start);
}

/// Cuts the query and the fragment off a path.
std::string_view path_only(std::string_view target) {
    const auto end = target.find_first_of("?#");
    return end == std::string_view::npos ? target : target.substr(0, end);
}

bool has_encoded_separator(std::string_view text) {
    for (std::size_t i = 0; i + 2 < text.size(); ++i) {
        if (text[i] != '%') {
            continue;
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        const int value = high * 16 + low;
        if (high >= 0 && low >= 0 && (value == '/' || value == '\\')) {
            return true;
        }
    }
    return false;
}

}  // namespace

outcome<std::string> percent_decode(std::string_view text) {
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            decoded += text[i];
            continue;
        }
        if (i + 2 >= text.size()) {
            return make_failure(errc::unsafe_file_name,
                                fmt::format("truncated percent escape in \"{}\"", text));
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return make_failure(errc::unsafe_file_name,
                                fmt::format("invalid percent escape in \"{}\"", text));
        }
        decoded += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return decoded;
}

outcome<void> check_file_name(std::string_view name) {
    if (name.empty()) {
        return make_failure(errc::unsafe_file_name, "empty file name");
    }
    if (name == "." || name == "..") {
        return make_failure(errc::unsafe_file_name,
                            fmt::format("file name \"{}\" is a directory reference", name));
    }
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '/' || c == '\\') {
            return make_failure(errc::unsafe_file_name,
                                fmt::format("file name \"{}\" contains a path separator", name));
        }
        if (byte < 0x20 || byte == 0x7f) {
            return make_failure(errc::unsafe_file_name,
                                fmt::format("file name contains control character 0x{:02x}",
                                            static_cast<unsigned>(byte)));
        }
    }
    return {};
}

outcome<std::string> file_name_from_url(std::string_view url) {
    const std::string_view path = path_only(strip_origin(url));
    const auto last_slash = path.rfind('/');
    const std::string_view segment =
        last_slash == std::string_view::npos ? path : path.substr(last_slash + 1);

    if (has_encoded_separator(segment)) {
        return make_failure(errc::unsafe_file_name,
                            fmt::format("URL \"{}\" has an encoded path separator in its file "
                                        "name",
                                        url));
    }
    // A camera has no reason to send dot segments. A URL with them points somewhere other
    // than its last segment suggests, so the whole URL is rejected.
    std::string_view rest = path;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const auto part = percent_decode(rest.substr(0, slash));
        if (part && (*part == "." || *part == "..")) {
            return make_failure(errc::unsafe_file_name,
                                fmt::format("URL \"{}\" contains a \"{}\" path segment", url,
                                            *part));
        }
        if (slash == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(slash + 1);
    }

    auto decoded = percent_decode(segment);
    if (!decoded) {
        return decoded.error();
    }
    if (auto checked = check_file_name(*decoded); !checked) {
        return failure{checked.error().code,
                       fmt::format("{} (URL \"{}\")", checked.error().detail, url)};
    }
    return decoded;
}

std::string target_of_url(std::string_view url) {
    if (url.find("://") == std::string_view::npos) {
        return std::string(url);
    }
    const std::string_view target = strip_origin(url);
    return target.empty() ? std::string("/") : std::string(target);
}

outcome<std::filesystem::path> path_in_folder(const std::filesystem::path& folder,
                                              std::string_view name) {
    if (auto checked = check_file_name(name); !checked) {
        return checked.error();
    }
    const auto base = folder.lexically_normal();
    const auto joined = (base / std::filesystem::path(std::string(name))).lexically_normal();
    // Compare without a trailing separator: "a/b/" and "a/b" name the same folder.
    const auto parent = joined.parent_path().lexically_normal();
    const auto expected = (base / "").parent_path().lexically_normal();
    if (parent != expected || joined.filename().string() != name) {
        return make_failure(errc::unsafe_file_name,
                            fmt::format("\"{}\" would be written outside {}", name,
                                        folder.string()));
    }
    return joined;
}

std::string shot_id_base(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string choose_shot_id(std::chrono::system_clock::time_point time,
                           const std::function<bool(const std::string&)>& exists) {
    const std::string base = shot_id_base(time);
    if (!exists(base)) {
        return base;
    }
    for (int suffix = 2;; ++suffix) {
        std::string candidate = fmt::format("{}-{}", base, suffix);
        if (!exists(candidate)) {
            return candidate;
        }
    }
}

}  // namespace oscrig::controller
