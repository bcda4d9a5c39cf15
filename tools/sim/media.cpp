#include "tools/sim/media.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace oscrig::sim {

std::string file_content::read_all() const {
    std::string bytes(size(), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const std::size_t n = read(done, std::span<char>(bytes.data() + done, bytes.size() - done));
        if (n == 0) {
            break;
        }
        done += n;
    }
    bytes.resize(done);
    return bytes;
}

namespace {

// 3x5 glyphs, one row per byte, bit 2 is the left column.
using glyph = std::array<std::uint8_t, 5>;

glyph glyph_for(char c) {
    switch (std::toupper(static_cast<unsigned char>(c))) {
        case '0': return {7, 5, 5, 5, 7};
        case '1': return {2, 6, 2, 2, 7};
        case '2': return {7, 1, 7, 4, 7};
        case '3': return {7, 1, 7, 1, 7};
        case '4': return {5, 5, 7, 1, 1};
        case '5': return {7, 4, 7, 1, 7};
        case '6': return {7, 4, 7, 5, 7};
        case '7': return {7, 1, 1, 2, 2};
        case '8': return {7, 5, 7, 5, 7};
        case '9': return {7, 5, 7, 1, 7};
        case 'A': return {2, 5, 7, 5, 5};
        case 'B': return {6, 5, 6, 5, 6};
        case 'C': return {3, 4, 4, 4, 3};
        case 'D': return {6, 5, 5, 5, 6};
        case 'E': return {7, 4, 6, 4, 7};
        case 'F': return {7, 4, 6, 4, 4};
        case 'G': return {3, 4, 5, 5, 3};
        case 'H': return {5, 5, 7, 5, 5};
        case 'I': return {7, 2, 2, 2, 7};
        case 'J': return {1, 1, 1, 5, 2};
        case 'K': return {5, 5, 6, 5, 5};
        case 'L': return {4, 4, 4, 4, 7};
        case 'M': return {5, 7, 7, 5, 5};
        case 'N': return {6, 5, 5, 5, 5};
        case 'O': return {2, 5, 5, 5, 2};
        case 'P': return {6, 5, 6, 4, 4};
        case 'Q': return {2, 5, 5, 6, 3};
        case 'R': return {6, 5, 6, 5, 5};
        case 'S': return {3, 4, 2, 1, 6};
        case 'T': return {7, 2, 2, 2, 2};
        case 'U': return {5, 5, 5, 5, 7};
        case 'V': return {5, 5, 5, 5, 2};
        case 'W': return {5, 5, 7, 7, 5};
        case 'X': return {5, 5, 2, 5, 5};
        case 'Y': return {5, 5, 2, 2, 2};
        case 'Z': return {7, 1, 2, 4, 7};
        case '-': return {0, 0, 7, 0, 0};
        case '_': return {0, 0, 0, 0, 7};
        case '.': return {0, 0, 0, 0, 2};
        case ':': return {0, 2, 0, 2, 0};
        case '/': return {1, 1, 2, 4, 4};
        case '#': return {5, 7, 5, 7, 5};
        case ' ': return {0, 0, 0, 0, 0};
        default: return {7, 7, 7, 7, 7};
    }
}

/// Writes entropy-coded bits MSB first, with the 0x00 stuffed after every 0xFF byte.
class bit_writer {
public:
    explicit bit_writer(std::string& out) : out_(out) {}

    void put(std::uint32_t bits, int count) {
        for (int i = count - 1; i >= 0; --i) {
            byte_ = static_cast<std::uint8_t>((byte_ << 1) | ((bits >> i) & 1));
            if (++filled_ == 8) {
                emit();
            }
        }
    }

    /// Pads the last byte with 1 bits, as the JPEG standard requires.
    void flush() {
        while (filled_ != 0) {
            put(1, 1);
        }
    }

private:
    void emit() {
        out_.push_back(static_cast<char>(byte_));
        if (byte_ == 0xFF) {
            out_.push_back('\0');
        }
        byte_ = 0;
        filled_ = 0;
    }

