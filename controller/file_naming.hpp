// Local names for camera files, and shot ids. I/O-free: callers pass what exists on disk.
//
// File names come from cameras, so they are untrusted: a name must never place a file outside
// the camera's folder of the shot.
#pragma once

#include "controller/error.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace oscrig::controller {

/// Decodes %XX escapes. Fails with unsafe_file_name on a truncated or non-hex escape.
outcome<std::string> percent_decode(std::string_view text);

/// Checks one decoded file name: rejects empty names, "." and "..", '/' and '\\', NUL and
/// other control characters (below 0x20 and 0x7f). Fails with unsafe_file_name and a detail
/// that names the problem.
outcome<void> check_file_name(std::string_view name);

/// Returns the checked local name for a file URL: the last path segment, without query or
/// fragment, percent-decoded. An encoded separator (%2F, %5C) is rejected, not split.
outcome<std::string> file_name_from_url(std::string_view url);

/// Returns the request target (path and query) of a file URL such as
/// "http://127.0.0.1:8080/DCIM/a.jpg"; a URL that is already a path is returned unchanged.
std::string target_of_url(std::string_view url);

/// Joins `folder` and a checked `name`, and verifies lexically that the normalised result is
/// a direct child of the normalised folder.
outcome<std::filesystem::path> path_in_folder(const std::filesystem::path& folder,
                                              std::string_view name);

/// Formats a UTC time as a shot id base: YYYYMMDD-HHMMSS.
std::string shot_id_base(std::chrono::system_clock::time_point time);

/// Returns the first free shot id: the base, then base-2, base-3, ... `exists` returns true
/// for an id that is taken.
std::string choose_shot_id(std::chrono::system_clock::time_point time,
                           const std::function<bool(const std::string&)>& exists);

}  // namespace oscrig::controller
