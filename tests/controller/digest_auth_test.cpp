#include "controller/digest_auth.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace oscrig::controller {
namespace {

// The worked example of RFC 7616 section 3.9.1.
constexpr const char* rfc_user = "Mufasa";
constexpr const char* rfc_password = "Circle of Life";
constexpr const char* rfc_realm = "http-auth@example.org";
constexpr const char* rfc_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr const char* rfc_opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
constexpr const char* rfc_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr const char* rfc_uri = "/dir/index.html";
constexpr const char* rfc_md5_response = "8ca523f5e9506fed4657c9700eebdbec";
constexpr const char* rfc_sha256_response =
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";

std::string rfc_challenge(const std::string& algorithm) {
    return std::string("Digest realm=\"") + rfc_realm +
           "\", qop=\"auth, auth-int\", algorithm=" + algorithm + ", nonce=\"" + rfc_nonce +
           "\", opaque=\"" + rfc_opaque + "\"";
}

digest_client::nonce_source fixed_nonce(std::string value) {
    return [value] { return value; };
}

// Splits an Authorization value into its parameters, with quotes removed.
std::map<std::string, std::string> header_params(const std::string& header) {
    std::map<std::string, std::string> params;
    std::string rest = header.substr(header.find(' ') + 1);
    std::size_t position = 0;
    while (position < rest.size()) {
        while (position < rest.size() && (rest[position] == ' ' || rest[position] == ',')) {
            ++position;
        }
        std::size_t equals = rest.find('=', position);
        if (equals == std::string::npos) {
            break;
        }
        std::string name = rest.substr(position, equals - position);
        std::string value;
        position = equals + 1;
        if (position < rest.size() && rest[position] == '"') {
            ++position;
            while (position < rest.size() && rest[position] != '"') {
                if (rest[position] == '\\') {
                    ++position;
                }
                value += rest[position++];
            }
            ++position;
        } else {
            std::size_t comma = rest.find(',', position);
            value = rest.substr(position,
                                comma == std::string::npos ? std::string::npos : comma - position);
            position = comma == std::string::npos ? rest.size() : comma;
        }
        params[name] = value;
    }
    return params;
}

TEST(DigestResponse, RfcExampleMd5) {
    EXPECT_EQ(digest_response(digest_algorithm::md5, rfc_user, rfc_realm, rfc_password, "GET",
                              rfc_uri, rfc_nonce, "00000001", rfc_cnonce, "auth"),
              rfc_md5_response);
}

TEST(DigestResponse, RfcExampleSha256) {
    EXPECT_EQ(digest_response(digest_algorithm::sha256, rfc_user, rfc_realm, rfc_password, "GET",
                              rfc_uri, rfc_nonce, "00000001", rfc_cnonce, "auth"),
              rfc_sha256_response);
}

TEST(DigestResponse, SessionVariantDiffers) {
    auto plain = digest_response(digest_algorithm::md5, rfc_user, rfc_realm, rfc_password, "GET",
                                 rfc_uri, rfc_nonce, "00000001", rfc_cnonce, "auth");
    auto session = digest_response(digest_algorithm::md5_sess, rfc_user, rfc_realm, rfc_password,
                                   "GET", rfc_uri, rfc_nonce, "00000001", rfc_cnonce, "auth");
    EXPECT_EQ(session.size(), 32u);
    EXPECT_NE(session, plain);
    auto sha_session =
        digest_response(digest_algorithm::sha256_sess, rfc_user, rfc_realm, rfc_password, "GET",
                        rfc_uri, rfc_nonce, "00000001", rfc_cnonce, "auth");
    EXPECT_EQ(sha_session.size(), 64u);
}

TEST(DigestResponse, Rfc2617ExampleWithQop) {
    EXPECT_EQ(digest_response(digest_algorithm::md5, "Mufasa", "testrealm@host.com",
                              "Circle Of Life", "GET", "/dir/index.html",
                              "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"),
              "6629fae49393a05397450978507c4ef1");
}

TEST(DigestResponse, LegacyWithoutQop) {
    // The RFC 2617 example inputs without qop: MD5(HA1 ":" nonce ":" HA2), checked with
    // Python's hashlib.
    EXPECT_EQ(
        digest_response(digest_algorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                        "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", ""),
        "670fd8c2df070c60b045671b8b24ff02");
}

TEST(DigestChallengeParse, RfcChallenge) {
    auto challenges = parse_digest_challenges(rfc_challenge("SHA-256"));
    ASSERT_EQ(challenges.size(), 1u);
    const auto& challenge = challenges[0];
    EXPECT_EQ(challenge.realm, rfc_realm);
    EXPECT_EQ(challenge.nonce, rfc_nonce);
    ASSERT_TRUE(challenge.opaque.has_value());
    EXPECT_EQ(*challenge.opaque, rfc_opaque);
    EXPECT_EQ(challenge.qop, (std::vector<std::string>{"auth", "auth-int"}));
    EXPECT_EQ(challenge.algorithm, digest_algorithm::sha256);
    EXPECT_FALSE(challenge.stale);
    EXPECT_TRUE(challenge.is_supported());
}

TEST(DigestChallengeParse, AlgorithmDefaultsToMd5) {
    auto challenges = parse_digest_challenges(R"(Digest realm="r", nonce="n")");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].algorithm, digest_algorithm::md5);
    EXPECT_TRUE(challenges[0].qop.empty());
    EXPECT_FALSE(challenges[0].opaque.has_value());
    EXPECT_TRUE(challenges[0].is_supported());
}

