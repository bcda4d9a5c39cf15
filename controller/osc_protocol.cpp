#include "controller/osc_protocol.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

namespace oscrig::osc {
namespace {

using nlohmann::json;

// Maximum number of body bytes quoted in a failure detail, so that an HTML error page or a
// binary body does not flood logs and shot reports.
constexpr std::size_t max_quoted_body = 120;

std::string_view trim(std::string_view text) {
    auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower_a = std::tolower(static_cast<unsigned char>(a[i]));
        auto lower_b = std::tolower(static_cast<unsigned char>(b[i]));
        if (lower_a != lower_b) {
            return false;
        }
    }
    return true;
}

bool contains_ignore_case(std::string_view text, std::string_view part) {
    if (part.size() > text.size()) {
        return false;
    }
    for (std::size_t start = 0; start + part.size() <= text.size(); ++start) {
        if (equals_ignore_case(text.substr(start, part.size()), part)) {
            return true;
        }
    }
    return false;
}

bool is_success_status(int http_status) {
    return http_status >= 200 && http_status < 300;
}

std::string quote_body(std::string_view body) {
    std::string text(body.substr(0, max_quoted_body));
    for (char& c : text) {
        // Control bytes and newlines would break the one-line log and report format.
        if (static_cast<unsigned char>(c) < 0x20) {
            c = ' ';
        }
    }
    if (body.size() > max_quoted_body) {
        text += "...";
    }
    return text;
}

std::string string_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) {
        return {};
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    // Some firmware sends ids and fingerprints as numbers, which are opaque either way.
    if (it->is_number()) {
        return it->dump();
    }
    return {};
}

std::optional<double> number_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) {
        return std::nullopt;
    }
    return it->get<double>();
}

std::optional<std::int64_t> integer_value(const json& value) {
    if (value.is_number_integer()) {
        return value.get<std::int64_t>();
    }
    if (value.is_number_float()) {
        double number = value.get<double>();
        if (!std::isfinite(number) || number != std::floor(number) || std::fabs(number) > 9.0e18) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(number);
    }
    if (value.is_string()) {
        // Accepts a decimal string such as "60427274", which some firmware uses for counters.
        const auto& text = value.get_ref<const std::string&>();
        if (text.empty() || text.size() > 18) {
            return std::nullopt;
        }
        std::int64_t result = 0;
        for (char c : text) {
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            result = result * 10 + (c - '0');
        }
        return result;
    }
    return std::nullopt;
}

std::optional<std::int64_t> integer_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) {
        return std::nullopt;
    }
    return integer_value(*it);
}

std::optional<std::uint64_t> byte_count_field(const json& object, const char* key) {
    auto value = integer_field(object, key);
    if (!value || *value < 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value);
}

// Parses a body that should hold one JSON value, or returns the failure for an empty or
// non-JSON body. A non-2xx status wins over both, because the status is the real reason.
outcome<json> parse_body(int http_status, std::string_view body) {
    std::string_view text = trim(body);
    if (text.empty()) {
        if (!is_success_status(http_status)) {
            return make_failure(errc::http_status,
                                "HTTP " + std::to_string(http_status) + " with an empty body");
        }
        return make_failure(errc::empty_body, "HTTP " + std::to_string(http_status));
    }

    json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
        if (!is_success_status(http_status)) {
            return make_failure(errc::http_status,
                                "HTTP " + std::to_string(http_status) + ": " + quote_body(text));
        }
        return make_failure(errc::malformed_reply, "body is not JSON: " + quote_body(text));
    }
    return document;
}

// Reads the OSC error object of a reply, if it has one. Accepts a bare string in place of the
// object, since it still names the error.
std::optional<camera_error> read_error(const json& document) {
    auto it = document.find("error");
    if (it == document.end()) {
        return std::nullopt;
    }
    if (it->is_string()) {
        return camera_error{std::string(trim(it->get_ref<const std::string&>())), {}};
    }
    if (!it->is_object()) {
        return std::nullopt;
    }
    camera_error error;
    error.code = std::string(trim(string_field(*it, "code")));
    error.message = string_field(*it, "message");
    return error;
}

// Returns the failure that an OSC error stands for, with the camera's code and message.
failure failure_from_error(const camera_error& error, std::string_view command) {
    std::string detail;
    if (!command.empty()) {
        detail += command;
        detail += ": ";
    }
    detail += error.code.empty() ? "error without a code" : error.code;
    if (!error.message.empty()) {
        detail += " (";
        detail += error.message;
        detail += ")";
    }
    return make_failure(classify_camera_error(error.code), std::move(detail));
}

