// Reading a rig from YAML text: a walk of the schema over yaml-cpp nodes that collects every
// problem as a positioned config_error and keeps going after each one.
#include "config/rig.hpp"
#include "config/value_parsing.hpp"
#include "config/yaml_fields.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace oscrig::config {
namespace {

using namespace detail;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr std::array<std::string_view, 8> rig_keys{
    "rig", "output", "capture", "timeouts", "status_poll_interval", "health_interval", "sync",
    "cameras"};
constexpr std::array<std::string_view, 8> capture_keys{
    "mode", "hdr", "photo_stitching", "exposure_program", "iso", "shutter_speed",
    "white_balance", "timelapse_interval"};
constexpr std::array<std::string_view, 5> timeout_keys{
    "connect", "info_state", "command", "status", "download_stall"};
constexpr std::array<std::string_view, 3> sync_keys{
    "method", "staging_window", "abort_if_not_ready"};
constexpr std::array<std::string_view, 8> camera_keys{
    "name", "host", "port", "interface", "source_address", "one_way_delay", "auth", "options"};
constexpr std::array<std::string_view, 3> auth_keys{"user", "password", "password_env"};

void read_exposure_program(const entry& field, capture_settings& settings, error_list& errors) {
    constexpr std::string_view expected =
        "1 (manual), 2 (auto), 4 (shutter priority) or 9 (ISO priority)";
    const auto value = read_integer(field, expected, errors);
    if (!value) {
        return;
    }
    if (*value != 1 && *value != 2 && *value != 4 && *value != 9) {
        report_expected(field, expected, errors);
        return;
    }
    settings.exposure_program = static_cast<int>(*value);
}

void read_iso(const entry& field, capture_settings& settings, error_list& errors) {
    constexpr std::string_view expected = "0 (auto) or an integer 50-12800";
    const auto value = read_integer(field, expected, errors);
    if (!value) {
        return;
    }
    if (*value != 0 && (*value < 50 || *value > 12800)) {
        report_expected(field, expected, errors);
        return;
    }
    settings.iso = static_cast<int>(*value);
}

void read_shutter_speed(const entry& field, capture_settings& settings, error_list& errors) {
    constexpr std::string_view expected =
        "a shutter speed in seconds such as 0.004 or 1/250, or 0 for auto";
    const auto text = read_plain(field, expected, errors);
    if (!text) {
        return;
    }
    const auto value = parse_number(*text);
    if (!value || *value < 0) {
        report_expected(field, expected, errors);
        return;
    }
    settings.shutter_speed = *value;
}

// Reads the keys of `capture` or of a camera's `options`. Keys that are absent stay unset.
void read_capture(const mapping& fields, capture_settings& settings, error_list& errors) {
    if (const entry* field = fields.find("mode")) {
        constexpr std::array<std::string_view, 3> modes{"photo", "video", "timelapse"};
        if (const auto index = read_choice(*field, modes, errors)) {
            settings.mode = static_cast<capture_mode>(*index);
        }
    }
    if (const entry* field = fields.find("hdr")) {
        settings.hdr = read_bool(*field, errors);
    }
    if (const entry* field = fields.find("photo_stitching")) {
        constexpr std::array<std::string_view, 2> stitching{"none", "ondevice"};
        if (const auto index = read_choice(*field, stitching, errors)) {
            settings.photo_stitching = std::string{stitching[*index]};
        }
    }
    if (const entry* field = fields.find("exposure_program")) {
        read_exposure_program(*field, settings, errors);
    }
    if (const entry* field = fields.find("iso")) {
        read_iso(*field, settings, errors);
    }
    if (const entry* field = fields.find("shutter_speed")) {
        read_shutter_speed(*field, settings, errors);
    }
    if (const entry* field = fields.find("white_balance")) {
        settings.white_balance =
            read_text(*field, R"(a white balance name such as "auto" or "daylight")", errors);
    }
    if (const entry* field = fields.find("timelapse_interval")) {
        if (const auto interval = read_duration(*field, 1ms, std::nullopt, errors)) {
            settings.timelapse_interval = std::chrono::duration<double>(*interval).count();
        }
    }
}

void read_timeouts(const mapping& fields, request_timeouts& timeouts, error_list& errors) {
    const std::array<std::pair<std::string_view, milliseconds*>, 5> targets{{
        {"connect", &timeouts.connect},
        {"info_state", &timeouts.info_state},
        {"command", &timeouts.command},
        {"status", &timeouts.status},
        {"download_stall", &timeouts.download_stall},
    }};
    for (const auto& [key, target] : targets) {
        if (const entry* field = fields.find(key)) {
            assign(read_milliseconds(*field, 1ms, std::nullopt, errors), *target);
        }
    }
}

void read_sync(const mapping& fields, sync_settings& sync, error_list& errors) {
    if (const entry* field = fields.find("method")) {
        constexpr std::array<std::string_view, 2> methods{"staged", "none"};
        if (const auto index = read_choice(*field, methods, errors)) {
            sync.method = static_cast<sync_method>(*index);
        }
    }
    if (const entry* field = fields.find("staging_window")) {
        assign(read_milliseconds(*field, 10ms, 10s, errors), sync.staging_window);
    }
    if (const entry* field = fields.find("abort_if_not_ready")) {
        assign(read_bool(*field, errors), sync.abort_if_not_ready);
    }
}

std::optional<auth_settings> read_auth(const mapping& fields, error_list& errors) {
    auth_settings auth;
    bool valid = true;
    if (const entry* field = fields.require("user", errors)) {
        const auto user = read_text(*field, "a user name", errors);
        valid = valid && user.has_value();
        assign(user, auth.user);
    } else {
        valid = false;
    }

    const entry* password = fields.find("password");
    const entry* password_env = fields.find("password_env");
    if (password != nullptr && password_env != nullptr) {
        const entry* second =
            password->key.Mark().pos < password_env->key.Mark().pos ? password_env : password;
        errors.add(second->key.Mark(), fields.path(),
                   R"(expected exactly one of "password" and "password_env", got both)");
        return std::nullopt;
    }
    if (password == nullptr && password_env == nullptr) {
        errors.add(fields.node().Mark(), fields.path(),
                   R"(missing required key "password" or "password_env")");
        return std::nullopt;
    }

    if (password != nullptr) {
        const auto text = read_password(*password, errors);
        valid = valid && text.has_value();
        assign(text, auth.password);
    } else {
        const auto name = read_text(*password_env, "an environment variable name", errors);
        if (name && !is_environment_variable_name(*name)) {
            report_expected(*password_env,
                            "an environment variable name of letters, digits and '_', not "
                            "starting with a digit",
                            errors);
            return std::nullopt;
        }
        valid = valid && name.has_value();
        assign(name, auth.password_env);
    }
    return valid ? std::optional<auth_settings>{std::move(auth)} : std::nullopt;
}

void read_camera_name(const entry& field, camera_config& camera, error_list& errors) {
    const auto name = read_text(field, "a camera name", errors);
    if (!name) {
        return;
    }
    if (*name == "." || *name == "..") {
        report_expected(field, R"(a camera name other than "." and "..", which name folders)",
                        errors);
        return;
    }
    if (!is_camera_name(*name)) {
        report_expected(field,
                        "a camera name of at most " + std::to_string(max_camera_name_length) +
                            " letters, digits, '-', '_' or '.'",
                        errors);
        return;
    }
    camera.name = *name;
}

void read_camera_network(const mapping& fields, camera_config& camera, error_list& errors) {
    if (const entry* field = fields.find("host")) {
        constexpr std::string_view expected =
            "a host name, or an IPv4 or IPv6 address without brackets";
        const auto host = read_text(*field, expected, errors);
        if (host && !is_ip_address(*host) && !is_host_name(*host)) {
            report_expected(*field, expected, errors);
        } else {
            assign(host, camera.host);
        }
    }
    if (const entry* field = fields.find("port")) {
        constexpr std::string_view expected = "an integer 1-65535";
        const auto port = read_integer(*field, expected, errors);
        if (port && (*port < 1 || *port > 65535)) {
            report_expected(*field, expected, errors);
        } else if (port) {
            camera.port = static_cast<std::uint16_t>(*port);
        }
    }
    if (const entry* field = fields.find("interface")) {
        constexpr std::string_view expected =
            R"(a network interface name of 1-15 characters, not "." or "..", )"
            "without '/', ':' or whitespace";
        const auto name = read_text(*field, expected, errors);
        if (name && !is_interface_name(*name)) {
            report_expected(*field, expected, errors);
        } else {
            assign(name, camera.interface);
        }
    }
    if (const entry* field = fields.find("source_address")) {
        constexpr std::string_view expected = "an IPv4 or IPv6 address";
        const auto address = read_text(*field, expected, errors);
        if (address && !is_ip_address(*address)) {
            report_expected(*field, expected, errors);
        } else {
            assign(address, camera.source_address);
        }
    }
    if (const entry* field = fields.find("one_way_delay")) {
        camera.one_way_delay = read_duration(*field, 0us, 1s, errors);
    }
}

void read_camera(const mapping& fields, camera_config& camera, error_list& errors) {
    camera.line = fields.node().Mark().line + 1;
    if (const entry* field = fields.require("name", errors)) {
        read_camera_name(*field, camera, errors);
    }
    read_camera_network(fields, camera, errors);

    if (const entry* field = fields.find("auth")) {
        // A scalar here may be a password written in the wrong place, so it is not shown.
        if (field->value.IsMap()) {
            camera.auth = read_auth(mapping{field->value, field->path, auth_keys, errors}, errors);
        } else {
            errors.add(field->mark(), field->path,
                       "expected a mapping with the keys " + join_keys(auth_keys));
        }
    }
    if (const entry* field = fields.find("options")) {
        if (const auto options = read_mapping(*field, capture_keys, errors)) {
            read_capture(*options, camera.overrides, errors);
        }
    }
}

void read_cameras(const entry& field, std::vector<camera_config>& cameras, error_list& errors) {
    if (!field.value.IsSequence() || field.value.size() == 0) {
        report_expected(field, "a list of at least one camera", errors);
        return;
    }

    // Line of the name of the first camera with each name, for duplicate reports.
    std::map<std::string, int, std::less<>> first_name_lines;
    for (std::size_t index = 0; index < field.value.size(); ++index) {
        // NOTE: yaml-cpp marks an empty item ("-" alone) at the token after it, so errors
        // about such an item point at the next item or line.
        const entry item{item_path(field.path, index), field.value[index], field.value[index]};
        if (!item.value.IsMap()) {
            report_expected(item, "a mapping with the keys " + join_keys(camera_keys), errors);
            continue;
        }
        const mapping fields{item.value, item.path, camera_keys, errors};
        camera_config camera;
        read_camera(fields, camera, errors);

        if (!camera.name.empty()) {
            const entry* name = fields.find("name");
            const int line = name->value.Mark().line + 1;
            const auto [first, inserted] = first_name_lines.emplace(camera.name, line);
            if (!inserted) {
                errors.add(name->value.Mark(), name->path,
                           "duplicate camera name " + quote(camera.name) +
                               "; the first is on line " + std::to_string(first->second));
            }
        }
        cameras.push_back(std::move(camera));
    }
}

void read_rig(const mapping& fields, rig& result, error_list& errors) {
    if (const entry* field = fields.require("rig", errors)) {
        assign(read_text(*field, "a rig name", errors), result.name);
    }
    if (const entry* field = fields.find("output")) {
        assign(read_text(*field, "an output directory", errors), result.output_dir);
    }
    if (const entry* field = fields.find("capture")) {
        if (const auto capture = read_mapping(*field, capture_keys, errors)) {
            read_capture(*capture, result.capture, errors);
        }
    }
    if (const entry* field = fields.find("timeouts")) {
        if (const auto timeouts = read_mapping(*field, timeout_keys, errors)) {
            read_timeouts(*timeouts, result.timeouts, errors);
        }
    }
    if (const entry* field = fields.find("status_poll_interval")) {
        assign(read_milliseconds(*field, 200ms, std::nullopt, errors),
               result.status_poll_interval);
    }
    if (const entry* field = fields.find("health_interval")) {
        assign(read_milliseconds(*field, 1s, std::nullopt, errors), result.health_interval);
    }
    if (const entry* field = fields.find("sync")) {
        if (const auto sync = read_mapping(*field, sync_keys, errors)) {
            read_sync(*sync, result.sync, errors);
        }
    }
    if (const entry* field = fields.require("cameras", errors)) {
        read_cameras(*field, result.cameras, errors);
    }
}

}  // namespace

