// HTTP Digest authentication, client side (RFC 7616), for THETA cameras in client mode.
//
// Supports the MD5, MD5-sess, SHA-256 and SHA-256-sess algorithms with qop=auth, and servers
// that send no qop at all (RFC 2069 style). Does not support qop=auth-int, userhash or the
// `username*` form for user names outside ASCII.
#pragma once

#include "controller/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::controller {

enum class digest_algorithm { md5, md5_sess, sha256, sha256_sess };

/// Returns the algorithm token as RFC 7616 spells it, such as "SHA-256-sess".
std::string_view to_string(digest_algorithm algorithm);

/// One `Digest` challenge of a WWW-Authenticate header value.
struct digest_challenge {
    std::string realm;
    std::string nonce;
    std::optional<std::string> opaque;   // echoed back unchanged when present
    std::vector<std::string> qop;        // offered qop tokens, empty when the server sent none
    std::string algorithm_name = "MD5";  // as sent, MD5 when absent
    std::optional<digest_algorithm> algorithm;  // unset when the algorithm is not supported
    bool stale = false;  // the previous nonce expired, but the credentials were right

    /// True when this client can respond to the challenge: a known algorithm, and qop auth offered
    /// or no qop at all.
    bool is_supported() const;
};

/// Parses every Digest challenge in a WWW-Authenticate value. Challenges of other schemes
/// (Basic, Bearer, ...) are skipped, and so are Digest challenges without realm or nonce.
/// Quoted strings may contain backslash escapes.
std::vector<digest_challenge> parse_digest_challenges(std::string_view header_value);

/// Next step of the caller after a 401 reply whose challenge was accepted.
enum class challenge_action {
    authenticate,  // first challenge: send the request again with credentials
    renew_nonce,   // the nonce was stale: send again with the same credentials and new nonce
};

/// Digest state of one camera: the current challenge, the nonce count and the credentials.
/// Not thread-safe, so a session uses it from one strand.
class digest_client {
  public:
    /// Source of client nonces. Each call returns a fresh value of printable ASCII without
    /// quotes or backslashes.
    using nonce_source = std::function<std::string()>;

    /// `cnonce_source` defaults to random_client_nonce().
    digest_client(std::string user, std::string password, nonce_source cnonce_source = {});

    /// Takes the WWW-Authenticate value of a 401 reply. Fails with auth_failed when the header
    /// has no supported Digest challenge, or when credentials were sent for the current nonce
    /// and the server rejected them without marking the nonce stale.
    outcome<challenge_action> on_unauthorized(std::string_view www_authenticate);

    /// Takes the Authentication-Info value of a successful reply and switches to its
    /// `nextnonce` when it carries one.
    void on_authentication_info(std::string_view authentication_info);

    /// True once a challenge was accepted, so that authorization() can be called.
    bool has_challenge() const { return challenge_.has_value(); }

    /// Returns the Authorization header value for one request and counts the nonce use.
    /// `uri` is the request target exactly as sent, such as "/osc/commands/execute".
    /// Precondition: has_challenge().
    std::string authorization(std::string_view method, std::string_view uri);

    /// Forgets the challenge, for example after the user or password changed.
    void reset();

    /// Number of requests sent with the current nonce.
    std::uint32_t nonce_count() const { return nonce_count_; }

  private:
    std::string user_;
    std::string password_;
    nonce_source cnonce_source_;
    std::optional<digest_challenge> challenge_;
    std::uint32_t nonce_count_ = 0;
    // MD5-sess and SHA-256-sess hash the client nonce into A1 once per server nonce.
    std::string session_cnonce_;
};

/// Returns 16 random bytes from OpenSSL as 32 lowercase hex digits.
std::string random_client_nonce();

/// Computes the Digest `response` value of RFC 7616 in lowercase hex. An empty
/// `qop` selects the RFC 2069 form without nonce count and client nonce.
std::string digest_response(digest_algorithm algorithm, std::string_view user,
                            std::string_view realm, std::string_view password,
                            std::string_view method, std::string_view uri, std::string_view nonce,
                            std::string_view nc, std::string_view cnonce, std::string_view qop);

}  // namespace oscrig::controller
