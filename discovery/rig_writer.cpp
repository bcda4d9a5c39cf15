#include "discovery/rig_writer.hpp"

#include "config/value_parsing.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <system_error>

namespace oscrig::discovery {
namespace {

constexpr std::size_t max_name_length = config::max_camera_name_length;

bool is_name_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

std::string sanitize(std::string_view text) {
    std::string name;
    for (const char c : text) {
        name += is_name_character(c) ? c : '_';
    }
    if (name.size() > max_name_length) {
        name.resize(max_name_length);
    }
    if (name == "." || name == "..") {
        name.clear();
    }
    return name;
}

std::string unique_name(std::string base, std::set<std::string>& used_names) {
    if (used_names.insert(base).second) {
        return base;
    }
    for (int suffix = 2;; ++suffix) {
        const auto tail = fmt::format("-{}", suffix);
        auto candidate = base.substr(0, max_name_length - tail.size()) + tail;
        if (used_names.insert(candidate).second) {
            return candidate;
        }
    }
}

std::string describe(const discovered_camera& camera) {
    std::string text = camera.manufacturer;
    if (!camera.model.empty()) {
        text += text.empty() ? camera.model : " " + camera.model;
    }
    if (!camera.firmware_version.empty()) {
        text += ", firmware " + camera.firmware_version;
    }
    return text;
}

}  // namespace

std::string camera_name_for(const discovered_camera& camera) {
    auto name = sanitize(camera.serial_number);
    if (name.empty()) {
        name = sanitize("camera-" + camera.interface);
    }
    if (name.empty()) {
        name = "camera";
    }
    return name;
}

std::string make_rig_yaml(std::string_view rig_name,
                          const std::vector<discovered_camera>& cameras) {
    YAML::Emitter out;
    out << YAML::Comment("Written by oscrig discover; one camera per network interface.");
    out << YAML::BeginMap;
    out << YAML::Key << "rig" << YAML::Value << std::string(rig_name);
    out << YAML::Key << "cameras" << YAML::Value << YAML::BeginSeq;

    std::set<std::string> used_names;
    for (const auto& camera : cameras) {
        out << YAML::BeginMap;
        const auto name = unique_name(camera_name_for(camera), used_names);
        out << YAML::Key << "name" << YAML::Value << name;
        out << YAML::Key << "host" << YAML::Value << camera.address;
        out << YAML::Key << "port" << YAML::Value << camera.port;
        out << YAML::Key << "interface" << YAML::Value << camera.interface;
        if (const auto description = describe(camera); !description.empty()) {
            out << YAML::Comment(description);
        }
        out << YAML::EndMap;
    }

    out << YAML::EndSeq;
    out << YAML::EndMap;
    std::string text = out.c_str();
    text += '\n';
    return text;
}

outcome<void> write_rig_file(const std::filesystem::path& path, std::string_view yaml) {
    auto temporary = path;
    temporary += fmt::format(".tmp-{}", ::getpid());
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        file.write(yaml.data(), static_cast<std::streamsize>(yaml.size()));
        file.close();
        if (!file) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            return make_failure(errc::file_io,
                                fmt::format("cannot write rig file \"{}\"", temporary.string()));
        }
    }

    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        return make_failure(errc::file_io, fmt::format("cannot replace rig file \"{}\": {}",
                                                       path.string(), error.message()));
    }
    return {};
}

}  // namespace oscrig::discovery
