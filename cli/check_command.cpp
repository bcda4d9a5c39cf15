// The `oscrig check RIG.yaml` subcommand: validates a rig file without contacting any camera.
#include "cli/commands.hpp"
#include "config/rig.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace oscrig::cli {
namespace {

// Prints every error of the file on its own line to stderr and returns exit_config, or prints
// a one-line summary to stdout and returns exit_ok.
int run_check(const std::string& rig_path) {
    const config::load_result result = config::load_rig_file(rig_path);
    if (!result.value) {
        for (const config::config_error& error : result.errors) {
            std::cerr << error.to_string() << '\n';
        }
        return exit_config;
    }

    const config::rig& rig = *result.value;
    const std::size_t count = rig.cameras.size();
    std::cout << rig_path << ": rig \"" << rig.name << "\" is valid: " << count
              << (count == 1 ? " camera" : " cameras") << ", output directory "
              << rig.output_dir << '\n';
    return exit_ok;
}

const command_registration check_registration{10, [](CLI::App& app, int& exit_code) {
    CLI::App* command = app.add_subcommand(
        "check",
        "Check a rig file and print every error in it as file:line:column: path: message.\n"
        "Contacts no camera. Exits with 0 when the file is valid and 78 when it has errors.");
    auto rig_path = std::make_shared<std::string>();
    command->add_option("rig", *rig_path, "Rig file (YAML) to check")->required();
    command->callback([rig_path, &exit_code] { exit_code = run_check(*rig_path); });
}};

}  // namespace
}  // namespace oscrig::cli