    std::string& out_;
    std::uint8_t byte_ = 0;
    int filled_ = 0;
};

// Luminance DC table of JPEG Annex K: code lengths per bit count, then the categories 0..11.
constexpr std::array<std::uint8_t, 16> dc_counts = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
// The AC table only needs end-of-block (0x00); 0xF0 is there so no code is all one bits.
constexpr std::array<std::uint8_t, 16> ac_counts = {0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
constexpr std::array<std::uint8_t, 2> ac_symbols = {0x00, 0xF0};

struct huffman_code {
    std::uint32_t bits = 0;
    int length = 0;
};

/// Canonical Huffman codes for symbols listed in order of code length.
std::vector<huffman_code> canonical_codes(const std::array<std::uint8_t, 16>& counts) {
    std::vector<huffman_code> codes;
    std::uint32_t code = 0;
    for (int length = 1; length <= 16; ++length) {
        for (int i = 0; i < counts[length - 1]; ++i) {
            codes.push_back({code++, length});
        }
        code <<= 1;
    }
    return codes;
}

void put_u16(std::string& out, std::size_t value) {
    out.push_back(static_cast<char>((value >> 8) & 0xFF));
    out.push_back(static_cast<char>(value & 0xFF));
}

void put_marker(std::string& out, std::uint8_t marker) {
    out.push_back(static_cast<char>(0xFF));
    out.push_back(static_cast<char>(marker));
}

/// Font pixels of the label: true for ink, one row per block row.
std::vector<std::vector<bool>> render_label(const std::vector<std::string>& lines) {
    std::size_t longest = 1;
    for (const auto& line : lines) {
        longest = std::max(longest, line.size());
    }
    const std::size_t width = longest * 4 + 1;
    const std::size_t height = std::max<std::size_t>(lines.size(), 1) * 6 + 1;
    std::vector<std::vector<bool>> ink(height, std::vector<bool>(width, false));
    for (std::size_t l = 0; l < lines.size(); ++l) {
        for (std::size_t c = 0; c < lines[l].size(); ++c) {
            const glyph g = glyph_for(lines[l][c]);
            for (std::size_t row = 0; row < 5; ++row) {
                for (std::size_t col = 0; col < 3; ++col) {
                    if ((g[row] >> (2 - col)) & 1) {
                        ink[1 + l * 6 + row][1 + c * 4 + col] = true;
                    }
                }
            }
        }
    }
    return ink;
}

/// Encodes the JPEG from DQT to EOI: tables, frame header and the DC-only scan of the label.
std::string encode_frame(const std::vector<std::vector<bool>>& ink) {
    const std::size_t block_rows = ink.size();
    const std::size_t block_cols = ink.front().size();
    std::string out;

    // Every quantiser is 8, so a flat block of level v has quantised DC v - 128.
    put_marker(out, 0xDB);
    put_u16(out, 67);
    out.push_back('\0');
    out.append(64, static_cast<char>(8));

    put_marker(out, 0xC0);
    put_u16(out, 11);
    out.push_back(static_cast<char>(8));
    put_u16(out, block_rows * 8);
    put_u16(out, block_cols * 8);
    out.push_back(static_cast<char>(1));  // one component
    out.push_back(static_cast<char>(1));  // component id
    out.push_back(static_cast<char>(0x11));  // no subsampling
    out.push_back('\0');  // quantisation table 0

    put_marker(out, 0xC4);
    put_u16(out, 2 + 17 + 12 + 17 + ac_symbols.size());
    out.push_back('\0');  // DC table 0
    out.append(dc_counts.begin(), dc_counts.end());
    for (int category = 0; category < 12; ++category) {
        out.push_back(static_cast<char>(category));
    }
    out.push_back(static_cast<char>(0x10));  // AC table 0
    out.append(ac_counts.begin(), ac_counts.end());
    out.append(ac_symbols.begin(), ac_symbols.end());

    put_marker(out, 0xDA);
    put_u16(out, 8);
    out.push_back(static_cast<char>(1));
    out.push_back(static_cast<char>(1));
    out.push_back('\0');
    out.push_back('\0');  // spectral selection start
    out.push_back(static_cast<char>(63));  // spectral selection end
    out.push_back('\0');

    const auto dc_codes = canonical_codes(dc_counts);
    const auto ac_codes = canonical_codes(ac_counts);
    bit_writer bits(out);
    int previous_dc = 0;
    for (std::size_t row = 0; row < block_rows; ++row) {
        for (std::size_t col = 0; col < block_cols; ++col) {
            const int dc = ink[row][col] ? 30 - 128 : 235 - 128;
            const int diff = dc - previous_dc;
            previous_dc = dc;

            int category = 0;
            for (int magnitude = diff < 0 ? -diff : diff; magnitude != 0; magnitude >>= 1) {
                ++category;
            }
            bits.put(dc_codes[category].bits, dc_codes[category].length);
            if (category != 0) {
                // Negative differences are sent as diff - 1 in `category` bits.
                const int value = diff < 0 ? diff + (1 << category) - 1 : diff;
                bits.put(static_cast<std::uint32_t>(value), category);
            }
            bits.put(ac_codes[0].bits, ac_codes[0].length);  // end of block
        }
    }
    bits.flush();
    put_marker(out, 0xD9);
    return out;
}

/// SOI, a JFIF APP0 and the COM segment.
std::string encode_header(std::string_view comment) {
    std::string out;
    put_marker(out, 0xD8);
    put_marker(out, 0xE0);
    put_u16(out, 16);
    out.append("JFIF", 5);
    out.append({'\x01', '\x01', '\0', '\0', '\x01', '\0', '\x01', '\0', '\0'});
    const std::string_view text = comment.substr(0, 65533);
    put_marker(out, 0xFE);
    put_u16(out, text.size() + 2);
    out.append(text);
    return out;
}

/// Copies from a piece of a file that starts at `piece_start`, for `read` implementations.
std::size_t copy_piece(std::string_view piece, std::uint64_t piece_start, std::uint64_t offset,
                       std::span<char> out) {
    if (offset < piece_start || offset >= piece_start + piece.size()) {
        return 0;
    }
    const std::size_t from = static_cast<std::size_t>(offset - piece_start);
    const std::size_t n = std::min(out.size(), piece.size() - from);
    std::memcpy(out.data(), piece.data() + from, n);
    return n;
}

/// A JPEG with `padding` bytes of APP15 segments between its header and its frame.
class photo_content final : public file_content {
public:
    photo_content(std::string header, std::uint64_t padding, std::string frame)
        : header_(std::move(header)), frame_(std::move(frame)), padding_(padding) {
        // Each segment is 4 to 65537 bytes: marker, length, then up to 65533 bytes of data.
        segments_ = padding_ == 0 ? 0 : (padding_ + 65536) / 65537;
        if (segments_ != 0) {
            base_ = padding_ / segments_;
            longer_ = padding_ % segments_;
        }
    }

    std::uint64_t size() const override { return header_.size() + padding_ + frame_.size(); }

    std::size_t read(std::uint64_t offset, std::span<char> out) const override {
        std::size_t done = 0;
        while (done < out.size() && offset + done < size()) {
            const std::uint64_t at = offset + done;
            const std::span<char> rest = out.subspan(done);
            std::size_t n = 0;
            if (at < header_.size()) {
                n = copy_piece(header_, 0, at, rest);
            } else if (at < header_.size() + padding_) {
                n = read_padding(at - header_.size(), rest);
            } else {
                n = copy_piece(frame_, header_.size() + padding_, at, rest);
            }
            done += n;
        }
        return done;
    }

private:
    std::size_t read_padding(std::uint64_t at, std::span<char> out) const {
        // The first `longer_` segments are base_ + 1 bytes long, the rest base_.
        const std::uint64_t long_span = longer_ * (base_ + 1);
        std::uint64_t segment_start = 0;
        std::uint64_t segment_size = 0;
        if (at < long_span) {
            segment_size = base_ + 1;
            segment_start = at / segment_size * segment_size;
        } else {
            segment_size = base_;
            segment_start = long_span + (at - long_span) / base_ * base_;
        }
        const std::uint64_t within = at - segment_start;
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), segment_size - within));
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t position = within + i;
            char byte = 0;
            if (position == 0) {
                byte = static_cast<char>(0xFF);
            } else if (position == 1) {
                byte = static_cast<char>(0xEF);
            } else if (position == 2) {
                byte = static_cast<char>(((segment_size - 2) >> 8) & 0xFF);
            } else if (position == 3) {
                byte = static_cast<char>((segment_size - 2) & 0xFF);
            } else {
                byte = static_cast<char>('a' + (position % 26));
            }
            out[i] = byte;
        }
        return n;
    }

    std::string header_;
    std::string frame_;
    std::uint64_t padding_ = 0;
    std::uint64_t segments_ = 0;
    std::uint64_t base_ = 0;
    std::uint64_t longer_ = 0;
};

