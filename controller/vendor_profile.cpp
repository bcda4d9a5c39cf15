#include "controller/vendor_profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
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

}  // namespace oscrig::osc