TEST(DigestChallengeParse, AlgorithmNames) {
    auto parse_algorithm = [](const std::string& name) {
        auto challenges =
            parse_digest_challenges("Digest realm=\"r\", nonce=\"n\", algorithm=" + name);
        EXPECT_EQ(challenges.size(), 1u) << name;
        return challenges.empty() ? std::nullopt : challenges[0].algorithm;
    };
    EXPECT_EQ(parse_algorithm("MD5"), digest_algorithm::md5);
    EXPECT_EQ(parse_algorithm("md5-sess"), digest_algorithm::md5_sess);
    EXPECT_EQ(parse_algorithm("SHA-256"), digest_algorithm::sha256);
    EXPECT_EQ(parse_algorithm("\"SHA-256-sess\""), digest_algorithm::sha256_sess);
    EXPECT_EQ(parse_algorithm("SHA-512-256"), std::nullopt);
}

TEST(DigestChallengeParse, StaleFlag) {
    auto quoted = parse_digest_challenges(R"(Digest realm="r", nonce="n", stale="TRUE")");
    ASSERT_EQ(quoted.size(), 1u);
    EXPECT_TRUE(quoted[0].stale);
    auto token = parse_digest_challenges(R"(Digest realm="r", nonce="n", stale=false)");
    ASSERT_EQ(token.size(), 1u);
    EXPECT_FALSE(token[0].stale);
}

TEST(DigestChallengeParse, EscapedQuotedString) {
    auto challenges =
        parse_digest_challenges(R"(Digest realm="cam \"front\" a\\b", nonce="n,1", qop=auth)");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].realm, R"(cam "front" a\b)");
    EXPECT_EQ(challenges[0].nonce, "n,1");
    EXPECT_EQ(challenges[0].qop, std::vector<std::string>{"auth"});
}

TEST(DigestChallengeParse, SeveralChallengesInOneValue) {
    auto challenges = parse_digest_challenges(
        R"(Basic realm="basic", Digest realm="a", nonce="n1", algorithm=SHA-256, qop="auth", )"
        R"(Negotiate abc==, Digest realm="b", nonce="n2", algorithm=MD5, Bearer)");
    ASSERT_EQ(challenges.size(), 2u);
    EXPECT_EQ(challenges[0].realm, "a");
    EXPECT_EQ(challenges[0].nonce, "n1");
    EXPECT_EQ(challenges[0].algorithm, digest_algorithm::sha256);
    EXPECT_EQ(challenges[1].realm, "b");
    EXPECT_EQ(challenges[1].nonce, "n2");
    EXPECT_EQ(challenges[1].algorithm, digest_algorithm::md5);
}

TEST(DigestChallengeParse, SkipsChallengeWithoutNonce) {
    EXPECT_TRUE(parse_digest_challenges(R"(Digest realm="r")").empty());
    EXPECT_TRUE(parse_digest_challenges(R"(Basic realm="r")").empty());
    EXPECT_TRUE(parse_digest_challenges("").empty());
}

TEST(DigestChallengeParse, AuthIntOnlyIsUnsupported) {
    auto challenges = parse_digest_challenges(R"(Digest realm="r", nonce="n", qop="auth-int")");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_FALSE(challenges[0].is_supported());
}