// Returns the failure for a reply that is not a done command, for parsers that need results.
failure failure_from_unfinished(const command_reply& reply) {
    if (reply.state == command_state::error) {
        return failure_from_error(reply.error.value_or(camera_error{}), reply.name);
    }
    return make_failure(errc::malformed_reply,
                        "expected a done reply, got inProgress for " +
                            (reply.name.empty() ? std::string("a command") : reply.name));
}

void append_url(std::vector<std::string>& urls, const json& value) {
    if (!value.is_string()) {
        return;
    }
    const auto& url = value.get_ref<const std::string&>();
    if (url.empty() || std::find(urls.begin(), urls.end(), url) != urls.end()) {
        return;
    }
    urls.push_back(url);
}

void append_url_list(std::vector<std::string>& urls, const json& results, const char* key) {
    auto it = results.find(key);
    if (it == results.end()) {
        return;
    }
    if (it->is_array()) {
        for (const auto& element : *it) {
            append_url(urls, element);
        }
        return;
    }
    append_url(urls, *it);
}

std::optional<command_state> read_state(const json& document) {
    auto it = document.find("state");
    if (it == document.end() || !it->is_string()) {
        return std::nullopt;
    }
    const auto& text = it->get_ref<const std::string&>();
    if (text == "done") {
        return command_state::done;
    }
    if (text == "inProgress") {
        return command_state::in_progress;
    }
    if (text == "error") {
        return command_state::error;
    }
    return std::nullopt;
}

// Decides the state of a reply without `state` or an error object: Insta360 sends bare
// `{"results": ...}` for done commands.
std::optional<command_state> infer_state(const json& document) {
    if (document.contains("results")) {
        return command_state::done;
    }
    if (document.contains("id") && document.contains("progress")) {
        return command_state::in_progress;
    }
    return std::nullopt;
}

// Unwraps `name: {name: value}` into `name: value`. Insta360 wraps _MuteEnable and
// _topBottomCorrection this way, and the rule is applied to every option so that other
// wrapped options read the same.
json unwrap_option(const std::string& name, const json& value) {
    if (value.is_object() && value.size() == 1 && value.contains(name)) {
        return value.at(name);
    }
    return value;
}

}  // namespace

std::string make_execute_body(std::string_view command, const json& parameters) {
    json body = json::object();
    body["name"] = std::string(command);
    if (!parameters.is_null()) {
        body["parameters"] = parameters;
    }
    return body.dump();
}

std::string make_status_body(std::string_view command_id) {
    json body = json::object();
    body["id"] = std::string(command_id);
    return body.dump();
}

std::vector<std::string> command_reply::file_urls() const {
    std::vector<std::string> urls;
    if (!results.is_object()) {
        return urls;
    }
    append_url_list(urls, results, "fileUrl");
    append_url_list(urls, results, "_fileGroup");
    append_url_list(urls, results, "fileUrls");
    append_url_list(urls, results, "_fileUrls");
    return urls;
}

errc classify_camera_error(std::string_view code) {
    std::string_view trimmed = trim(code);
    if (equals_ignore_case(trimmed, "unactivated")) {
        return errc::unactivated;
    }
    if (equals_ignore_case(trimmed, "disabledCommand")) {
        return errc::disabled_command;
    }
    for (std::string_view unsupported_code :
         {"unknownCommand", "missingParameter", "invalidParameterName", "invalidParameterValue"}) {
        if (equals_ignore_case(trimmed, unsupported_code)) {
            return errc::unsupported;
        }
    }
    return errc::camera_error;
}

