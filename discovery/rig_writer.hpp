// Rig files written from discovered cameras. No I/O besides write_rig_file.
#pragma once

#include "controller/error.hpp"
#include "discovery/probe_plan.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::discovery {

/// Turns a serial number into a camera name that the rig file accepts (letters, digits, '-',
/// '_' and '.', at most 64 characters, not "." or ".."). Other characters become '_'. An
/// empty result falls back to "camera-<interface>".
std::string camera_name_for(const discovered_camera& camera);

/// Renders a rig file with one camera per entry of `cameras`, named by camera_name_for, with
/// host, port and interface set. A name already used gets "-2", "-3", ... appended.
std::string make_rig_yaml(std::string_view rig_name,
                          const std::vector<discovered_camera>& cameras);

/// Writes `yaml` to `path` through a temporary file in the same folder, so that an existing
/// file is either kept or fully replaced. Fails with errc::file_io.
outcome<void> write_rig_file(const std::filesystem::path& path, std::string_view yaml);

}  // namespace oscrig::discovery
