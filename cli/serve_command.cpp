// The `oscrig serve RIG.yaml` subcommand: keeps every camera of a rig connected, serves the
// dashboard, API and /metrics, reloads the rig on SIGHUP and stops on SIGTERM or SIGINT.
#include "cli/commands.hpp"
#include "config/rig.hpp"
#include "controller/file_sink.hpp"
#include "controller/fleet_service.hpp"
#include "dashboard/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <ctime>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace oscrig::cli {
namespace {

namespace asio = boost::asio;

struct serve_options {
    std::string rig_path;
    std::string listen_address = "127.0.0.1:8360";
    std::string token_file;
    std::string log_level = "info";
    std::string log_format = "text";
};

// Writes one JSON object per line: {"time": RFC 3339 UTC with microseconds, "level", "message"}.
class json_log_formatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since_epoch = msg.time.time_since_epoch();
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds);
        const std::time_t time = static_cast<std::time_t>(seconds.count());
        std::tm utc{};
        gmtime_r(&time, &utc);
        char stamp[40];
        const std::size_t length =
            std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

        const nlohmann::json line = {
            {"time", fmt::format("{}.{:06}Z", std::string_view(stamp, length), micros.count())},
            {"level", level_name(msg.level)},
            {"message", std::string(msg.payload.data(), msg.payload.size())},
        };
        // Replacement characters for invalid UTF-8, because camera strings end up in messages.
        const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_log_formatter>();
    }

private:
    static std::string_view level_name(spdlog::level::level_enum level) {
        switch (level) {
            case spdlog::level::trace: return "trace";
            case spdlog::level::debug: return "debug";
            case spdlog::level::info: return "info";
            case spdlog::level::warn: return "warn";
            case spdlog::level::err: return "error";
            case spdlog::level::critical: return "critical";
            default: break;
        }
        return "off";
    }
};

// Sends every log line to stderr, so that stdout stays free and journald gets both streams.
void set_up_logging(const serve_options& options) {
    auto logger = spdlog::stderr_logger_mt("oscrig-serve");
    if (options.log_format == "json") {
        logger->set_formatter(std::make_unique<json_log_formatter>());
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::from_str(options.log_level));
    logger->flush_on(spdlog::level::debug);
    spdlog::set_default_logger(logger);
}

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};

// Parses "HOST:PORT" or "[IPV6]:PORT". Port 0 picks a free port.
std::optional<listen_address> parse_listen_address(const std::string& text) {
    listen_address result;
    std::string port_text;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        result.host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) {
            return std::nullopt;
        }
        result.host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    if (result.host.empty() || port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    const unsigned long port = std::stoul(port_text);
    if (port > 65535) {
        return std::nullopt;
    }
    result.port = static_cast<std::uint16_t>(port);
    return result;
}

