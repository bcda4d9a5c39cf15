#include "config/yaml_fields.hpp"
#include "config/value_parsing.hpp"

#include <algorithm>
#include <cstdio>

namespace oscrig::config::detail {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view duration_form =
    R"(a duration with a unit (us, ms, s or m) such as "500ms", "3s" or "2m")";

bool is_control_character(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

// yaml-cpp gives quoted scalars the non-specific tag "!" and plain scalars "?".
bool is_quoted(const YAML::Node& node) {
    return node.Tag() == "!";
}

}  // namespace

std::string child_path(std::string_view parent, std::string_view key) {
    // Paths are printed to terminals, so control characters in a key are shown as \xNN
    // rather than passed through as escape sequences.
    std::string shown_key;
    for (const char c : key) {
        if (is_control_character(c)) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
            shown_key += escaped;
        } else {
            shown_key += c;
        }
    }
    if (parent.empty()) {
        return shown_key;
    }
    return std::string{parent} + '.' + shown_key;
}

std::string item_path(std::string_view parent, std::size_t index) {
    return std::string{parent} + '[' + std::to_string(index) + ']';
}

std::string quote(std::string_view text) {
    constexpr std::size_t max_shown = 60;
    std::string quoted = "\"";
    for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
        const char c = text[i];
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += c;
        } else if (c == '\n') {
            quoted += "\\n";
        } else if (c == '\t') {
            quoted += "\\t";
        } else if (is_control_character(c)) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
            quoted += escaped;
        } else {
            quoted += c;
        }
    }
    if (text.size() > max_shown) {
        quoted += "...";
    }
    quoted += '"';
    return quoted;
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Scalar:
        return quote(node.Scalar());
    case YAML::NodeType::Sequence:
        return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        break;
    }
    return "nothing";
}

std::string join_keys(key_list keys) {
    std::string joined;
    for (const std::string_view key : keys) {
        if (!joined.empty()) {
            joined += ", ";
        }
        joined += key;
    }
    return joined;
}

void report_expected(const entry& field, std::string_view expected, error_list& errors) {
    errors.add(field.mark(), field.path,
               "expected " + std::string{expected} + ", got " + describe(field.value));
}


mapping::mapping(const YAML::Node& node, std::string path, key_list known_keys,
                 error_list& errors)
    : node_(node), path_(std::move(path)) {
    std::vector<entry> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
        add(entry{"", it->first, it->second}, seen, known_keys, errors);
    }
}

const entry* mapping::find(std::string_view key) const {
    const auto found = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) {
        return e.key.Scalar() == key;
    });
    return found == entries_.end() ? nullptr : &*found;
}

const entry* mapping::require(std::string_view key, error_list& errors) const {
    const entry* found = find(key);
    if (found == nullptr) {
        errors.add(node_.Mark(), path_, "missing required key \"" + std::string{key} + '"');
    }
    return found;
}

void mapping::add(entry candidate, std::vector<entry>& seen, key_list known_keys,
                  error_list& errors) {
    if (!candidate.key.IsScalar()) {
        errors.add(candidate.key.Mark(), path_,
                   "expected a key name, got " + describe(candidate.key));
        return;
    }
    const std::string& key = candidate.key.Scalar();
    candidate.path = child_path(path_, key);

    // yaml-cpp keeps both entries of a repeated key, so repeats are found here.
    const auto first = std::find_if(seen.begin(), seen.end(), [&](const entry& e) {
        return e.key.Scalar() == key;
    });
    if (first != seen.end()) {
        errors.add(candidate.key.Mark(), candidate.path,
                   "duplicate key " + quote(key) + "; the first is on line " +
                       std::to_string(first->key.Mark().line + 1));
        return;
    }
    seen.push_back(candidate);

    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end()) {
        std::string message = "unknown key " + quote(key);
        if (const auto suggestion = closest_key(key, known_keys)) {
            message += "; did you mean " + quote(*suggestion) + "?";
        } else {
            message += "; the keys here are " + join_keys(known_keys);
        }
        errors.add(candidate.key.Mark(), candidate.path, std::move(message));
        return;
    }
    entries_.push_back(std::move(candidate));
}