TEST(DigestClient, RfcExampleMd5Header) {
    digest_client client(rfc_user, rfc_password, fixed_nonce(rfc_cnonce));
    auto action = client.on_unauthorized(rfc_challenge("MD5"));
    ASSERT_TRUE(action.has_value()) << action.error().to_string();
    EXPECT_EQ(*action, challenge_action::authenticate);

    auto header = client.authorization("GET", rfc_uri);
    EXPECT_EQ(header.rfind("Digest ", 0), 0u);
    auto params = header_params(header);
    EXPECT_EQ(params["username"], rfc_user);
    EXPECT_EQ(params["realm"], rfc_realm);
    EXPECT_EQ(params["uri"], rfc_uri);
    EXPECT_EQ(params["algorithm"], "MD5");
    EXPECT_EQ(params["nonce"], rfc_nonce);
    EXPECT_EQ(params["nc"], "00000001");
    EXPECT_EQ(params["cnonce"], rfc_cnonce);
    EXPECT_EQ(params["qop"], "auth");
    EXPECT_EQ(params["response"], rfc_md5_response);
    EXPECT_EQ(params["opaque"], rfc_opaque);
}

TEST(DigestClient, RfcExampleSha256Header) {
    digest_client client(rfc_user, rfc_password, fixed_nonce(rfc_cnonce));
    ASSERT_TRUE(client.on_unauthorized(rfc_challenge("SHA-256")).has_value());
    auto params = header_params(client.authorization("GET", rfc_uri));
    EXPECT_EQ(params["algorithm"], "SHA-256");
    EXPECT_EQ(params["response"], rfc_sha256_response);
}

TEST(DigestClient, FirstSupportedChallengeWins) {
    digest_client client(rfc_user, rfc_password, fixed_nonce(rfc_cnonce));
    ASSERT_TRUE(client
                    .on_unauthorized(rfc_challenge("SHA-512-256") + ", " +
                                     rfc_challenge("SHA-256") + ", " + rfc_challenge("MD5"))
                    .has_value());
    auto params = header_params(client.authorization("GET", rfc_uri));
    EXPECT_EQ(params["algorithm"], "SHA-256");
    EXPECT_EQ(params["response"], rfc_sha256_response);
}

TEST(DigestClient, NonceCountIncreasesOnReuse) {
    int calls = 0;
    digest_client client("THETAYL00000001", "00000001",
                         [&calls] { return "cnonce" + std::to_string(++calls); });
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="RICOH THETA Z1", nonce="abc", qop="auth")")
                    .has_value());
    auto first = header_params(client.authorization("POST", "/osc/commands/execute"));
    auto second = header_params(client.authorization("POST", "/osc/state"));
    EXPECT_EQ(first["nc"], "00000001");
    EXPECT_EQ(second["nc"], "00000002");
    EXPECT_EQ(first["cnonce"], "cnonce1");
    EXPECT_EQ(second["cnonce"], "cnonce2");
    EXPECT_EQ(second["uri"], "/osc/state");
    EXPECT_EQ(client.nonce_count(), 2u);
    EXPECT_EQ(
        second["response"],
        digest_response(digest_algorithm::md5, "THETAYL00000001", "RICOH THETA Z1", "00000001",
                        "POST", "/osc/state", "abc", "00000002", "cnonce2", "auth"));
}

TEST(DigestClient, NonceCountIsHex) {
    digest_client client("u", "p", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="n", qop="auth")").has_value());
    std::string header;
    for (int i = 0; i < 10; ++i) {
        header = client.authorization("GET", "/");
    }
    EXPECT_EQ(header_params(header)["nc"], "0000000a");
}

TEST(DigestClient, StaleNonceRetries) {
    digest_client client("u", "p", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="old", qop="auth")").has_value());
    client.authorization("GET", "/osc/info");
    client.authorization("GET", "/osc/info");

    auto action =
        client.on_unauthorized(R"(Digest realm="r", nonce="new", qop="auth", stale=true)");
    ASSERT_TRUE(action.has_value()) << action.error().to_string();
    EXPECT_EQ(*action, challenge_action::renew_nonce);
    auto params = header_params(client.authorization("GET", "/osc/info"));
    EXPECT_EQ(params["nonce"], "new");
    EXPECT_EQ(params["nc"], "00000001");
}

