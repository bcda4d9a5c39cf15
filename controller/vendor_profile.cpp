#include "controller/vendor_profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <vector>

namespace oscrig::osc {
namespace {

std::string upper_case(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return result;
}

std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream stream{std::string(text)};
    std::string word;
    while (stream >> word) {
        words.push_back(word);
    }
    return words;
}

// THETA S and SC are the models that start in API level 1, while the SC2, V, Z1 and X start
// in level 2. Model strings look like "RICOH THETA S" and "RICOH THETA SC".
bool is_level_1_theta(const camera_info& info) {
    auto words = words_of(upper_case(info.model));
    auto theta = std::find(words.begin(), words.end(), "THETA");
    if (theta == words.end() || std::next(theta) == words.end()) {
        return false;
    }
    const std::string& variant = *std::next(theta);
    return variant == "S" || variant == "SC";
}

// A camera time "YYYY:MM:DD hh:mm:ss" with an optional "+hh:mm" or "-hh:mm" suffix.
struct parsed_camera_time {
    std::chrono::sys_seconds clock_time;  // the local time as written, taken as if it were UTC
    std::optional<std::chrono::minutes> utc_offset;
};

std::optional<int> digits_at(std::string_view text, std::size_t position, std::size_t count) {
    if (position + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    const char* first = text.data() + position;
    const auto [end, error] = std::from_chars(first, first + count, value);
    if (error != std::errc{} || end != first + count) {
        return std::nullopt;
    }
    return value;
}

std::optional<parsed_camera_time> parse_camera_time(std::string_view text) {
    constexpr std::string_view layout = "0000:00:00 00:00:00";
    if (text.size() != layout.size() && text.size() != layout.size() + 6) {
        return std::nullopt;
    }

    for (std::size_t i = 0; i < layout.size(); ++i) {
        if (layout[i] != '0' && text[i] != layout[i]) {
            return std::nullopt;
        }
    }
    const auto year = digits_at(text, 0, 4);
    const auto month = digits_at(text, 5, 2);
    const auto day = digits_at(text, 8, 2);
    const auto hour = digits_at(text, 11, 2);
    const auto minute = digits_at(text, 14, 2);
    const auto second = digits_at(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second) {
        return std::nullopt;
    }

    using namespace std::chrono;
    const year_month_day date{std::chrono::year{*year}, std::chrono::month{unsigned(*month)},
                              std::chrono::day{unsigned(*day)}};
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    parsed_camera_time parsed;
    parsed.clock_time = sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second};
    if (text.size() == layout.size()) {
        return parsed;
    }

    const char sign = text[layout.size()];
    const auto offset_hours = digits_at(text, layout.size() + 1, 2);
    const auto offset_minutes = digits_at(text, layout.size() + 4, 2);
    if ((sign != '+' && sign != '-') || text[layout.size() + 3] != ':' || !offset_hours ||
        !offset_minutes) {
        return std::nullopt;
    }
    const minutes magnitude{*offset_hours * 60 + *offset_minutes};
    parsed.utc_offset = sign == '-' ? -magnitude : magnitude;
    return parsed;
}

}  // namespace

std::string_view to_string(vendor value) {
    switch (value) {
        case vendor::insta360:
            return "insta360";
        case vendor::ricoh:
            return "ricoh";
        case vendor::other:
            return "other";
    }
    return "other";
}

vendor_profile select_vendor_profile(const camera_info& info) {
    vendor_profile profile;
    if (info.is_insta360()) {
        profile.vendor = vendor::insta360;
        profile.capture_mode_settle = std::chrono::milliseconds{0};
        profile.time_option = "_dateTime";
        profile.time_includes_offset = false;
        profile.has_sys_timestamp = true;
        return profile;
    }
    if (info.is_ricoh()) {
        profile.vendor = vendor::ricoh;
        profile.capture_mode_settle = std::chrono::milliseconds{1000};
        profile.time_option = "dateTimeZone";
        profile.time_includes_offset = true;
        profile.set_time_alone = true;
        profile.has_capture_status = true;
        profile.switch_to_api_level_2 = is_level_1_theta(info);
        return profile;
    }
    // Other OSC cameras get the standard option: dateTimeZone is part of OSC level 2.
    profile.time_option = "dateTimeZone";
    profile.time_includes_offset = true;
    return profile;
}

bool needs_api_level_switch(const vendor_profile& profile, const camera_info& info,
                            const camera_state& state) {
    if (!profile.switch_to_api_level_2) {
        return false;
    }
    bool offers_level_2 =
        std::find(info.api_levels.begin(), info.api_levels.end(), 2) != info.api_levels.end();
    return offers_level_2 && state.api_version == 1;
}

std::string format_camera_time(const vendor_profile& profile,
                               std::chrono::system_clock::time_point utc_time,
                               std::chrono::minutes utc_offset) {
    if (profile.time_option.empty()) {
        return {};
    }
    using namespace std::chrono;
    auto local = floor<seconds>(utc_time) + utc_offset;
    auto day = floor<days>(local);
    year_month_day date{day};
    hh_mm_ss time{local - day};

    std::string text =
        fmt::format("{:04}:{:02}:{:02} {:02}:{:02}:{:02}", static_cast<int>(date.year()),
                    static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                    time.hours().count(), time.minutes().count(), time.seconds().count());
    if (profile.time_includes_offset) {
        auto offset_minutes = utc_offset.count();
        char sign = offset_minutes < 0 ? '-' : '+';
        auto magnitude = std::abs(offset_minutes);
        text += fmt::format("{}{:02}:{:02}", sign, magnitude / 60, magnitude % 60);
    }
    return text;
}

std::optional<std::string> capture_status_problem(const vendor_profile& profile,
                                                  const camera_state& state) {
    if (!profile.has_capture_status) {
        return std::nullopt;
    }
    const std::string& status = state.capture_status;
    if (status.empty() || status == "idle") {
        return std::nullopt;
    }
    return fmt::format("the camera is busy: /osc/state reports _captureStatus {}", status);
}

std::chrono::minutes local_utc_offset(std::chrono::system_clock::time_point utc_time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(utc_time);
    std::tm local{};
    if (localtime_r(&seconds, &local) == nullptr) {
        return std::chrono::minutes{0};
    }
    // tm_gmtoff is a glibc and BSD field, in seconds east of UTC.
    return std::chrono::minutes{local.tm_gmtoff / 60};
}

std::optional<std::string> compare_camera_time(std::string_view sent, std::string_view read_back,
                                               std::chrono::seconds tolerance) {
    const auto expected = parse_camera_time(sent);
    if (!expected) {
        return fmt::format("the time sent, \"{}\", is not a camera time", sent);
    }
    const auto actual = parse_camera_time(read_back);
    if (!actual) {
        return fmt::format("the camera returned \"{}\", which is not a camera time",
                           read_back);
    }
    if (expected->utc_offset && actual->utc_offset &&
        *expected->utc_offset != *actual->utc_offset) {
        return fmt::format("the camera kept UTC offset {} min instead of {} min",
                           actual->utc_offset->count(), expected->utc_offset->count());
    }
    const auto difference = actual->clock_time - expected->clock_time;
    if (difference > tolerance || difference < -tolerance) {
        return fmt::format("the camera returned \"{}\", {} s from the \"{}\" sent", read_back,
                           difference.count(), sent);
    }
    return std::nullopt;
}

}  // namespace oscrig::osc
