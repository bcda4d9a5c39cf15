#include "tools/sim/sim_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <random>
#include <stdexcept>

namespace oscrig::sim {

std::string_view to_string(flavour value) {
    return value == flavour::theta ? "theta" : "insta360";
}

std::optional<flavour> parse_flavour(std::string_view text) {
    if (text == "insta360") {
        return flavour::insta360;
    }
    if (text == "theta") {
        return flavour::theta;
    }
    return std::nullopt;
}

nlohmann::json fault_settings::to_json() const {
    return {
        {"unactivated", unactivated},
        {"disabled_after_idle_s", disabled_after_idle_s},
        {"card_full", card_full},
        {"slow_reply_ms", slow_reply_ms},
        {"drop_mid_reply", drop_mid_reply},
        {"drop_mid_download_at", drop_mid_download_at},
        {"http_500", http_500},
        {"malformed_json", malformed_json},
        {"stuck_in_progress", stuck_in_progress},
        {"empty_body", empty_body},
        {"unreachable", unreachable},
        {"hostile_file_names", hostile_file_names},
    };
}

namespace {

bool bool_value(std::string_view name, const nlohmann::json& value) {
    if (!value.is_boolean()) {
        throw std::invalid_argument(fmt::format("fault {} expects true or false", name));
    }
    return value.get<bool>();
}

template <class Number>
Number count_value(std::string_view name, const nlohmann::json& value) {
    if (value.is_boolean()) {
        // true on a counter means "the next reply only", which is what a test usually wants.
        return value.get<bool>() ? 1 : 0;
    }
    if (!value.is_number() || value.get<double>() < 0) {
        throw std::invalid_argument(
            fmt::format("fault {} expects a number of at least 0", name));
    }
    return value.get<Number>();
}

}  // namespace

void fault_settings::set(std::string_view name, const nlohmann::json& value) {
    if (name == "unactivated") {
        unactivated = bool_value(name, value);
    } else if (name == "disabled_after_idle_s") {
        disabled_after_idle_s = count_value<double>(name, value);
    } else if (name == "card_full") {
        card_full = bool_value(name, value);
    } else if (name == "slow_reply_ms") {
        slow_reply_ms = count_value<int>(name, value);
    } else if (name == "drop_mid_reply") {
        drop_mid_reply = count_value<int>(name, value);
    } else if (name == "drop_mid_download_at") {
        drop_mid_download_at = count_value<std::uint64_t>(name, value);
    } else if (name == "http_500") {
        http_500 = count_value<int>(name, value);
    } else if (name == "malformed_json") {
        malformed_json = count_value<int>(name, value);
    } else if (name == "stuck_in_progress") {
        stuck_in_progress = bool_value(name, value);
    } else if (name == "empty_body") {
        empty_body = count_value<int>(name, value);
    } else if (name == "unreachable") {
        unreachable = bool_value(name, value);
    } else if (name == "hostile_file_names") {
        hostile_file_names = count_value<int>(name, value);
    } else {
        throw std::invalid_argument(fmt::format(
            "unknown fault \"{}\"; known faults: {}", name, to_json().dump()));
    }
}

namespace {

[[noreturn]] void fail_at(const std::filesystem::path& file, const YAML::Node& node,
                          std::string_view message) {
    const YAML::Mark mark = node.Mark();
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", file.string(), mark.line + 1,
                                         mark.column + 1, message));
}

/// Converts a YAML scalar to the JSON value the fault setter expects.
nlohmann::json scalar_to_json(const YAML::Node& node) {
    const std::string text = node.Scalar();
    if (text == "true" || text == "false") {
        return text == "true";
    }
    try {
        std::size_t used = 0;
        const long long number = std::stoll(text, &used);
        if (used == text.size()) {
            return number;
        }
        const double real = std::stod(text, &used);
        if (used == text.size()) {
            return real;
        }
    } catch (const std::logic_error&) {
        // Not a number: the fault setter reports the type it expected.
    }
    return text;
}

template <class T>
T read_value(const std::filesystem::path& file, const YAML::Node& node, std::string_view key) {
    try {
        return node.as<T>();
    } catch (const YAML::Exception&) {
        fail_at(file, node, fmt::format("invalid value \"{}\" for {}", node.Scalar(), key));
    }
}