load_result parse_rig(std::string_view yaml_text, const std::string& file_name) {
    error_list errors{file_name};
    const std::string root_expected = R"(a mapping with the keys "rig" and "cameras")";

    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string{yaml_text});
    } catch (const YAML::Exception& e) {
        errors.add(e.mark, "", "invalid YAML: " + e.msg);
        return load_result{std::nullopt, errors.take()};
    }

    if (documents.empty()) {
        errors.add(1, 1, "", "expected " + root_expected + ", got an empty file");
        return load_result{std::nullopt, errors.take()};
    }
    if (documents.size() > 1) {
        errors.add(documents[1].Mark(), "", "expected one YAML document, got a second one");
    }

    const YAML::Node& root = documents.front();
    if (!root.IsMap()) {
        const std::string found = root.IsNull() ? "an empty document" : describe(root);
        errors.add(root.IsNull() ? YAML::Mark{} : root.Mark(), "",
                   "expected " + root_expected + ", got " + found);
        return load_result{std::nullopt, errors.take()};
    }

    rig result;
    read_rig(mapping{root, "", rig_keys, errors}, result, errors);

    // The schema is read key by key, so errors come in schema order. Sorting puts them in file
    // order, as editors and compilers list them.
    std::vector<config_error> found = errors.take();
    std::stable_sort(found.begin(), found.end(), [](const config_error& a, const config_error& b) {
        return std::pair{a.line, a.column} < std::pair{b.line, b.column};
    });
    if (!found.empty()) {
        return load_result{std::nullopt, std::move(found)};
    }
    return load_result{std::move(result), {}};
}

}  // namespace oscrig::config