std::optional<mapping> read_mapping(const entry& field, key_list known_keys,
                                    error_list& errors) {
    if (!field.value.IsMap()) {
        report_expected(field, "a mapping with the keys " + join_keys(known_keys), errors);
        return std::nullopt;
    }
    return mapping{field.value, field.path, known_keys, errors};
}

std::optional<std::string> read_text(const entry& field, std::string_view expected,
                                     error_list& errors) {
    if (!field.value.IsScalar() || field.value.Scalar().empty()) {
        report_expected(field, expected, errors);
        return std::nullopt;
    }
    const std::string& text = field.value.Scalar();
    if (std::any_of(text.begin(), text.end(), is_control_character)) {
        report_expected(field, std::string{expected} + " without control characters", errors);
        return std::nullopt;
    }
    return text;
}

std::optional<std::string> read_password(const entry& field, error_list& errors) {
    if (!field.value.IsScalar() || field.value.Scalar().empty()) {
        errors.add(field.mark(), field.path, "expected a non-empty password");
        return std::nullopt;
    }
    return field.value.Scalar();
}

std::optional<std::string> read_plain(const entry& field, std::string_view expected,
                                      error_list& errors) {
    if (!field.value.IsScalar()) {
        report_expected(field, expected, errors);
        return std::nullopt;
    }
    if (is_quoted(field.value)) {
        report_expected(field, std::string{expected} + " without quotes", errors);
        return std::nullopt;
    }
    return field.value.Scalar();
}

std::optional<std::int64_t> read_integer(const entry& field, std::string_view expected,
                                         error_list& errors) {
    const auto text = read_plain(field, expected, errors);
    if (!text) {
        return std::nullopt;
    }
    const auto value = parse_integer(*text);
    if (!value) {
        report_expected(field, expected, errors);
    }
    return value;
}

std::optional<bool> read_bool(const entry& field, error_list& errors) {
    constexpr std::string_view expected = "true or false";
    const auto text = read_plain(field, expected, errors);
    if (!text) {
        return std::nullopt;
    }
    if (*text == "true" || *text == "True" || *text == "TRUE") {
        return true;
    }
    if (*text == "false" || *text == "False" || *text == "FALSE") {
        return false;
    }
    report_expected(field, expected, errors);
    return std::nullopt;
}

std::optional<std::size_t> read_choice(const entry& field, key_list choices,
                                       error_list& errors) {
    std::string expected;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (i > 0) {
            expected += i + 1 == choices.size() ? " or " : ", ";
        }
        expected += choices[i];
    }

    const auto text = read_text(field, expected, errors);
    if (!text) {
        return std::nullopt;
    }
    const auto found = std::find(choices.begin(), choices.end(), *text);
    if (found == choices.end()) {
        report_expected(field, expected, errors);
        return std::nullopt;
    }
    return static_cast<std::size_t>(found - choices.begin());
}

std::optional<microseconds> read_duration(const entry& field, microseconds min,
                                          std::optional<microseconds> max, error_list& errors) {
    const auto text = read_text(field, duration_form, errors);
    if (!text) {
        return std::nullopt;
    }
    const auto value = parse_duration(*text);
    if (!value) {
        report_expected(field, duration_form, errors);
        return std::nullopt;
    }
    if (*value < min || (max && *value > *max)) {
        const std::string expected =
            max ? "a duration from " + format_duration(min) + " to " + format_duration(*max)
                : "a duration of at least " + format_duration(min);
        report_expected(field, expected, errors);
        return std::nullopt;
    }
    return value;
}

std::optional<milliseconds> read_milliseconds(const entry& field, milliseconds min,
                                              std::optional<milliseconds> max,
                                              error_list& errors) {
    const auto value = read_duration(field, min, max, errors);
    if (!value) {
        return std::nullopt;
    }
    if (*value % 1ms != 0us) {
        report_expected(field, "a whole number of milliseconds", errors);
        return std::nullopt;
    }
    return std::chrono::duration_cast<milliseconds>(*value);
}

}  // namespace oscrig::config::detail
