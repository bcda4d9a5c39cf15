// HTTP Digest access authentication on the server side (RFC 7616, qop "auth", MD5 and SHA-256).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::sim {

/// Returns the hex digest of `text` with "MD5" or "SHA-256".
std::string digest_hex(std::string_view algorithm, std::string_view text);

/// Parses the parameters of an `Authorization: Digest ...` header, with keys lower-cased.
std::optional<std::map<std::string, std::string>> parse_digest_header(std::string_view header);

/// Issues nonces and checks Authorization headers for one user. A nonce stays valid for every
/// later request, on any connection, as long as each request raises its nonce count `nc`.
class digest_authenticator {
public:
    digest_authenticator(std::string realm, std::string user, std::string password,
                         std::uint64_t seed);

    enum class verdict { accepted, missing, stale_nonce, rejected };

    verdict check(std::string_view method, std::string_view target,
                  std::string_view authorization);

    /// Values of the WWW-Authenticate headers of a 401: SHA-256 first, then MD5.
    std::vector<std::string> challenges(bool stale);

private:
    std::string new_nonce();

    std::string realm_;
    std::string user_;
    std::string password_;
    std::string opaque_;
    std::mt19937_64 random_;
    std::map<std::string, std::uint64_t> nonce_counts_;  // nonce -> highest nc seen
    std::deque<std::string> nonce_order_;                // oldest first, for eviction
};

}  // namespace oscrig::sim