outcome<command_reply> parse_command_reply(int http_status, std::string_view body) {
    auto parsed = parse_body(http_status, body);
    if (!parsed) {
        return parsed.error();
    }
    const json& document = *parsed;
    if (!document.is_object()) {
        if (!is_success_status(http_status)) {
            return make_failure(errc::http_status, "HTTP " + std::to_string(http_status) + ": " +
                                                       quote_body(trim(body)));
        }
        return make_failure(errc::malformed_reply,
                            "command reply is not a JSON object: " + quote_body(trim(body)));
    }

    command_reply reply;
    reply.name = string_field(document, "name");
    reply.error = read_error(document);

    auto explicit_state = read_state(document);
    if (!reply.error && explicit_state == command_state::error) {
        // A reply with state error but no error object still failed.
        reply.error = camera_error{};
    }
    if (reply.error) {
        // An OSC error object decides the outcome whatever the HTTP status: the spec sends it
        // with 400, and RICOH with 403, 404 or 503.
        reply.state = command_state::error;
        return reply;
    }

    if (!is_success_status(http_status)) {
        return make_failure(errc::http_status,
                            "HTTP " + std::to_string(http_status) + ": " + quote_body(trim(body)));
    }

    auto state = explicit_state ? explicit_state : infer_state(document);
    if (!state) {
        return make_failure(errc::malformed_reply,
                            "command reply has no known state: " + quote_body(trim(body)));
    }
    reply.state = *state;
    reply.id = string_field(document, "id");

    auto progress = document.find("progress");
    if (progress != document.end() && progress->is_object()) {
        reply.completion = number_field(*progress, "completion");
    }

    if (reply.state == command_state::in_progress && reply.id.empty()) {
        return make_failure(errc::malformed_reply,
                            "inProgress reply without a command id: " + quote_body(trim(body)));
    }

    auto results = document.find("results");
    if (results != document.end() && results->is_object()) {
        reply.results = *results;
    }

    // THETA startCapture puts `_fileUrls` next to `name` instead of inside `results`. Moving it
    // into the results keeps file_urls() the one place that collects URLs.
    auto top_level_urls = document.find("_fileUrls");
    if (top_level_urls != document.end()) {
        if (!reply.results.is_object()) {
            reply.results = json::object();
        }
        if (!reply.results.contains("_fileUrls")) {
            reply.results["_fileUrls"] = *top_level_urls;
        }
    }
    return reply;
}

bool camera_info::is_ricoh() const {
    return contains_ignore_case(manufacturer, "RICOH");
}

bool camera_info::is_insta360() const {
    return contains_ignore_case(manufacturer, "Arashi Vision") ||
           contains_ignore_case(model, "Insta360");
}

namespace {

// Parses the reply of a GET /osc/info or POST /osc/state: an OSC error object fails with the
// camera's error, any other non-2xx status with http_status, and anything but a JSON object with
// malformed_reply.
outcome<json> parse_endpoint_object(int http_status, std::string_view body,
                                    std::string_view endpoint) {
    auto parsed = parse_body(http_status, body);
    if (!parsed) {
        return parsed.error();
    }
    json document = std::move(*parsed);
    if (document.is_object()) {
        if (auto error = read_error(document)) {
            return failure_from_error(*error, endpoint);
        }
    }
    if (!is_success_status(http_status)) {
        return make_failure(errc::http_status, "HTTP " + std::to_string(http_status) + " from " +
                                                   std::string(endpoint) + ": " +
                                                   quote_body(trim(body)));
    }
    if (!document.is_object()) {
        return make_failure(errc::malformed_reply,
                            std::string(endpoint) + " reply is not a JSON object");
    }
    return document;
}

}  // namespace

outcome<camera_info> parse_info(int http_status, std::string_view body) {
    auto parsed = parse_endpoint_object(http_status, body, "/osc/info");
    if (!parsed) {
        return parsed.error();
    }
    const json& document = *parsed;

    camera_info info;
    info.manufacturer = string_field(document, "manufacturer");
    info.model = string_field(document, "model");
    // Every OSC camera names its manufacturer and model. Rejecting JSON without either keeps
    // other HTTP services (Open Sound Control shares the `_osc._tcp` DNS-SD type) from passing
    // as cameras.
    if (info.manufacturer.empty() && info.model.empty()) {
        return make_failure(errc::malformed_reply,
                            "/osc/info reply has neither manufacturer nor model");
    }
    info.serial_number = string_field(document, "serialNumber");
    info.firmware_version = string_field(document, "firmwareVersion");

    auto levels = document.find("apiLevel");
    if (levels != document.end() && levels->is_array()) {
        for (const auto& level : *levels) {
            auto value = integer_value(level);
            if (value && *value > 0 && *value < 100) {
                info.api_levels.push_back(static_cast<int>(*value));
            }
        }
    }
    if (info.api_levels.empty()) {
        // OSC level 1 predates apiLevel, so a camera without it speaks level 1.
        info.api_levels.push_back(1);
    }

    if (auto uptime = integer_field(document, "uptime"); uptime && *uptime >= 0) {
        info.uptime_seconds = static_cast<long>(*uptime);
    }
    info.raw = document;
    return info;
}

