// oscrig-sim: serves simulated OSC cameras (Insta360 ONE X2 or RICOH THETA Z1), one TCP port
// per camera, for oscrig's tests, demos and benchmarks.
#include "tools/sim/server.hpp"
#include "tools/sim/sim_config.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

/// Writes a rig file naming every camera with its actual port. Writes to a temporary file
/// first, so a reader never sees half a file.
void write_rig_file(const std::filesystem::path& path, const oscrig::sim::simulator& sim,
                    const std::string& output_dir) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "rig" << YAML::Value << "oscrig-sim";
    out << YAML::Key << "output" << YAML::Value << output_dir;
    out << YAML::Key << "cameras" << YAML::Value << YAML::BeginSeq;
    for (std::size_t i = 0; i < sim.size(); ++i) {
        const auto& camera = sim.camera_at(i);
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << camera.name();
        out << YAML::Key << "host" << YAML::Value << sim.host();
        out << YAML::Key << "port" << YAML::Value << camera.port();
        if (!camera.params().user.empty()) {
            out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
            // Quoted, so that a password of digits stays a string for every YAML reader.
            out << YAML::Key << "user" << YAML::Value << YAML::DoubleQuoted
                << camera.params().user;
            out << YAML::Key << "password" << YAML::Value << YAML::DoubleQuoted
                << camera.params().password;
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;

    const std::filesystem::path temporary = path.string() + ".tmp";
    {
        std::ofstream file(temporary);
        file << "# Written by oscrig-sim for the cameras it serves.\n" << out.c_str() << "\n";
        if (!file) {
            const int error_number = errno;
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw std::runtime_error(fmt::format(
                "cannot write rig file {}: {}{}", path.string(), std::strerror(error_number),
                error_number == ENOENT ? " (its folder must exist)" : ""));
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw std::runtime_error(
            fmt::format("cannot write rig file {}: {}", path.string(), ec.message()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace oscrig::sim;

    CLI::App app{"oscrig-sim: simulated Open Spherical Camera (OSC) cameras for testing oscrig"};
    sim_settings settings;
    std::string flavour_name = "insta360";
    std::string rig_file;
    std::string output_dir = "shots";
    std::string log_level = "info";
    app.add_option("--cameras", settings.cameras,
                   "Number of cameras to serve (default: as many as the config lists, or 1)")
        ->check(CLI::Range(1, 4096));
    app.add_option("--base-port", settings.base_port,
                   "TCP port of the first camera; camera i listens on base + i. 0 picks free "
                   "ports")
        ->capture_default_str()
        ->check(CLI::Range(0, 65535));
    app.add_option("--host", settings.host, "Address every camera listens on")
        ->capture_default_str();
    app.add_option("--config", settings.config_file,
                   "YAML file with per-camera parameters and faults")
        ->check(CLI::ExistingFile);
    app.add_option("--write-rig", rig_file,
                   "Write a rig file for oscrig naming every camera's host and port");
    app.add_option("--output", output_dir,
                   "Value of output: in the written rig file. A relative folder is written as "
                   "an absolute one from the current folder, so that it means the same folder "
                   "wherever the rig file is")
        ->capture_default_str();
    app.add_option("--flavour", flavour_name,
                   "Camera kind of cameras the config does not set: insta360 or theta")
        ->capture_default_str()
        ->check(CLI::IsMember({"insta360", "theta"}));
    app.add_option("--seed", settings.seed,
                   "Seed of derived serials, clock offsets and jitter")
        ->capture_default_str();
    app.add_option("--log.level", log_level,
                   "Log level on stderr: trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    CLI11_PARSE(app, argc, argv);

    // Logs go to stderr, because stdout carries only the ready line that tests wait for.
    auto logger = spdlog::stderr_color_mt("oscrig-sim");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(log_level));
    settings.flavour = *parse_flavour(flavour_name);

    try {
        boost::asio::io_context io;
        simulator sim(io, load_cameras(settings), settings.host, settings.base_port,
                      settings.seed);
        sim.open();

        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
            if (!ec) {
                spdlog::info("stopping on signal {}", signal_number);
                sim.close();
                io.stop();
            }
        });

        if (!rig_file.empty()) {
            // oscrig reads a relative output against the rig file's folder, not the current one.
            write_rig_file(rig_file, sim,
                           std::filesystem::absolute(output_dir).lexically_normal().string());
        }
        std::string ports;
        for (const auto port : sim.ports()) {
            ports += (ports.empty() ? "" : ",") + std::to_string(port);
        }
        std::cout << fmt::format("oscrig-sim: ready {} cameras on {} ports {}", sim.size(),
                                 settings.host, ports)
                  << std::endl;

        io.run();
        spdlog::info("stopped");
    } catch (const std::exception& e) {
        spdlog::critical("oscrig-sim failed: {}", e.what());
        return 1;
    }
    return 0;
}
