// Resolution of /files paths without a server.
#include "dashboard/file_path.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace oscrig::dashboard {
namespace {

TEST(percent_decode, decodes_escapes) {
    EXPECT_EQ(percent_decode("IMG%200001.jpg"), "IMG 0001.jpg");
    EXPECT_EQ(percent_decode("%2e%2E"), "..");
    EXPECT_EQ(percent_decode("plain"), "plain");
}

TEST(percent_decode, rejects_broken_escapes) {
    EXPECT_FALSE(percent_decode("abc%").has_value());
    EXPECT_FALSE(percent_decode("abc%2").has_value());
    EXPECT_FALSE(percent_decode("abc%zz").has_value());
}

class find_download_test : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = std::filesystem::temp_directory_path() /
                ("oscrig-file-path-" + std::to_string(::getpid()));
        std::filesystem::remove_all(base_);
        root_ = base_ / "out";
        std::filesystem::create_directories(root_ / "shot" / "cam");
        std::ofstream(root_ / "shot" / "cam" / "a.jpg") << "a";
        std::ofstream(base_ / "outside.jpg") << "x";
        std::filesystem::create_directories(base_ / "elsewhere");
        std::ofstream(base_ / "elsewhere" / "b.jpg") << "b";
        // A camera folder that is a link out of the root must not be followed either.
        std::filesystem::create_directory_symlink(base_ / "elsewhere", root_ / "shot" / "linked");
        // A link that stays inside the root is fine.
        std::filesystem::create_symlink(root_ / "shot" / "cam" / "a.jpg",
                                        root_ / "shot" / "cam" / "inside.jpg");
    }

    void TearDown() override { std::filesystem::remove_all(base_); }

    std::filesystem::path base_;
    std::filesystem::path root_;
};

TEST_F(find_download_test, finds_file_in_root) {
    const auto result = find_download(root_, "shot/cam/a.jpg");
    ASSERT_EQ(result.status, file_lookup::found);
    EXPECT_EQ(result.path, std::filesystem::canonical(root_ / "shot" / "cam" / "a.jpg"));
}

TEST_F(find_download_test, follows_link_inside_root) {
    EXPECT_EQ(find_download(root_, "shot/cam/inside.jpg").status, file_lookup::found);
}

TEST_F(find_download_test, rejects_bad_segments) {
    for (const std::string path :
         {"shot/cam/..", "shot/../cam", "../out/shot", "shot/cam/", "/shot/cam/a.jpg",
          "shot//a.jpg", "shot/cam/a%2Fb", "shot/cam/a%5Cb", "shot/cam/a%00b", "shot/cam/a%0Ab",
          "shot/cam", "shot/cam/a.jpg/more", "shot/cam/%2e", "shot/cam/%zz"}) {
        EXPECT_EQ(find_download(root_, path).status, file_lookup::invalid_path) << path;
    }
}

TEST_F(find_download_test, link_out_of_root_not_found) {
    EXPECT_EQ(find_download(root_, "shot/linked/b.jpg").status, file_lookup::not_found);
}

TEST_F(find_download_test, folder_or_missing_not_found) {
    EXPECT_EQ(find_download(root_, "shot/cam/missing.jpg").status, file_lookup::not_found);
    std::filesystem::create_directories(root_ / "shot" / "cam" / "folder");
    EXPECT_EQ(find_download(root_, "shot/cam/folder").status, file_lookup::not_found);
    EXPECT_EQ(find_download(base_ / "no-such-root", "shot/cam/a.jpg").status,
              file_lookup::not_found);
}

}  // namespace
}  // namespace oscrig::dashboard
