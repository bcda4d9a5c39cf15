// Contents of simulated camera files: small real JPEGs that show the camera's name, and MP4-like
// videos of any size generated on demand from a repeating pattern.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::sim {

/// Bytes of one simulated file, produced on demand so that a 300 MB video costs no memory.
class file_content {
public:
    virtual ~file_content() = default;

    virtual std::uint64_t size() const = 0;

    /// Copies the bytes at `offset` into `out` and returns how many were copied: fewer than
    /// out.size() only at the end of the file.
    virtual std::size_t read(std::uint64_t offset, std::span<char> out) const = 0;

    /// Returns the whole file; meant for small files and tests.
    std::string read_all() const;
};

/// Encodes a baseline greyscale JPEG that draws `lines` in a 3x5 bitmap font, one font pixel
/// per 8x8 block, and stores `comment` in a COM segment. Letters are drawn upper case.
std::string encode_label_jpeg(const std::vector<std::string>& lines, std::string_view comment);

/// Builds a photo: a label JPEG naming the camera, padded with APP15 segments to `target_bytes`
/// (or its natural size when that is larger). The padding keeps the JPEG decodable.
std::shared_ptr<const file_content> make_photo(std::string_view camera, std::string_view serial,
                                               std::string_view file_name, int shot_index,
                                               std::uint64_t target_bytes);

/// Generates the 64 KiB of deterministic bytes that fill the media data of a camera's videos.
std::shared_ptr<const std::string> make_video_pattern(std::string_view serial);

/// Builds a video: an `ftyp` box, a `free` box naming the camera and the file, then an `mdat` box
/// filled with `pattern`, `target_bytes` long in all (or the header's size when larger).
std::shared_ptr<const file_content> make_video(std::string_view camera, std::string_view serial,
                                               std::string_view file_name,
                                               std::uint64_t target_bytes,
                                               std::shared_ptr<const std::string> pattern);

}  // namespace oscrig::sim
