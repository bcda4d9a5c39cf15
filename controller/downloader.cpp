#include "controller/downloader.hpp"

#include "controller/file_naming.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace oscrig::controller {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

/// Failures that another attempt cannot cure.
bool is_final(const failure& error) {
    return error.code == errc::cancelled || error.code == errc::file_io ||
           error.code == errc::http_status || error.code == errc::unsafe_file_name ||
           error.code == errc::auth_failed || error.code == errc::interface_unusable;
}

std::uint64_t size_on_disk(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : size;
}

/// Checks through the file system, symbolic links resolved, that `file` would be created
/// directly inside `folder`.
outcome<void> check_resolved_parent(const fs::path& folder, const fs::path& file) {
    std::error_code ec;
    const auto resolved_folder = fs::weakly_canonical(folder, ec);
    if (ec) {
        return make_failure(errc::file_io,
                            fmt::format("resolving {}: {}", folder.string(), ec.message()));
    }
    const auto resolved_parent = fs::weakly_canonical(file.parent_path(), ec);
    if (ec || resolved_parent != resolved_folder) {
        return make_failure(errc::unsafe_file_name,
                            fmt::format("{} resolves outside {}", file.string(),
                                        folder.string()));
    }
    return {};
}

}  // namespace

asio::awaitable<file_record> download_file(camera_session& session, download_request request,
                                           fs::path shot_folder, fs::path camera_folder,
                                           int attempts, progress_sink* progress) {
    file_record record;
    record.url = request.url;
    const std::string& camera = session.name();

    auto name = file_name_from_url(request.url);
    if (!name) {
        record.error = name.error().to_string();
        spdlog::warn("[{}] not downloading {}: {}", camera, request.url, record.error);
        co_return record;
    }
    auto final_path = path_in_folder(camera_folder, *name);
    auto part_path = path_in_folder(camera_folder, *name + ".part");
    if (!final_path || !part_path) {
        record.error = (!final_path ? final_path.error() : part_path.error()).to_string();
        co_return record;
    }
    if (auto inside = check_resolved_parent(camera_folder, *final_path); !inside) {
        record.error = inside.error().to_string();
        co_return record;
    }
    std::error_code exists_error;
    if (fs::exists(*final_path, exists_error) || fs::exists(*part_path, exists_error)) {
        record.error = make_failure(errc::unsafe_file_name,
                                    fmt::format("another URL of this shot already uses the file "
                                                "name \"{}\"",
                                                *name))
                           .to_string();
        co_return record;
    }

    if (progress != nullptr) {
        progress->file_started(camera, *name, request.listed_size);
    }
    download_progress on_bytes;
    if (progress != nullptr) {
        on_bytes = [progress, &camera, file = *name](std::uint64_t bytes) {
            progress->file_progress(camera, file, bytes);
        };
    }

    failure last = make_failure(errc::not_ready, "no attempt made");
    for (int attempt = 1; attempt <= attempts; ++attempt) {
        const std::uint64_t resume_from = size_on_disk(*part_path);
        auto result = co_await session.download(request.url, *part_path, resume_from, on_bytes);
        if (result) {
            const std::uint64_t total = result->offset + result->bytes_written;
            if (request.listed_size && total != *request.listed_size) {
                // The camera's listing and the body disagree: start over from zero.
                last = make_failure(errc::length_mismatch,
                                    fmt::format("{} bytes downloaded, listFiles says {}", total,
                                                *request.listed_size));
                std::error_code ignored;
                fs::remove(*part_path, ignored);
            } else {
                std::error_code ec;
                fs::rename(*part_path, *final_path, ec);
                if (ec) {
                    last = make_failure(errc::file_io,
                                        fmt::format("renaming {} failed: {}",
                                                    part_path->string(), ec.message()));
                    break;
                }
                record.bytes = total;
                record.sha256 = result->sha256;
                record.local_path = final_path->lexically_relative(shot_folder).string();
                if (progress != nullptr) {
                    progress->file_finished(camera, *name, total, {});
                }
                co_return record;
            }
        } else {
            last = result.error();
        }
        if (session.cancelled()) {
            // Closing the connection on cancel makes the read fail with the socket's error
            // (often "Bad file descriptor"), while the cause is the cancel.
            last = make_failure(errc::cancelled,
                                fmt::format("stopped after {} bytes, kept in {}",
                                            size_on_disk(*part_path),
                                            part_path->filename().string()));
            break;
        }
        if (is_final(last) || attempt == attempts) {
            break;
        }
        spdlog::info("[{}] download of {} failed (attempt {} of {}), retrying: {}", camera,
                     *name, attempt, attempts, last.to_string());
    }

    record.bytes = size_on_disk(*part_path);
    record.error = last.to_string();
    spdlog::warn("[{}] download of {} failed: {}", camera, *name, record.error);
    if (progress != nullptr) {
        progress->file_finished(camera, *name, record.bytes, record.error);
    }
    co_return record;
}

}  // namespace oscrig::controller