TEST(DigestClient, RejectedCredentialsFail) {
    digest_client client("u", "wrong", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="n1", qop="auth")").has_value());
    client.authorization("GET", "/osc/info");

    auto action = client.on_unauthorized(R"(Digest realm="r", nonce="n2", qop="auth")");
    ASSERT_FALSE(action.has_value());
    EXPECT_EQ(action.error().code, make_error_code(errc::auth_failed));
    EXPECT_NE(action.error().detail.find("rejected"), std::string::npos);
    EXPECT_EQ(action.error().detail.find("wrong"), std::string::npos) << "password leaked";
    EXPECT_FALSE(client.has_challenge());
}

TEST(DigestClient, SecondChallengeBeforeAnyRequestIsAccepted) {
    digest_client client("u", "p", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="n1")").has_value());
    auto action = client.on_unauthorized(R"(Digest realm="r", nonce="n2")");
    ASSERT_TRUE(action.has_value());
    EXPECT_EQ(*action, challenge_action::authenticate);
}

TEST(DigestClient, NoUsableChallengeFails) {
    digest_client client("u", "p", fixed_nonce("c"));
    auto action = client.on_unauthorized(R"(Basic realm="camera")");
    ASSERT_FALSE(action.has_value());
    EXPECT_EQ(action.error().code, make_error_code(errc::auth_failed));
    EXPECT_NE(action.error().detail.find("no supported Digest challenge"), std::string::npos);
    EXPECT_FALSE(client.has_challenge());
}

TEST(DigestClient, NextNonceFromAuthenticationInfo) {
    digest_client client("u", "p", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="n1", qop="auth")").has_value());
    client.authorization("GET", "/");
    client.on_authentication_info(
        R"(qop=auth, rspauth="abc", cnonce="c", nc=00000001, nextnonce="n2")");
    auto params = header_params(client.authorization("GET", "/"));
    EXPECT_EQ(params["nonce"], "n2");
    EXPECT_EQ(params["nc"], "00000001");
}

TEST(DigestClient, LegacyChallengeWithoutQop) {
    digest_client client("Mufasa", "Circle Of Life", fixed_nonce("unused"));
    ASSERT_TRUE(client
                    .on_unauthorized(R"(Digest realm="testrealm@host.com", )"
                                     R"(nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", )"
                                     R"(opaque="5ccc069c403ebaf9f0171e9517f40e41")")
                    .has_value());
    auto params = header_params(client.authorization("GET", "/dir/index.html"));
    EXPECT_EQ(params.count("qop"), 0u);
    EXPECT_EQ(params.count("nc"), 0u);
    EXPECT_EQ(params.count("cnonce"), 0u);
    EXPECT_EQ(params["response"], "670fd8c2df070c60b045671b8b24ff02");
    EXPECT_EQ(params["opaque"], "5ccc069c403ebaf9f0171e9517f40e41");
}

TEST(DigestClient, SessionVariantKeepsClientNonce) {
    int calls = 0;
    digest_client client("u", "p", [&calls] { return "c" + std::to_string(++calls); });
    ASSERT_TRUE(
        client.on_unauthorized(R"(Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess)")
            .has_value());
    auto first = header_params(client.authorization("GET", "/"));
    auto second = header_params(client.authorization("GET", "/"));
    EXPECT_EQ(first["algorithm"], "MD5-sess");
    EXPECT_EQ(first["cnonce"], "c1");
    EXPECT_EQ(second["cnonce"], "c1");
    EXPECT_EQ(second["response"], digest_response(digest_algorithm::md5_sess, "u", "r", "p", "GET",
                                                  "/", "n", "00000002", "c1", "auth"));
}

TEST(DigestClient, QuotesInUserName) {
    digest_client client(R"(cam"1)", "p", fixed_nonce("c"));
    ASSERT_TRUE(client.on_unauthorized(R"(Digest realm="r", nonce="n", qop="auth")").has_value());
    auto header = client.authorization("GET", "/");
    EXPECT_NE(header.find(R"(username="cam\"1")"), std::string::npos) << header;
}

TEST(DigestClient, RandomClientNonce) {
    auto first = random_client_nonce();
    auto second = random_client_nonce();
    EXPECT_EQ(first.size(), 32u);
    EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(first, second);
}

}  // namespace
}  // namespace oscrig::controller
