#include "tools/sim/digest.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cctype>

namespace oscrig::sim {
namespace {

// Maximum number of issued nonces kept. A request with an older nonce gets 401 with stale=true.
constexpr std::size_t max_nonces = 256;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return lower(a) == lower(b);
}

}  // namespace

std::string digest_hex(std::string_view algorithm, std::string_view text) {
    const EVP_MD* md = equals_ignoring_case(algorithm, "SHA-256") ? EVP_sha256() : EVP_md5();
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), hash, &length, md, nullptr);
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex += fmt::format("{:02x}", hash[i]);
    }
    return hex;
}

std::optional<std::map<std::string, std::string>> parse_digest_header(std::string_view header) {
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) {
            ++i;
        }
    };
    skip_space();
    if (!equals_ignoring_case(header.substr(i, 6), "Digest") || header.size() < i + 7) {
        return std::nullopt;
    }
    i += 6;

    std::map<std::string, std::string> params;
    while (i < header.size()) {
        skip_space();
        const std::size_t key_start = i;
        while (i < header.size() && header[i] != '=' && header[i] != ',') {
            ++i;
        }
        std::string key = lower(header.substr(key_start, i - key_start));
        while (!key.empty() && key.back() == ' ') {
            key.pop_back();
        }
        if (i >= header.size() || header[i] != '=') {
            ++i;  // a bare token or an empty element between commas
            continue;
        }
        ++i;
        skip_space();
        std::string value;
        if (i < header.size() && header[i] == '"') {
            ++i;
            while (i < header.size() && header[i] != '"') {
                if (header[i] == '\\' && i + 1 < header.size()) {
                    ++i;
                }
                value.push_back(header[i++]);
            }
            if (i >= header.size()) {
                return std::nullopt;  // unterminated quoted string
            }
            ++i;
        } else {
            while (i < header.size() && header[i] != ',' && header[i] != ' ') {
                value.push_back(header[i++]);
            }
        }
        params[key] = value;
        skip_space();
        if (i < header.size() && header[i] == ',') {
            ++i;
        }
    }
    return params;
}

digest_authenticator::digest_authenticator(std::string realm, std::string user,
                                           std::string password, std::uint64_t seed)
    : realm_(std::move(realm)),
      user_(std::move(user)),
      password_(std::move(password)),
      random_(seed) {
    opaque_ = fmt::format("{:016x}", random_());
}

std::string digest_authenticator::new_nonce() {
    std::string nonce = fmt::format("{:016x}{:016x}", random_(), random_());
    nonce_counts_[nonce] = 0;
    nonce_order_.push_back(nonce);
    if (nonce_order_.size() > max_nonces) {
        nonce_counts_.erase(nonce_order_.front());
        nonce_order_.pop_front();
    }
    return nonce;
}

std::vector<std::string> digest_authenticator::challenges(bool stale) {
    std::vector<std::string> out;
    for (const char* algorithm : {"SHA-256", "MD5"}) {
        out.push_back(fmt::format(
            "Digest realm=\"{}\", qop=\"auth\", algorithm={}, nonce=\"{}\", opaque=\"{}\"{}",
            realm_, algorithm, new_nonce(), opaque_, stale ? ", stale=true" : ""));
    }
    return out;
}

digest_authenticator::verdict digest_authenticator::check(std::string_view method,
                                                         std::string_view target,
                                                         std::string_view authorization) {
    if (authorization.empty()) {
        return verdict::missing;
    }
    const auto params = parse_digest_header(authorization);
    if (!params) {
        return verdict::rejected;
    }
    auto field = [&](const char* key) -> std::string {
        const auto it = params->find(key);
        return it == params->end() ? std::string() : it->second;
    };
    const std::string algorithm = field("algorithm").empty() ? "MD5" : field("algorithm");
    if (!equals_ignoring_case(algorithm, "MD5") && !equals_ignoring_case(algorithm, "SHA-256")) {
        return verdict::rejected;
    }
    if (field("username") != user_ || field("realm") != realm_ || field("uri") != target ||
        field("qop") != "auth" || field("cnonce").empty()) {
        return verdict::rejected;
    }

    const std::string nonce = field("nonce");
    const auto known = nonce_counts_.find(nonce);
    if (known == nonce_counts_.end()) {
        return verdict::stale_nonce;
    }
    std::uint64_t count = 0;
    try {
        count = std::stoull(field("nc"), nullptr, 16);
    } catch (const std::logic_error&) {
        return verdict::rejected;
    }

    const std::string ha1 = digest_hex(algorithm, fmt::format("{}:{}:{}", user_, realm_, password_));
    const std::string ha2 = digest_hex(algorithm, fmt::format("{}:{}", method, target));
    const std::string expected = digest_hex(
        algorithm,
        fmt::format("{}:{}:{}:{}:auth:{}", ha1, nonce, field("nc"), field("cnonce"), ha2));
    if (lower(field("response")) != expected) {
        return verdict::rejected;
    }
    // A repeated or lower nonce count is a replay.
    if (count <= known->second) {
        return verdict::rejected;
    }
    known->second = count;
    return verdict::accepted;
}

}  // namespace oscrig::sim
