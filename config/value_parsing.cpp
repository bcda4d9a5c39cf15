#include "config/value_parsing.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace oscrig::config {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Parses a run of 1-9 decimal digits. With nine digits, the value times the microseconds of
// the largest unit (6 * 10^7 for a minute) stays far inside 64 bits.
std::optional<std::int64_t> parse_digits(std::string_view digits) {
    if (digits.empty() || digits.size() > 9) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (char c : digits) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

struct duration_unit {
    std::string_view suffix;
    std::int64_t microseconds;
};

// "ms" comes before "m" and "s" so that the longest suffix matches first.
constexpr std::array<duration_unit, 4> duration_units{{
    {"ms", 1'000},
    {"us", 1},
    {"s", 1'000'000},
    {"m", 60'000'000},
}};

}  // namespace

std::optional<std::chrono::microseconds> parse_duration(std::string_view text) {
    const duration_unit* unit = nullptr;
    for (const auto& candidate : duration_units) {
        if (text.ends_with(candidate.suffix)) {
            unit = &candidate;
            break;
        }
    }
    if (unit == nullptr) {
        return std::nullopt;
    }

    const std::string_view number = text.substr(0, text.size() - unit->suffix.size());
    const std::size_t point = number.find('.');
    const auto whole = parse_digits(number.substr(0, point));
    if (!whole) {
        return std::nullopt;
    }
    std::int64_t total = *whole * unit->microseconds;

    if (point != std::string_view::npos) {
        const std::string_view fraction_digits = number.substr(point + 1);
        const auto fraction = parse_digits(fraction_digits);
        if (!fraction) {
            return std::nullopt;
        }
        std::int64_t scale = 1;
        for (std::size_t i = 0; i < fraction_digits.size(); ++i) {
            scale *= 10;
        }
        // The fraction must come out as whole microseconds, so "1.5us" is rejected rather
        // than rounded.
        const std::int64_t fraction_microseconds = *fraction * unit->microseconds;
        if (fraction_microseconds % scale != 0) {
            return std::nullopt;
        }
        total += fraction_microseconds / scale;
    }
    return std::chrono::microseconds{total};
}

std::string format_duration(std::chrono::microseconds duration) {
    const std::int64_t count = duration.count();
    if (count == 0) {
        return "0s";
    }
    if (count % 60'000'000 == 0) {
        return std::to_string(count / 60'000'000) + "m";
    }
    if (count % 1'000'000 == 0) {
        return std::to_string(count / 1'000'000) + "s";
    }
    if (count % 1'000 == 0) {
        return std::to_string(count / 1'000) + "ms";
    }
    return std::to_string(count) + "us";
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    if (text.empty() || text.front() == '+') {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<double> parse_number(std::string_view text) {
    const std::size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
        const auto numerator = parse_digits(text.substr(0, slash));
        const auto denominator = parse_digits(text.substr(slash + 1));
        if (!numerator || !denominator || *numerator == 0 || *denominator == 0) {
            return std::nullopt;
        }
        return static_cast<double>(*numerator) / static_cast<double>(*denominator);
    }

    if (text.empty() || text.front() == '+') {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

bool is_ip_address(std::string_view text) {
    // inet_pton needs a terminated string. The longest IPv6 text form is 45 characters.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return false;
    }
    const std::string terminated{text};
    in6_addr address{};
    const int family = terminated.find(':') == std::string::npos ? AF_INET : AF_INET6;
    return inet_pton(family, terminated.c_str(), &address) == 1;
}

bool is_host_name(std::string_view text) {
    if (text.ends_with('.')) {
        text.remove_suffix(1);
    }
    if (text.empty() || text.size() > 253) {
        return false;
    }

    std::string_view last_label;
    while (true) {
        const std::size_t dot = text.find('.');
        const std::string_view label = text.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return false;
        }
        const bool valid_characters = std::all_of(label.begin(), label.end(), [](char c) {
            return is_letter(c) || is_digit(c) || c == '-';
        });
        if (!valid_characters) {
            return false;
        }
        last_label = label;
        if (dot == std::string_view::npos) {
            break;
        }
        text.remove_prefix(dot + 1);
    }
    return !std::all_of(last_label.begin(), last_label.end(), is_digit);
}

bool is_camera_name(std::string_view text) {
    if (text.empty() || text.size() > max_camera_name_length || text == "." || text == "..") {
        return false;
    }
    return std::all_of(text.begin(), text.end(), [](char c) {
        return is_letter(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
    });
}

bool is_interface_name(std::string_view text) {
    // IFNAMSIZ is 16 and includes the terminating NUL.
    if (text.empty() || text.size() > 15 || text == "." || text == "..") {
        return false;
    }
    return std::none_of(text.begin(), text.end(), [](char c) {
        return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
               c == '\v' || c == '\f';
    });
}

bool is_environment_variable_name(std::string_view text) {
    if (text.empty() || is_digit(text.front())) {
        return false;
    }
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_letter(c) || is_digit(c) || c == '_'; });
}

std::size_t edit_distance(std::string_view from, std::string_view to) {
    // Three rows of the dynamic programming table: two back for the swap of adjacent
    // characters, one back and the current one.
    const std::size_t columns = to.size() + 1;
    std::vector<std::size_t> before_previous(columns);
    std::vector<std::size_t> previous(columns);
    std::vector<std::size_t> current(columns);
    std::iota(previous.begin(), previous.end(), std::size_t{0});

    for (std::size_t i = 1; i <= from.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j < columns; ++j) {
            const std::size_t substitution = from[i - 1] == to[j - 1] ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1,
                                   previous[j - 1] + substitution});
            if (i > 1 && j > 1 && from[i - 1] == to[j - 2] && from[i - 2] == to[j - 1]) {
                current[j] = std::min(current[j], before_previous[j - 2] + 1);
            }
        }
        std::swap(before_previous, previous);
        std::swap(previous, current);
    }
    return previous[to.size()];
}

std::optional<std::string_view> closest_key(std::string_view key,
                                            std::span<const std::string_view> candidates) {
    std::optional<std::string_view> best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string_view candidate : candidates) {
        const std::size_t distance = edit_distance(key, candidate);
        const std::size_t longer = std::max(key.size(), candidate.size());
        if (distance <= 2 && 2 * distance < longer && distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace oscrig::config
