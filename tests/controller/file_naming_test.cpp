#include "controller/file_naming.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace oscrig::controller {
namespace {

using namespace std::chrono_literals;

TEST(FileNaming, PlainUrlGivesLastSegment) {
    auto name = file_name_from_url("http://127.0.0.1:8080/DCIM/Camera01/IMG_20260101_000001.jpg");
    ASSERT_TRUE(name) << name.error().to_string();
    EXPECT_EQ(*name, "IMG_20260101_000001.jpg");
}

TEST(FileNaming, QueryAndFragmentAreDropped) {
    auto name = file_name_from_url("http://cam/DCIM/a.jpg?size=full#top");
    ASSERT_TRUE(name) << name.error().to_string();
    EXPECT_EQ(*name, "a.jpg");
}

TEST(FileNaming, PercentEscapesAreDecoded) {
    auto name = file_name_from_url("http://cam/DCIM/VID%20001%2B.mp4");
    ASSERT_TRUE(name) << name.error().to_string();
    EXPECT_EQ(*name, "VID 001+.mp4");
}

TEST(FileNaming, PathWithoutOriginIsAccepted) {
    auto name = file_name_from_url("/files/150100525831424d42075b53ce68c300/100RICOH/R0010015.JPG");
    ASSERT_TRUE(name) << name.error().to_string();
    EXPECT_EQ(*name, "R0010015.JPG");
}

TEST(FileNaming, HostileUrlsAreRejected) {
    const char* hostile[] = {
        "http://cam/DCIM/",                            // empty name
        "http://cam",                                  // no path at all
        "http://cam/DCIM/..",                          // parent reference
        "http://cam/DCIM/.",                           // current folder
        "http://cam/DCIM/../../escape.jpg",            // dot segments before the name
        "http://cam/DCIM/%2e%2e/escape.jpg",           // encoded dot segment
        "http://cam/DCIM/..%2F..%2Fescape.jpg",        // encoded slash
        "http://cam/DCIM/%2Fetc%2Foscrig-escape.jpg",  // absolute path after an encoded slash
        "http://cam/DCIM/..%5C..%5Cescape.jpg",        // encoded backslash
        "http://cam/DCIM/a%5Cb.jpg",                   // encoded backslash inside a name
        "http://cam/DCIM/a\\b.jpg",                    // plain backslash
        "http://cam/DCIM/a%00.jpg",                    // NUL
        "http://cam/DCIM/a%0A.jpg",                    // line feed
        "http://cam/DCIM/a%7F.jpg",                    // DEL
        "http://cam/DCIM/a%zz.jpg",                    // invalid escape
        "http://cam/DCIM/a%4",                         // truncated escape
    };
    for (const char* url : hostile) {
        auto name = file_name_from_url(url);
        ASSERT_FALSE(name) << url << " gave " << *name;
        EXPECT_EQ(name.error().code, errc::unsafe_file_name) << url;
        EXPECT_FALSE(name.error().detail.empty()) << url;
    }
}

TEST(FileNaming, CheckRejectsEachUnsafeName) {
    EXPECT_FALSE(check_file_name(""));
    EXPECT_FALSE(check_file_name("."));
    EXPECT_FALSE(check_file_name(".."));
    EXPECT_FALSE(check_file_name("a/b"));
    EXPECT_FALSE(check_file_name("/abs"));
    EXPECT_FALSE(check_file_name("a\\b"));
    EXPECT_FALSE(check_file_name(std::string("a\0b", 3)));
    EXPECT_FALSE(check_file_name("tab\there"));
    EXPECT_TRUE(check_file_name("..hidden"));
    EXPECT_TRUE(check_file_name("IMG_0001.jpg"));
}

TEST(FileNaming, TargetOfUrlKeepsPathAndQuery) {
    EXPECT_EQ(target_of_url("http://127.0.0.1:9000/DCIM/a.jpg?x=1"), "/DCIM/a.jpg?x=1");
    EXPECT_EQ(target_of_url("/DCIM/a.jpg"), "/DCIM/a.jpg");
    EXPECT_EQ(target_of_url("http://127.0.0.1:9000"), "/");
}

TEST(FileNaming, PathInFolderStaysInside) {
    auto path = path_in_folder("/shots/20260101-000000/cam1", "a.jpg");
    ASSERT_TRUE(path) << path.error().to_string();
    EXPECT_EQ(path->string(), "/shots/20260101-000000/cam1/a.jpg");

    auto trailing = path_in_folder("/shots/x/cam1/", "a.jpg");
    ASSERT_TRUE(trailing) << trailing.error().to_string();
    EXPECT_EQ(trailing->string(), "/shots/x/cam1/a.jpg");

    EXPECT_FALSE(path_in_folder("/shots/x/cam1", ".."));
    EXPECT_FALSE(path_in_folder("/shots/x/cam1", "../a.jpg"));
    EXPECT_FALSE(path_in_folder("/shots/x/cam1", "/etc/passwd"));
}

TEST(FileNaming, ShotIdIsUtcTime) {
    // 2026-12-04 14:05:09 UTC.
    const std::chrono::system_clock::time_point time{1796393109s};
    EXPECT_EQ(shot_id_base(time), "20261204-140509");
}

TEST(FileNaming, ShotIdGetsSuffixWhenTaken) {
    const std::chrono::system_clock::time_point time{1796393109s};
    std::set<std::string> taken;
    auto exists = [&taken](const std::string& id) { return taken.count(id) > 0; };

    EXPECT_EQ(choose_shot_id(time, exists), "20261204-140509");
    taken.insert("20261204-140509");
    EXPECT_EQ(choose_shot_id(time, exists), "20261204-140509-2");
    taken.insert("20261204-140509-2");
    EXPECT_EQ(choose_shot_id(time, exists), "20261204-140509-3");
}

}  // namespace
}  // namespace oscrig::controller
