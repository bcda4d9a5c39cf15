// Parsers and checks for the text of single rig file values. They know nothing of YAML: each
// takes the text of one scalar, so they are usable and testable on their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace oscrig::config {

/// Parses a duration written as a decimal number directly followed by a unit: "us", "ms", "s"
/// or "m" (minutes), such as "500ms", "1.5s" or "2m". Returns nothing for any other text:
/// a bare number, a sign, an exponent, a space before the unit, a value finer than one
/// microsecond, or more than nine digits before or after the decimal point.
std::optional<std::chrono::microseconds> parse_duration(std::string_view text);

/// Formats a duration in the largest unit that shows it exactly: "2m", "1500ms", "0s".
std::string format_duration(std::chrono::microseconds duration);

/// Parses a decimal integer with an optional leading '-'. Returns nothing for any other text
/// or when the value does not fit in 64 bits.
std::optional<std::int64_t> parse_integer(std::string_view text);

/// Parses a finite decimal number ("0.004", "2", "1e-3") or a fraction of two positive integers
/// ("1/250"). Returns nothing for any other text, infinities and NaN.
std::optional<double> parse_number(std::string_view text);

/// Checks for an IPv4 address in dotted decimal or an IPv6 address without brackets or zone.
bool is_ip_address(std::string_view text);

/// Checks for a DNS host name: dot-separated labels of letters, digits and '-' (RFC 1123), each
/// 1-63 characters and neither starting nor ending with '-', at most 253 characters in all,
/// with an optional final dot. An all-numeric last label is rejected so that a mistyped IPv4
/// address such as "127.0.0" is not taken for a name.
bool is_host_name(std::string_view text);

/// Maximum length of a camera name in bytes. The name is used as a folder name, so the limit
/// stays well below NAME_MAX (255 on Linux).
inline constexpr std::size_t max_camera_name_length = 64;

/// Checks for a camera name: 1-64 letters, digits, '-', '_' or '.', and neither "." nor "..".
bool is_camera_name(std::string_view text);

/// Checks for a Linux network interface name by the rule of the kernel's dev_valid_name():
/// 1-15 characters, not "." or "..", without '/', ':' or whitespace.
bool is_interface_name(std::string_view text);

/// Checks for a POSIX environment variable name: letters, digits and '_', not starting with a
/// digit.
bool is_environment_variable_name(std::string_view text);

/// Returns the number of single-character insertions, deletions, substitutions and swaps of
/// adjacent characters that turn `from` into `to` (optimal string alignment distance).
std::size_t edit_distance(std::string_view from, std::string_view to);

/// Returns the candidate that `key` most likely misspells. A candidate counts only when its edit
/// distance is at most 2 and less than half the length of the longer string, so short keys
/// get no far-fetched guess. Returns nothing when no candidate counts.
std::optional<std::string_view> closest_key(std::string_view key,
                                            std::span<const std::string_view> candidates);

}  // namespace oscrig::config
