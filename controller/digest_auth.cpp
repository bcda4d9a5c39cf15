#include "controller/digest_auth.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <utility>

namespace oscrig::controller {
namespace {

std::string lower_case(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return result;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && lower_case(a) == lower_case(b);
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        text += digits[data[i] >> 4];
        text += digits[data[i] & 0x0f];
    }
    return text;
}

bool is_session_variant(digest_algorithm algorithm) {
    return algorithm == digest_algorithm::md5_sess || algorithm == digest_algorithm::sha256_sess;
}

// H() of RFC 7616: the algorithm's hash of `data` in lowercase hex.
std::string hash_hex(digest_algorithm algorithm, std::string_view data) {
    const EVP_MD* md =
        (algorithm == digest_algorithm::md5 || algorithm == digest_algorithm::md5_sess)
            ? EVP_md5()
            : EVP_sha256();
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (md == nullptr ||
        EVP_Digest(data.data(), data.size(), digest.data(), &length, md, nullptr) != 1) {
        // Only a crypto library without MD5 (a FIPS-only build) gets here, which is a setup
        // error rather than a network outcome.
        throw std::runtime_error(
            fmt::format("OpenSSL failed to compute {} for Digest auth", to_string(algorithm)));
    }
    return to_hex(digest.data(), length);
}

std::optional<digest_algorithm> algorithm_from_name(std::string_view name) {
    if (equals_ignore_case(name, "MD5")) {
        return digest_algorithm::md5;
    }
    if (equals_ignore_case(name, "MD5-sess")) {
        return digest_algorithm::md5_sess;
    }
    if (equals_ignore_case(name, "SHA-256")) {
        return digest_algorithm::sha256;
    }
    if (equals_ignore_case(name, "SHA-256-sess")) {
        return digest_algorithm::sha256_sess;
    }
    return std::nullopt;
}

// Writes `text` as an HTTP quoted-string, escaping quotes and backslashes.
std::string quoted(std::string_view text) {
    std::string result = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            result += '\\';
        }
        result += c;
    }
    result += '"';
    return result;
}

// One name=value pair of an auth-param list, or a scheme name when `value` is unset.
struct header_item {
    std::string name;
    std::optional<std::string> value;
};

// Tokenizer for WWW-Authenticate and Authentication-Info values: comma-separated challenges,
// each a scheme followed by auth-params whose values are tokens or quoted strings.
class header_reader {
  public:
    explicit header_reader(std::string_view text) : text_(text) {}

    // Reads the next scheme or auth-param, or returns nullopt at the end. Unreadable pieces,
    // such as the token68 of another scheme, are skipped up to the next comma.
    std::optional<header_item> next() {
        while (true) {
            skip_separators();
            if (at_end()) {
                return std::nullopt;
            }
            std::string name = read_token();
            if (name.empty()) {
                skip_to_comma();
                continue;
            }
            skip_spaces();
            if (at_end() || peek() != '=') {
                return header_item{std::move(name), std::nullopt};
            }
            ++position_;  // '='
            skip_spaces();
            if (at_end() || peek() == ',' || peek() == '=') {
                // token68 padding ("abc==") or an empty value: nothing Digest uses.
                skip_to_comma();
                continue;
            }
            if (peek() == '"') {
                return header_item{std::move(name), read_quoted()};
            }
            std::string value = read_token();
            if (value.empty()) {
                skip_to_comma();
                continue;
            }
            return header_item{std::move(name), std::move(value)};
        }
    }

