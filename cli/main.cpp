// Entry point of the oscrig command: parses the command line and runs one subcommand.
#include "cli/commands.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

namespace oscrig::cli {
namespace {

std::vector<std::pair<int, command_setup>>& registry() {
    static std::vector<std::pair<int, command_setup>> setups;
    return setups;
}

}  // namespace

command_registration::command_registration(int order, command_setup setup) {
    registry().emplace_back(order, std::move(setup));
}

void add_registered_commands(CLI::App& app, int& exit_code) {
    auto& setups = registry();
    std::stable_sort(setups.begin(), setups.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [order, setup] : setups) {
        setup(app, exit_code);
    }
}

}  // namespace oscrig::cli

int main(int argc, char** argv) {
    using namespace oscrig::cli;

    CLI::App app{"oscrig: controller for rigs of Open Spherical Camera (OSC) 360-degree cameras"};
    app.set_version_flag("--version", "oscrig " OSCRIG_VERSION);
    app.require_subcommand(1);

    int exit_code = exit_ok;
    add_registered_commands(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    } catch (const std::exception& e) {
        spdlog::critical("oscrig stopped: {}", e.what());
        return exit_failed;
    }
    return exit_code;
}