outcome<camera_state> parse_state(int http_status, std::string_view body) {
    auto parsed = parse_endpoint_object(http_status, body, "/osc/state");
    if (!parsed) {
        return parsed.error();
    }
    const json& document = *parsed;
    auto state_object = document.find("state");
    if (state_object == document.end() || !state_object->is_object()) {
        return make_failure(errc::malformed_reply, "/osc/state reply has no state object");
    }

    const json& fields = *state_object;
    camera_state state;
    state.fingerprint = string_field(document, "fingerprint");
    state.battery_level = number_field(fields, "batteryLevel");
    state.storage_uri = string_field(fields, "storageUri");
    state.card_state = string_field(fields, "_cardState");
    state.capture_status = string_field(fields, "_captureStatus");
    state.battery_state = string_field(fields, "_batteryState");
    if (auto version = integer_field(fields, "_apiVersion")) {
        state.api_version = static_cast<int>(*version);
    }
    state.raw = document;
    return state;
}

std::optional<std::uint64_t> camera_options::remaining_space() const {
    if (!values.is_object()) {
        return std::nullopt;
    }
    return byte_count_field(values, "remainingSpace");
}

std::optional<std::uint64_t> camera_options::total_space() const {
    if (!values.is_object()) {
        return std::nullopt;
    }
    return byte_count_field(values, "totalSpace");
}

std::optional<int> camera_options::battery_percent() const {
    if (!values.is_object()) {
        return std::nullopt;
    }
    auto capacity = values.find("_batteryCapacity");
    if (capacity == values.end() || !capacity->is_object()) {
        return std::nullopt;
    }
    auto level = integer_field(*capacity, "powerLevel");
    if (!level || *level < 0 || *level > 100) {
        return std::nullopt;
    }
    return static_cast<int>(*level);
}

std::optional<bool> camera_options::charging() const {
    if (!values.is_object()) {
        return std::nullopt;
    }
    auto capacity = values.find("_batteryCapacity");
    if (capacity == values.end() || !capacity->is_object()) {
        return std::nullopt;
    }
    auto power_type = integer_field(*capacity, "powerType");
    if (!power_type) {
        return std::nullopt;
    }
    return *power_type == 1;
}

std::optional<std::int64_t> camera_options::sys_timestamp_us() const {
    if (!values.is_object()) {
        return std::nullopt;
    }
    return integer_field(values, "_sysTimestamp");
}

json camera_options::supported_values(std::string_view name) const {
    if (!values.is_object()) {
        return json::array();
    }
    auto it = values.find(std::string(name) + "Support");
    if (it == values.end() || !it->is_array()) {
        // NOTE: range objects such as captureIntervalSupport {minInterval, maxInterval} are
        // not lists of values and read as an empty array here.
        return json::array();
    }
    return *it;
}

outcome<camera_options> options_from_reply(const command_reply& reply) {
    if (reply.state != command_state::done) {
        return failure_from_unfinished(reply);
    }
    if (!reply.results.is_object()) {
        return make_failure(errc::malformed_reply, "getOptions reply has no results");
    }
    auto options = reply.results.find("options");
    if (options == reply.results.end() || !options->is_object()) {
        return make_failure(errc::malformed_reply, "getOptions reply has no options object");
    }

    camera_options result;
    result.values = json::object();
    for (const auto& [name, value] : options->items()) {
        result.values[name] = unwrap_option(name, value);
    }
    return result;
}

outcome<file_list> file_list_from_reply(const command_reply& reply) {
    if (reply.state != command_state::done) {
        return failure_from_unfinished(reply);
    }
    if (!reply.results.is_object()) {
        return make_failure(errc::malformed_reply, "listFiles reply has no results");
    }
    auto entries = reply.results.find("entries");
    if (entries == reply.results.end() || !entries->is_array()) {
        return make_failure(errc::malformed_reply, "listFiles reply has no entries array");
    }

    file_list list;
    for (const auto& element : *entries) {
        if (!element.is_object()) {
            continue;
        }
        file_entry entry;
        entry.file_url = string_field(element, "fileUrl");
        if (entry.file_url.empty()) {
            // An entry without a URL cannot be downloaded or deleted, so it is left out.
            continue;
        }
        entry.name = string_field(element, "name");
        entry.size = byte_count_field(element, "size");
        entry.date_time_zone = string_field(element, "dateTimeZone");
        entry.thumbnail_base64 = string_field(element, "thumbnail");
        list.entries.push_back(std::move(entry));
    }
    if (auto total = integer_field(reply.results, "totalEntries"); total && *total >= 0) {
        list.total_entries = static_cast<long>(*total);
    }
    return list;
}

}  // namespace oscrig::osc