class video_content final : public file_content {
public:
    video_content(std::string header, std::uint64_t total,
                  std::shared_ptr<const std::string> pattern)
        : header_(std::move(header)), total_(total), pattern_(std::move(pattern)) {}

    std::uint64_t size() const override { return total_; }

    std::size_t read(std::uint64_t offset, std::span<char> out) const override {
        std::size_t done = 0;
        while (done < out.size() && offset + done < total_) {
            const std::uint64_t at = offset + done;
            std::span<char> rest = out.subspan(done);
            rest = rest.first(static_cast<std::size_t>(
                std::min<std::uint64_t>(rest.size(), total_ - at)));
            if (at < header_.size()) {
                done += copy_piece(header_, 0, at, rest);
                continue;
            }
            const std::size_t from = static_cast<std::size_t>((at - header_.size()) %
                                                              pattern_->size());
            const std::size_t n = std::min(rest.size(), pattern_->size() - from);
            std::memcpy(rest.data(), pattern_->data() + from, n);
            done += n;
        }
        return done;
    }

private:
    std::string header_;
    std::uint64_t total_ = 0;
    std::shared_ptr<const std::string> pattern_;
};

void put_u32(std::string& out, std::uint64_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xFF));
    }
}

void put_u64(std::string& out, std::uint64_t value) {
    put_u32(out, value >> 32);
    put_u32(out, value & 0xFFFFFFFFULL);
}

}  // namespace

