// Reading rig files from disk, and the `oscrig check` command on such files.
#include "config/rig.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace oscrig::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view valid_rig = R"(rig: studio-a
output: shots
cameras:
  - name: front
    host: 127.0.0.1
    port: 18000
  - name: back
    host: 127.0.0.1
    port: 18001
)";

constexpr std::string_view invalid_rig = R"(rig: studio-a
cameras:
  - name: front
    port: 18000
  - name: back
    host: 127.0.0.1
    port: eighty
    hots: 127.0.0.1
)";

// A folder of its own for each test, removed at the end of the test.
class RigFile : public testing::Test {
protected:
    void SetUp() override {
        const auto* info = testing::UnitTest::GetInstance()->current_test_info();
        folder_ = fs::temp_directory_path() /
                  ("oscrig-config-" + std::to_string(::getpid()) + "-" + info->name());
        fs::remove_all(folder_);
        fs::create_directories(folder_);
    }

    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(folder_, ignored);
    }

    fs::path write(const std::string& name, std::string_view text) {
        const fs::path path = folder_ / name;
        std::ofstream{path, std::ios::binary} << text;
        return path;
    }

    fs::path folder_;
};

TEST_F(RigFile, LoadsValidFile) {
    const fs::path path = write("rig.yaml", valid_rig);
    const load_result result = load_rig_file(path);
    ASSERT_TRUE(result.value.has_value());
    EXPECT_TRUE(result.errors.empty());
    EXPECT_EQ(result.value->name, "studio-a");
    EXPECT_EQ(result.value->cameras.size(), 2u);
    EXPECT_EQ(result.value->source_file, path);
}

TEST_F(RigFile, RelativeOutputBesideFile) {
    const fs::path path = write("rig.yaml", valid_rig);
    const load_result result = load_rig_file(path);
    ASSERT_TRUE(result.value.has_value());
    EXPECT_EQ(result.value->output_dir, folder_ / "shots");
}

TEST_F(RigFile, AbsoluteOutputKept) {
    const fs::path path = write("rig.yaml", "rig: r\noutput: /srv/shots\ncameras:\n  - name: a\n");
    const load_result result = load_rig_file(path);
    ASSERT_TRUE(result.value.has_value());
    EXPECT_EQ(result.value->output_dir, "/srv/shots");
}

TEST_F(RigFile, ErrorsNameThePath) {
    const fs::path path = write("bad.yaml", invalid_rig);
    const load_result result = load_rig_file(path);
    EXPECT_FALSE(result.value.has_value());
    ASSERT_EQ(result.errors.size(), 2u);
    EXPECT_EQ(result.errors[0].to_string(),
              path.string() + R"(:7:11: cameras[1].port: expected an integer 1-65535, got "eighty")");
    EXPECT_EQ(result.errors[1].to_string(),
              path.string() + R"(:8:5: cameras[1].hots: unknown key "hots"; did you mean "host"?)");
}

TEST_F(RigFile, MissingFile) {
    const fs::path path = folder_ / "absent.yaml";
    const load_result result = load_rig_file(path);
    EXPECT_FALSE(result.value.has_value());
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].line, 0);
    EXPECT_EQ(result.errors[0].to_string(),
              path.string() + ": failed to read the file: No such file or directory");
}

TEST_F(RigFile, DirectoryIsAnError) {
    const load_result result = load_rig_file(folder_);
    EXPECT_FALSE(result.value.has_value());
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].message, "failed to read the file: Is a directory");
}

TEST_F(RigFile, OversizedFileRejected) {
    // A comment line keeps the content valid YAML, so only the size can reject it.
    std::string text{valid_rig};
    text += "# " + std::string(max_rig_file_size, 'x') + "\n";
    const fs::path path = write("big.yaml", text);
    const load_result result = load_rig_file(path);
    EXPECT_FALSE(result.value.has_value());
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].message,
              "failed to read the file: larger than 1 MiB, which is too large for a rig file");
}

TEST_F(RigFile, FileAtSizeLimitAccepted) {
    std::string text{valid_rig};
    const std::size_t padding = max_rig_file_size - text.size() - 3;
    text += "# " + std::string(padding, 'x') + "\n";
    ASSERT_EQ(text.size(), max_rig_file_size);
    const load_result result = load_rig_file(write("limit.yaml", text));
    EXPECT_TRUE(result.value.has_value());
}

// Exit status and one output stream of a command run through the shell.
struct command_output {
    int exit_code = -1;
    std::string text;
};

command_output run(const std::string& command) {
    command_output output;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "popen failed for: " << command;
        return output;
    }
    std::array<char, 4096> buffer{};
    std::size_t count = 0;
    while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        output.text.append(buffer.data(), count);
    }
    const int status = ::pclose(pipe);
    if (WIFEXITED(status)) {
        output.exit_code = WEXITSTATUS(status);
    }
    return output;
}

std::string check_command(const fs::path& rig_path) {
    return std::string{"'"} + OSCRIG_BINARY + "' check '" + rig_path.string() + "'";
}

TEST_F(RigFile, CheckCommandValidFile) {
    const fs::path path = write("rig.yaml", valid_rig);
    const command_output stdout_text = run(check_command(path) + " 2>/dev/null");
    EXPECT_EQ(stdout_text.exit_code, 0);
    const std::string summary = path.string() + R"(: rig "studio-a" is valid: 2 cameras, )" +
                                "output directory \"" + (folder_ / "shots").string() + "\"\n";
    EXPECT_EQ(stdout_text.text, summary);
}

TEST_F(RigFile, CheckCommandInvalidFile) {
    const fs::path path = write("bad.yaml", invalid_rig);
    const command_output stderr_text = run(check_command(path) + " 2>&1 >/dev/null");
    EXPECT_EQ(stderr_text.exit_code, 78);
    const std::string expected =
        path.string() + R"(:7:11: cameras[1].port: expected an integer 1-65535, got "eighty")" +
        "\n" + path.string() +
        R"(:8:5: cameras[1].hots: unknown key "hots"; did you mean "host"?)" + "\n";
    EXPECT_EQ(stderr_text.text, expected);
}

TEST_F(RigFile, CheckCommandStdoutEmptyOnError) {
    const fs::path path = write("bad.yaml", invalid_rig);
    const command_output stdout_text = run(check_command(path) + " 2>/dev/null");
    EXPECT_EQ(stdout_text.exit_code, 78);
    EXPECT_EQ(stdout_text.text, "");
}

TEST_F(RigFile, CheckCommandMissingFile) {
    const command_output stderr_text =
        run(check_command(folder_ / "absent.yaml") + " 2>&1 >/dev/null");
    EXPECT_EQ(stderr_text.exit_code, 78);
    EXPECT_NE(stderr_text.text.find("No such file or directory"), std::string::npos)
        << stderr_text.text;
}

TEST_F(RigFile, CheckCommandMissingArgument) {
    const command_output output = run(std::string{"'"} + OSCRIG_BINARY + "' check 2>&1");
    EXPECT_EQ(output.exit_code, 64);
}

TEST_F(RigFile, CheckCommandHelp) {
    const command_output output = run(std::string{"'"} + OSCRIG_BINARY + "' check --help");
    EXPECT_EQ(output.exit_code, 0);
    EXPECT_NE(output.text.find("Check a rig file"), std::string::npos) << output.text;
}

}  // namespace
}  // namespace oscrig::config