// Returns the token with surrounding whitespace removed, or an error message.
std::optional<std::string> read_token_file(const std::string& path, std::string& error) {
    std::ifstream file(path);
    if (!file) {
        error = "cannot read the token file " + path;
        return std::nullopt;
    }
    std::string token((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto first = token.find_first_not_of(" \t\r\n");
    const auto last = token.find_last_not_of(" \t\r\n");
    if (first == std::string::npos) {
        error = "the token file " + path + " is empty";
        return std::nullopt;
    }
    return token.substr(first, last - first + 1);
}

void log_rig_errors(const config::load_result& result) {
    for (const config::config_error& error : result.errors) {
        spdlog::error("{}", error.to_string());
    }
}

// Reads the rig file again and hands it to the service; a file with errors changes nothing.
void reload_rig(controller::fleet_service& service, const std::string& rig_path) {
    spdlog::info("SIGHUP: reloading {}", rig_path);
    const config::load_result result = config::load_rig_file(rig_path);
    if (!result.value) {
        log_rig_errors(result);
        spdlog::error("rig file {} rejected with {} errors; keeping the running rig {}",
                      rig_path, result.errors.size(), service.rig().name);
        return;
    }
    service.reload(*result.value);
}

// Serves until SIGTERM or SIGINT. SIGHUP reloads the rig and waits again.
asio::awaitable<void> handle_signals(asio::signal_set& signals,
                                     controller::fleet_service& service,
                                     dashboard::server& server, const std::string& rig_path) {
    for (;;) {
        const int signal_number = co_await signals.async_wait(asio::use_awaitable);
        if (signal_number == SIGHUP) {
            reload_rig(service, rig_path);
            continue;
        }
        spdlog::info("{}: stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
        co_await service.stop();
        server.stop();
        signals.cancel();
        co_return;
    }
}

int run_serve(const serve_options& options) {
    set_up_logging(options);

    const std::optional<listen_address> address = parse_listen_address(options.listen_address);
    if (!address) {
        spdlog::error("invalid --web.listen-address \"{}\": expected HOST:PORT or [IPV6]:PORT",
                      options.listen_address);
        return exit_usage;
    }
    std::string token;
    if (!options.token_file.empty()) {
        std::string error;
        const std::optional<std::string> read = read_token_file(options.token_file, error);
        if (!read) {
            spdlog::error("{}: check --web.token-file", error);
            return exit_config;
        }
        token = *read;
    }

    const config::load_result loaded = config::load_rig_file(options.rig_path);
    if (!loaded.value) {
        log_rig_errors(loaded);
        spdlog::error("rig file {} has {} errors; not starting", options.rig_path,
                      loaded.errors.size());
        return exit_config;
    }

    asio::io_context io;
    controller::fleet_service service(io.get_executor(), *loaded.value);

    dashboard::server_settings web;
    web.address = address->host;
    web.port = address->port;
    web.bearer_token = token;
    web.version = OSCRIG_VERSION;
    web.ready_check = [&service] { return service.ready(); };
    std::unique_ptr<dashboard::server> server;
    try {
        server = std::make_unique<dashboard::server>(io.get_executor(), service, web);
    } catch (const std::invalid_argument& e) {
        spdlog::error("cannot serve on {}: {}", options.listen_address, e.what());
        return exit_usage;
    }

    // Registered before any camera work starts, so that an early SIGTERM is never the default
    // action of killing the process.
    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    spdlog::info("oscrig {} serving rig {} from {} ({} cameras)", OSCRIG_VERSION,
                 loaded.value->name, options.rig_path, loaded.value->cameras.size());
    server->start();
    service.start();
    asio::co_spawn(io, handle_signals(signals, service, *server, options.rig_path),
                   [](std::exception_ptr error) {
                       if (error) {
                           std::rethrow_exception(error);
                       }
                   });

    io.run();
    // Write jobs of downloads cut short refer to io: they end before it does.
    controller::file_sink::stop_workers();
    spdlog::info("oscrig serve stopped");
    return exit_ok;
}

void setup_serve(CLI::App& app, int& exit_code) {
    CLI::App* command = app.add_subcommand(
        "serve",
        "Keep every camera of a rig connected and serve the dashboard, the JSON API and\n"
        "Prometheus metrics. SIGHUP reloads the rig file; SIGTERM and SIGINT stop gracefully.\n"
        "Exits with 78 when the rig file has errors at start.");
    auto options = std::make_shared<serve_options>();
    command->add_option("rig", options->rig_path, "Rig file (YAML)")->required();
    command->add_option("--web.listen-address", options->listen_address,
                        "Address and TCP port of the dashboard, API and /metrics, as HOST:PORT "
                        "or [IPV6]:PORT; port 0 picks a free port")
        ->capture_default_str();
    command->add_option("--web.token-file", options->token_file,
                        "File whose content is the bearer token that control requests (POST) "
                        "must send; required for a listen address other than loopback");
    command->add_option("--log.level", options->log_level,
                        "Lowest level logged: debug, info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
        ->capture_default_str();
    command->add_option("--log.format", options->log_format,
                        "text, or json for one JSON object per line with time, level and "
                        "message")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    command->set_version_flag("--version", "oscrig " OSCRIG_VERSION);
    command->callback([options, &exit_code] { exit_code = run_serve(*options); });
}

const command_registration serve_registration{30, setup_serve};

}  // namespace
}  // namespace oscrig::cli