std::string encode_label_jpeg(const std::vector<std::string>& lines, std::string_view comment) {
    return encode_header(comment) + encode_frame(render_label(lines));
}

std::shared_ptr<const file_content> make_photo(std::string_view camera, std::string_view serial,
                                               std::string_view file_name, int shot_index,
                                               std::uint64_t target_bytes) {
    std::string comment = fmt::format("oscrig-sim camera={} serial={} file={} shot={}", camera,
                                      serial, file_name, shot_index);
    const std::string frame =
        encode_frame(render_label({std::string(camera), std::string(serial),
                                   fmt::format("#{}", shot_index)}));
    std::uint64_t natural = encode_header(comment).size() + frame.size();
    if (target_bytes > natural && target_bytes - natural < 4) {
        // Too little room for an APP15 segment: lengthen the comment instead.
        comment.append(static_cast<std::size_t>(target_bytes - natural), ' ');
        natural = target_bytes;
    }
    const std::uint64_t padding = target_bytes > natural ? target_bytes - natural : 0;
    return std::make_shared<photo_content>(encode_header(comment), padding, frame);
}

std::shared_ptr<const std::string> make_video_pattern(std::string_view serial) {
    // xorshift64 seeded from the serial: cheap, and different for every camera.
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (const char c : serial) {
        state = (state ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    }
    auto pattern = std::make_shared<std::string>(65536, '\0');
    for (std::size_t i = 0; i < pattern->size(); i += 8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::memcpy(pattern->data() + i, &state, 8);
    }
    return pattern;
}

std::shared_ptr<const file_content> make_video(std::string_view camera, std::string_view serial,
                                               std::string_view file_name,
                                               std::uint64_t target_bytes,
                                               std::shared_ptr<const std::string> pattern) {
    std::string header;
    put_u32(header, 24);
    header.append("ftypisom");
    put_u32(header, 0x200);
    header.append("isomiso2mp41");

    const std::string text = fmt::format("oscrig-sim camera={} serial={} file={}", camera,
                                         serial, file_name);
    put_u32(header, 8 + text.size());
    header.append("free");
    header.append(text);

    // The mdat box runs to the end of the file; a 64-bit size is used past 4 GiB.
    const std::uint64_t after = header.size();
    const std::uint64_t total = std::max<std::uint64_t>(target_bytes, after + 16);
    if (total - after > 0xFFFFFFFFULL) {
        put_u32(header, 1);
        header.append("mdat");
        put_u64(header, total - after);
    } else {
        put_u32(header, total - after);
        header.append("mdat");
    }
    return std::make_shared<video_content>(std::move(header), total, std::move(pattern));
}

}  // namespace oscrig::sim
