// Subcommands of the oscrig command. Each command's source file registers itself with a
// static command_registration, so main.cpp needs no list of them.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace oscrig::cli {

// Exit codes, following sysexits.h where one fits.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;   // the command ran but did not fully succeed
inline constexpr int exit_usage = 64;   // EX_USAGE: bad command line
inline constexpr int exit_config = 78;  // EX_CONFIG: the rig file has errors

/// Adds a subcommand to `app`. The subcommand's callback stores its exit code in `exit_code`.
using command_setup = std::function<void(CLI::App& app, int& exit_code)>;

struct command_registration {
    command_registration(int order, command_setup setup);
};

/// Calls every registered setup, in ascending order.
void add_registered_commands(CLI::App& app, int& exit_code);

}  // namespace oscrig::cli
