// `oscrig discover`: lists the host's interfaces, probes each for cameras and can write a rig
// file with every camera bound to the interface it was found on.
#include "cli/commands.hpp"
#include "config/value_parsing.hpp"
#include "controller/net_interface.hpp"
#include "discovery/probe_plan.hpp"
#include "discovery/prober.hpp"
#include "discovery/rig_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace oscrig::cli {
namespace {

struct discover_arguments {
    std::vector<std::string> interfaces;
    std::vector<std::string> candidates;
    int port = 80;
    std::string timeout = "1.5s";
    std::string write_path;
    std::string rig_name = "discovered";
    std::string log_level = "warn";
};

// Prints rows as columns separated by two spaces, each as wide as its widest cell.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(widths[i] - row[i].size() + 2, ' ');
            }
        }
        std::puts(line.c_str());
    }
}

std::string addresses_text(const controller::interface_info& info) {
    std::string text;
    for (const auto& address : info.ipv4) {
        if (!text.empty()) {
            text += ",";
        }
        text += fmt::format("{}/{}", address.address, address.prefix_length);
    }
    return text.empty() ? "-" : text;
}

std::string gateway_text(const controller::interface_info& info) {
    switch (info.gateway_from) {
        case controller::gateway_source::default_route: return info.gateway;
        case controller::gateway_source::on_link: return info.gateway + " (on-link)";
        case controller::gateway_source::none: break;
    }
    return "-";
}

std::string state_text(const controller::interface_info& info) {
    if (!info.is_up()) {
        return "down";
    }
    if (!info.is_loopback() && !info.is_running()) {
        return "no carrier";
    }
    return "up";
}

void print_interfaces(const std::vector<controller::interface_info>& interfaces,
                      const std::vector<std::string>& filter) {
    std::vector<std::vector<std::string>> rows = {{"INTERFACE", "STATE", "IPV4", "GATEWAY"}};
    for (const auto& info : interfaces) {
        if (!filter.empty() && std::find(filter.begin(), filter.end(), info.name) == filter.end()) {
            continue;
        }
        rows.push_back({info.name, state_text(info), addresses_text(info), gateway_text(info)});
    }
    print_table(rows);
}

std::string battery_text(const discovery::discovered_camera& camera) {
    if (!camera.battery_level) {
        return "-";
    }
    return fmt::format("{:.0f} %", *camera.battery_level * 100.0);
}

void print_cameras(const std::vector<discovery::discovered_camera>& cameras) {
    std::vector<std::vector<std::string>> rows = {
        {"INTERFACE", "ADDRESS", "MANUFACTURER", "MODEL", "SERIAL", "FIRMWARE", "BATTERY"}};
    for (const auto& camera : cameras) {
        rows.push_back({camera.interface, fmt::format("{}:{}", camera.address, camera.port),
                        camera.manufacturer, camera.model, camera.serial_number,
                        camera.firmware_version, battery_text(camera)});
    }
    print_table(rows);
}

// Checks the values CLI11 cannot check itself. Returns false after printing the problem.
bool validate(const discover_arguments& arguments) {
    for (const auto& name : arguments.interfaces) {
        if (!config::is_interface_name(name)) {
            fmt::print(stderr, "oscrig discover: invalid interface name \"{}\" in --interfaces\n",
                       name);
            return false;
        }
    }
    for (const auto& address : arguments.candidates) {
        if (!controller::parse_ipv4(address)) {
            fmt::print(stderr,
                       "oscrig discover: invalid address \"{}\" in --candidates: expected an "
                       "IPv4 address such as 192.168.42.1\n",
                       address);
            return false;
        }
    }
    if (arguments.rig_name.empty()) {
        fmt::print(stderr, "oscrig discover: --rig-name must not be empty\n");
        return false;
    }
    return true;
}

int run_discover(const discover_arguments& arguments) {
    if (!validate(arguments)) {
        return exit_usage;
    }
    const auto timeout = config::parse_duration(arguments.timeout);
    if (!timeout || timeout->count() <= 0) {
        fmt::print(stderr,
                   "oscrig discover: invalid --timeout \"{}\": expected a positive duration "
                   "such as 1.5s or 800ms\n",
                   arguments.timeout);
        return exit_usage;
    }

    const auto interfaces = controller::list_interfaces();
    if (!interfaces) {
        fmt::print(stderr, "oscrig discover: {}\n", interfaces.error().to_string());
        return exit_failed;
    }
    print_interfaces(*interfaces, arguments.interfaces);

    discovery::discover_options options;
    options.interfaces = arguments.interfaces;
    options.candidates = arguments.candidates;
    options.port = static_cast<std::uint16_t>(arguments.port);
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
    const auto plan = discovery::plan_probes(*interfaces, options);

    std::puts("");
    for (const auto& skipped : plan.skipped) {
        fmt::print("skipped {}: {}\n", skipped.name, skipped.reason);
    }
    for (const auto& warning : plan.warnings) {
        fmt::print("warning: {}\n", warning);
    }

    const auto results = discovery::run_probes(plan.targets, options.timeout);
    for (const auto& result : results) {
        if (!result.camera) {
            fmt::print("no camera on {} at {}:{}: {}\n", result.target.interface,
                       result.target.address, result.target.port, result.error);
        }
    }

    const auto cameras = discovery::unique_cameras(results);
    std::puts("");
    if (cameras.empty()) {
        std::puts("no cameras found");
        return exit_failed;
    }
    print_cameras(cameras);

    if (!arguments.write_path.empty()) {
        const auto yaml = discovery::make_rig_yaml(arguments.rig_name, cameras);
        const auto written = discovery::write_rig_file(arguments.write_path, yaml);
        if (!written) {
            fmt::print(stderr, "oscrig discover: {}\n", written.error().to_string());
            return exit_failed;
        }
        fmt::print("\nwrote {} with {} cameras\n", arguments.write_path, cameras.size());
    }
    return exit_ok;
}

void setup_discover(CLI::App& app, int& exit_code) {
    auto arguments = std::make_shared<discover_arguments>();
    auto* command = app.add_subcommand(
        "discover", "List network interfaces and find OSC cameras behind each of them");

    command
        ->add_option("--interfaces", arguments->interfaces,
                     "Interfaces to probe, comma-separated (default: every interface but lo)")
        ->delimiter(',');
    command
        ->add_option("--candidates", arguments->candidates,
                     "IPv4 addresses to probe on each interface, comma-separated; replaces the "
                     "default list (the interface's gateway, 192.168.42.1, 192.168.1.1)")
        ->delimiter(',');
    command->add_option("--port", arguments->port, "TCP port of the OSC HTTP server")
        ->capture_default_str()
        ->check(CLI::Range(1, 65535));
    command
        ->add_option("--timeout", arguments->timeout,
                     "Deadline of each probe request (connect, /osc/info, /osc/state), "
                     "for example 1.5s or 800ms")
        ->capture_default_str();
    command->add_option("--write", arguments->write_path,
                        "Write a rig file with the cameras found, named by serial number");
    command->add_option("--rig-name", arguments->rig_name, "Rig name in the file --write writes")
        ->capture_default_str();
    command
        ->add_option("--log.level", arguments->log_level,
                     "Log level: trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    command->callback([arguments, &exit_code] {
        spdlog::set_level(spdlog::level::from_str(arguments->log_level));
        exit_code = run_discover(*arguments);
    });
}

// Order 40 lists discover after check (10), shoot (20) and serve (30) in the help text.
const command_registration registration{40, setup_discover};

}  // namespace
}  // namespace oscrig::cli