/// Applies one mapping of camera keys (the `defaults` entry or one camera) over `params`.
void apply_camera_keys(const std::filesystem::path& file, const YAML::Node& map,
                       camera_params& params) {
    if (!map.IsMap()) {
        fail_at(file, map, "expected a mapping of camera keys");
    }
    for (const auto& entry : map) {
        const std::string key = entry.first.Scalar();
        const YAML::Node& value = entry.second;
        if (key == "name") {
            params.name = read_value<std::string>(file, value, key);
        } else if (key == "port") {
            params.port = read_value<std::uint16_t>(file, value, key);
        } else if (key == "flavour") {
            const auto parsed = parse_flavour(read_value<std::string>(file, value, key));
            if (!parsed) {
                fail_at(file, value, "flavour must be insta360 or theta");
            }
            params.flavour = *parsed;
        } else if (key == "model") {
            params.model = read_value<std::string>(file, value, key);
        } else if (key == "serial") {
            params.serial = read_value<std::string>(file, value, key);
        } else if (key == "firmware") {
            params.firmware = read_value<std::string>(file, value, key);
        } else if (key == "clock_offset_us") {
            params.clock_offset_us = read_value<std::int64_t>(file, value, key);
        } else if (key == "drift_ppm") {
            params.drift_ppm = read_value<double>(file, value, key);
        } else if (key == "reply_delay_ms") {
            params.reply_delay_ms = read_value<int>(file, value, key);
        } else if (key == "one_way_delay_us") {
            params.one_way_delay_us = read_value<std::int64_t>(file, value, key);
        } else if (key == "jitter_us") {
            params.jitter_us = read_value<std::int64_t>(file, value, key);
        } else if (key == "capture_time_ms") {
            params.capture_time_ms = read_value<int>(file, value, key);
        } else if (key == "capture_mode_wait_ms") {
            params.capture_mode_wait_ms = read_value<int>(file, value, key);
        } else if (key == "api_version") {
            params.api_version = read_value<int>(file, value, key);
            if (params.api_version != 1 && params.api_version != 2) {
                fail_at(file, value, "api_version must be 1 or 2");
            }
        } else if (key == "battery_level") {
            params.battery_level = read_value<double>(file, value, key);
        } else if (key == "battery_drain_per_minute") {
            params.battery_drain_per_minute = read_value<double>(file, value, key);
        } else if (key == "charging") {
            params.charging = read_value<bool>(file, value, key);
        } else if (key == "card_state") {
            params.card_state = read_value<std::string>(file, value, key);
        } else if (key == "total_space") {
            params.total_space = read_value<std::uint64_t>(file, value, key);
        } else if (key == "remaining_space") {
            params.remaining_space = read_value<std::uint64_t>(file, value, key);
        } else if (key == "photo_bytes") {
            params.photo_bytes = read_value<std::uint64_t>(file, value, key);
        } else if (key == "video_bytes_per_second") {
            params.video_bytes_per_second = read_value<std::uint64_t>(file, value, key);
        } else if (key == "video_bytes") {
            params.video_bytes = read_value<std::uint64_t>(file, value, key);
        } else if (key == "photo_width") {
            params.photo_width = read_value<int>(file, value, key);
        } else if (key == "photo_height") {
            params.photo_height = read_value<int>(file, value, key);
        } else if (key == "user") {
            params.user = read_value<std::string>(file, value, key);
        } else if (key == "password") {
            params.password = read_value<std::string>(file, value, key);
        } else if (key == "faults") {
            if (!value.IsMap()) {
                fail_at(file, value, "faults must be a mapping of fault name to value");
            }
            for (const auto& fault : value) {
                try {
                    params.faults.set(fault.first.Scalar(), scalar_to_json(fault.second));
                } catch (const std::invalid_argument& e) {
                    fail_at(file, fault.second, e.what());
                }
            }
        } else {
            fail_at(file, entry.first, fmt::format("unknown camera key \"{}\"", key));
        }
    }
}

/// Fills the identity and clock fields that the config left empty. Offsets look like a
/// camera's time since boot (10 s to about 3 h) and differ between cameras for every seed.
void fill_defaults(camera_params& params, std::size_t index, std::uint64_t seed) {
    std::mt19937_64 random(seed * 1'000'003 + index);
    if (params.name.empty()) {
        params.name = fmt::format("cam{}", index + 1);
    }
    const bool theta = params.flavour == flavour::theta;
    if (params.model.empty()) {
        params.model = theta ? "RICOH THETA Z1" : "Insta360 ONE X2";
    }
    if (params.firmware.empty()) {
        params.firmware = theta ? "2.10.3" : "v1.0.59.6";
    }
    if (params.serial.empty()) {
        const unsigned number = static_cast<unsigned>(random() % 100'000);
        params.serial = theta ? fmt::format("100{:05}", number)
                              : fmt::format("IXSE{:02}{:05}", index % 100, number);
    }
    if (!params.clock_offset_us) {
        const std::int64_t spread = static_cast<std::int64_t>(random() % 10'000'000'000ULL);
        params.clock_offset_us =
            10'000'000 + static_cast<std::int64_t>(index) * 7'919'000 + spread;
    }
}

}  // namespace

std::vector<camera_params> load_cameras(const sim_settings& settings) {
    camera_params defaults;
    defaults.flavour = settings.flavour;
    std::vector<camera_params> cameras;

    if (!settings.config_file.empty()) {
        YAML::Node root;
        try {
            root = YAML::LoadFile(settings.config_file.string());
        } catch (const YAML::Exception& e) {
            throw std::runtime_error(
                fmt::format("{}: cannot read config: {}", settings.config_file.string(), e.what()));
        }
        if (root && !root.IsNull() && !root.IsMap()) {
            fail_at(settings.config_file, root, "expected keys defaults and cameras");
        }
        for (const auto& entry : root) {
            const std::string key = entry.first.Scalar();
            if (key != "defaults" && key != "cameras") {
                fail_at(settings.config_file, entry.first,
                        fmt::format("unknown key \"{}\"; expected defaults or cameras", key));
            }
        }
        if (root["defaults"]) {
            apply_camera_keys(settings.config_file, root["defaults"], defaults);
        }
        if (const YAML::Node list = root["cameras"]) {
            if (!list.IsSequence()) {
                fail_at(settings.config_file, list, "cameras must be a list");
            }
            for (const auto& item : list) {
                camera_params params = defaults;
                apply_camera_keys(settings.config_file, item, params);
                cameras.push_back(std::move(params));
            }
        }
    }

    std::size_t count = settings.cameras > 0 ? static_cast<std::size_t>(settings.cameras)
                                             : std::max<std::size_t>(cameras.size(), 1);
    cameras.resize(count, defaults);
    for (std::size_t i = 0; i < cameras.size(); ++i) {
        fill_defaults(cameras[i], i, settings.seed);
    }
    for (std::size_t i = 0; i < cameras.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (cameras[i].name == cameras[j].name) {
                throw std::runtime_error(
                    fmt::format("two cameras are named \"{}\"", cameras[i].name));
            }
        }
    }
    return cameras;
}

}  // namespace oscrig::sim
