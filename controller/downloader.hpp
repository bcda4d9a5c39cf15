// Downloads a camera's files of one shot into its folder, with resume and verification.
#pragma once

#include "controller/camera_session.hpp"
#include "controller/progress.hpp"
#include "controller/shot_report.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace oscrig::controller {

struct download_request {
    std::string url;
    std::optional<std::uint64_t> listed_size;  // from listFiles, when known
};

/// Downloads one file into `camera_folder` (which must exist) as NAME.part and renames it to
/// NAME once its byte count matches Content-Length and `listed_size`. A cut attempt is retried
/// up to `attempts` in all, resuming with Range from the .part size when the camera answers
/// 206 and from zero otherwise. A download that never completes leaves only NAME.part. The
/// record's local_path is relative to `shot_folder`. Never throws for network or disk errors:
/// they are in the record's error.
boost::asio::awaitable<file_record> download_file(camera_session& session,
                                                  download_request request,
                                                  std::filesystem::path shot_folder,
                                                  std::filesystem::path camera_folder,
                                                  int attempts, progress_sink* progress);

}  // namespace oscrig::controller
