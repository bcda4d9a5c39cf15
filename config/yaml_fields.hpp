// Typed reading of YAML values for the rig parser. Each reader checks one value. When the value
// is wrong, the reader reports a positioned config_error and returns nothing, and the caller
// goes on reading.
//
// Internal to the config library. It includes yaml-cpp, so rig.hpp must not include it.
#pragma once

#include "config/rig.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oscrig::config::detail {

using key_list = std::span<const std::string_view>;

// Problems found so far in one file.
class error_list {
public:
    explicit error_list(std::string file) : file_(std::move(file)) {}

    // Adds an error at a 1-based line and column.
    void add(int line, int column, std::string path, std::string message) {
        errors_.push_back(
            config_error{file_, line, column, std::move(path), std::move(message)});
    }

    // Adds an error at a yaml-cpp mark, which counts lines and columns from 0.
    void add(const YAML::Mark& mark, std::string path, std::string message) {
        add(mark.line + 1, mark.column + 1, std::move(path), std::move(message));
    }

    std::vector<config_error> take() { return std::move(errors_); }

private:
    std::string file_;
    std::vector<config_error> errors_;
};

// One key of a mapping with its value and the dotted path of the value.
struct entry {
    std::string path;
    YAML::Node key;
    YAML::Node value;

    // Position for errors about the value. An empty value is marked at the token after it,
    // often on the next line, so the key's position is used for it instead.
    YAML::Mark mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// The entries of one YAML mapping by key. Building it reports keys that are not scalars,
// duplicate keys and unknown keys (with the closest known key). Those entries are left out.
class mapping {
public:
    // `node` must be a mapping.
    mapping(const YAML::Node& node, std::string path, key_list known_keys, error_list& errors);

    const entry* find(std::string_view key) const;

    // Returns the entry of a required key, or reports the key as missing and returns null.
    const entry* require(std::string_view key, error_list& errors) const;

    const YAML::Node& node() const { return node_; }
    const std::string& path() const { return path_; }

private:
    void add(entry candidate, std::vector<entry>& seen, key_list known_keys,
             error_list& errors);

    YAML::Node node_;
    std::string path_;
    std::vector<entry> entries_;
};

std::string child_path(std::string_view parent, std::string_view key);
std::string item_path(std::string_view parent, std::size_t index);

// Quotes scalar text for a message. Quotes, backslashes and control characters are escaped,
// and text beyond 60 characters is cut so that the message stays on one readable line.
std::string quote(std::string_view text);

// Describes a value for the "got ..." part of a message.
std::string describe(const YAML::Node& node);

std::string join_keys(key_list keys);

// Reports `expected <expected>, got <the value>` at the value of `field`.
void report_expected(const entry& field, std::string_view expected, error_list& errors);

// Returns the value of `field` as a mapping, or reports the wrong type and returns nothing.
std::optional<mapping> read_mapping(const entry& field, key_list known_keys,
                                    error_list& errors);

// Reads a non-empty string on one line. Plain and quoted scalars both count as strings.
std::optional<std::string> read_text(const entry& field, std::string_view expected,
                                     error_list& errors);

// Reads a password. Its messages never show the value.
std::optional<std::string> read_password(const entry& field, error_list& errors);

// Reads the text of a plain scalar. Numbers and booleans are plain in YAML, so a quoted "80"
// is a string and rejected with a hint.
std::optional<std::string> read_plain(const entry& field, std::string_view expected,
                                      error_list& errors);

std::optional<std::int64_t> read_integer(const entry& field, std::string_view expected,
                                         error_list& errors);

// Accepts the YAML 1.2 core schema spellings of true and false.
std::optional<bool> read_bool(const entry& field, error_list& errors);

// Returns the index of the value in `choices`, which is also the order of the enum it maps to.
std::optional<std::size_t> read_choice(const entry& field, key_list choices,
                                       error_list& errors);

// Reads a duration from `min` up to `max` (inclusive), when `max` is given.
std::optional<std::chrono::microseconds> read_duration(
    const entry& field, std::chrono::microseconds min,
    std::optional<std::chrono::microseconds> max, error_list& errors);

// Reads a duration as read_duration does, and rejects values that are not whole milliseconds.
std::optional<std::chrono::milliseconds> read_milliseconds(
    const entry& field, std::chrono::milliseconds min,
    std::optional<std::chrono::milliseconds> max, error_list& errors);

// Stores a value that was read, and leaves `target` as it is when reading failed.
template <class T, class Target>
void assign(std::optional<T> value, Target& target) {
    if (value) {
        target = std::move(*value);
    }
}

}  // namespace oscrig::config::detail