  private:
    static bool is_token_char(char c) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            return true;
        }
        return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    }

    bool at_end() const { return position_ >= text_.size(); }
    char peek() const { return text_[position_]; }

    void skip_spaces() {
        while (!at_end() && (peek() == ' ' || peek() == '\t')) {
            ++position_;
        }
    }

    void skip_separators() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
            ++position_;
        }
    }

    void skip_to_comma() {
        while (!at_end() && peek() != ',') {
            if (peek() == '"') {
                read_quoted();
                continue;
            }
            ++position_;
        }
    }

    std::string read_token() {
        std::size_t start = position_;
        while (!at_end() && is_token_char(peek())) {
            ++position_;
        }
        return std::string(text_.substr(start, position_ - start));
    }

    // Reads a quoted-string starting at its opening quote. An unterminated string runs to the
    // end of the header.
    std::string read_quoted() {
        std::string value;
        ++position_;  // opening quote
        while (!at_end()) {
            char c = peek();
            ++position_;
            if (c == '"') {
                break;
            }
            if (c == '\\' && !at_end()) {
                c = peek();
                ++position_;
            }
            value += c;
        }
        return value;
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

std::vector<std::string> split_qop(std::string_view list) {
    std::vector<std::string> tokens;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string_view piece = list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        while (!piece.empty() && (piece.front() == ' ' || piece.front() == '\t')) {
            piece.remove_prefix(1);
        }
        while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\t')) {
            piece.remove_suffix(1);
        }
        if (!piece.empty()) {
            tokens.push_back(lower_case(piece));
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return tokens;
}

void apply_param(digest_challenge& challenge, const std::string& name, const std::string& value) {
    std::string key = lower_case(name);
    if (key == "realm") {
        challenge.realm = value;
    } else if (key == "nonce") {
        challenge.nonce = value;
    } else if (key == "opaque") {
        challenge.opaque = value;
    } else if (key == "qop") {
        challenge.qop = split_qop(value);
    } else if (key == "algorithm") {
        challenge.algorithm_name = value;
    } else if (key == "stale") {
        challenge.stale = equals_ignore_case(value, "true");
    }
}

bool offers_auth(const digest_challenge& challenge) {
    return std::find(challenge.qop.begin(), challenge.qop.end(), "auth") != challenge.qop.end();
}

// Finds the first challenge this client can respond to, in the order the server sent them.
std::optional<digest_challenge> first_supported(std::vector<digest_challenge> challenges) {
    for (auto& challenge : challenges) {
        if (challenge.is_supported()) {
            return std::move(challenge);
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(digest_algorithm algorithm) {
    switch (algorithm) {
        case digest_algorithm::md5:
            return "MD5";
        case digest_algorithm::md5_sess:
            return "MD5-sess";
        case digest_algorithm::sha256:
            return "SHA-256";
        case digest_algorithm::sha256_sess:
            return "SHA-256-sess";
    }
    return "MD5";
}

bool digest_challenge::is_supported() const {
    return algorithm.has_value() && (qop.empty() || offers_auth(*this));
}

std::vector<digest_challenge> parse_digest_challenges(std::string_view header_value) {
    std::vector<digest_challenge> challenges;
    std::optional<digest_challenge> current;
    bool in_digest = false;

    auto finish = [&] {
        if (current && !current->realm.empty() && !current->nonce.empty()) {
            current->algorithm = algorithm_from_name(current->algorithm_name);
            challenges.push_back(std::move(*current));
        }
        current.reset();
    };

    header_reader reader(header_value);
    while (auto item = reader.next()) {
        if (!item->value) {
            // A bare token starts a new challenge.
            finish();
            in_digest = equals_ignore_case(item->name, "Digest");
            if (in_digest) {
                current.emplace();
            }
            continue;
        }
        if (in_digest && current) {
            apply_param(*current, item->name, *item->value);
        }
    }
    finish();
    return challenges;
}

digest_client::digest_client(std::string user, std::string password, nonce_source cnonce_source)
    : user_(std::move(user)),
      password_(std::move(password)),
      cnonce_source_(cnonce_source ? std::move(cnonce_source) : nonce_source(random_client_nonce)) {
}

outcome<challenge_action> digest_client::on_unauthorized(std::string_view www_authenticate) {
    auto chosen = first_supported(parse_digest_challenges(www_authenticate));
    if (!chosen) {
        std::string shown(www_authenticate.substr(0, 160));
        return make_failure(errc::auth_failed,
                            "no supported Digest challenge in WWW-Authenticate: " + shown);
    }

    // Credentials went out with the current nonce and the server still replies 401. Unless it
    // marks the nonce stale, the user or password is wrong and repeating cannot help.
    // NOTE: a server that forgets its nonces on reconnect without sending stale=true reads as a
    // rejection here. Calling reset() after a reconnect avoids that.
    bool credentials_sent = challenge_.has_value() && nonce_count_ > 0;
    if (credentials_sent && !chosen->stale) {
        std::string realm = chosen->realm;
        challenge_.reset();
        nonce_count_ = 0;
        return make_failure(errc::auth_failed,
                            "credentials for user " + user_ + " rejected by realm " + realm);
    }

    challenge_action action =
        credentials_sent ? challenge_action::renew_nonce : challenge_action::authenticate;
    challenge_ = std::move(*chosen);
    nonce_count_ = 0;
    session_cnonce_.clear();
    return action;
}

void digest_client::on_authentication_info(std::string_view authentication_info) {
    if (!challenge_) {
        return;
    }
    header_reader reader(authentication_info);
    while (auto item = reader.next()) {
        if (item->value && equals_ignore_case(item->name, "nextnonce") && !item->value->empty()) {
            challenge_->nonce = *item->value;
            nonce_count_ = 0;
            session_cnonce_.clear();
            return;
        }
    }
}

std::string digest_client::authorization(std::string_view method, std::string_view uri) {
    if (!challenge_) {
        throw std::logic_error("digest_client::authorization called before a challenge");
    }
    const digest_challenge& challenge = *challenge_;
    const digest_algorithm algorithm = *challenge.algorithm;
    const bool use_qop = !challenge.qop.empty();

    ++nonce_count_;
    std::string nc = fmt::format("{:08x}", nonce_count_);
    std::string cnonce;
    if (use_qop || is_session_variant(algorithm)) {
        if (is_session_variant(algorithm)) {
            // The session key of the -sess variants depends on the first client nonce used
            // with this server nonce, so that nonce is kept for the later requests.
            if (session_cnonce_.empty()) {
                session_cnonce_ = cnonce_source_();
            }
            cnonce = session_cnonce_;
        } else {
            cnonce = cnonce_source_();
        }
    }
    std::string qop = use_qop ? "auth" : "";

    std::string response = digest_response(algorithm, user_, challenge.realm, password_, method,
                                           uri, challenge.nonce, nc, cnonce, qop);

    std::string header = "Digest username=" + quoted(user_);
    header += ", realm=" + quoted(challenge.realm);
    header += ", uri=" + quoted(uri);
    header += ", algorithm=" + std::string(to_string(algorithm));
    header += ", nonce=" + quoted(challenge.nonce);
    if (use_qop) {
        header += ", nc=" + nc;
        header += ", cnonce=" + quoted(cnonce);
        header += ", qop=" + qop;
    }
    header += ", response=" + quoted(response);
    if (challenge.opaque) {
        header += ", opaque=" + quoted(*challenge.opaque);
    }
    return header;
}

void digest_client::reset() {
    challenge_.reset();
    nonce_count_ = 0;
    session_cnonce_.clear();
}

std::string random_client_nonce() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed to produce a Digest client nonce");
    }
    return to_hex(bytes.data(), bytes.size());
}

std::string digest_response(digest_algorithm algorithm, std::string_view user,
                            std::string_view realm, std::string_view password,
                            std::string_view method, std::string_view uri, std::string_view nonce,
                            std::string_view nc, std::string_view cnonce, std::string_view qop) {
    std::string a1 = fmt::format("{}:{}:{}", user, realm, password);
    std::string ha1 = hash_hex(algorithm, a1);
    if (is_session_variant(algorithm)) {
        ha1 = hash_hex(algorithm, fmt::format("{}:{}:{}", ha1, nonce, cnonce));
    }
    std::string ha2 = hash_hex(algorithm, fmt::format("{}:{}", method, uri));
    if (qop.empty()) {
        return hash_hex(algorithm, fmt::format("{}:{}:{}", ha1, nonce, ha2));
    }
    return hash_hex(algorithm, fmt::format("{}:{}:{}:{}:{}:{}", ha1, nonce, nc, cnonce, qop, ha2));
}

}  // namespace oscrig::controller
