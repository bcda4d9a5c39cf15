#include "discovery/rig_writer.hpp"

#include "config/rig.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace oscrig::discovery {
namespace {

discovered_camera make_camera(std::string interface, std::string serial) {
    discovered_camera camera;
    camera.interface = std::move(interface);
    camera.address = "192.168.42.1";
    camera.port = 80;
    camera.manufacturer = "Arashi Vision";
    camera.model = "Insta360 ONE X2";
    camera.serial_number = std::move(serial);
    camera.firmware_version = "v1.0.59";
    return camera;
}

TEST(CameraName, SerialSanitized) {
    EXPECT_EQ(camera_name_for(make_camera("wlan1", "IXSE42A7GC3R1Q")), "IXSE42A7GC3R1Q");
    EXPECT_EQ(camera_name_for(make_camera("wlan1", "THETA YL/0011 2233")), "THETA_YL_0011_2233");
    EXPECT_EQ(camera_name_for(make_camera("wlan1", "..")), "camera-wlan1");
    EXPECT_EQ(camera_name_for(make_camera("wlan1", "")), "camera-wlan1");
    EXPECT_EQ(camera_name_for(make_camera("wlan1", std::string(80, 'A'))).size(), 64u);
}

TEST(RigYaml, ParsesWithEveryCamera) {
    const std::vector cameras = {
        make_camera("wlan1", "IXSE42A7GC3R1Q"),
        make_camera("wlan2", "IXSE42A7GC3R2Z"),
        make_camera("wlan3", "IXSE42A7GC3R2Z"),
        make_camera("wlan4", ""),
    };
    const auto yaml = make_rig_yaml("field-rig", cameras);
    const auto loaded = config::parse_rig(yaml, "discovered.yaml");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string() << "\n" << yaml;
    ASSERT_TRUE(loaded.value.has_value()) << yaml;

    const auto& rig = *loaded.value;
    EXPECT_EQ(rig.name, "field-rig");
    ASSERT_EQ(rig.cameras.size(), 4u) << yaml;
    EXPECT_EQ(rig.cameras[0].name, "IXSE42A7GC3R1Q");
    EXPECT_EQ(rig.cameras[1].name, "IXSE42A7GC3R2Z");
    EXPECT_EQ(rig.cameras[2].name, "IXSE42A7GC3R2Z-2");
    EXPECT_EQ(rig.cameras[3].name, "camera-wlan4");
    for (std::size_t i = 0; i < rig.cameras.size(); ++i) {
        EXPECT_EQ(rig.cameras[i].interface, cameras[i].interface);
        EXPECT_EQ(rig.cameras[i].host, "192.168.42.1");
        EXPECT_EQ(rig.cameras[i].port, 80);
    }
}

TEST(RigYaml, QuotesUnusualValues) {
    // A serial that YAML would read as a number or boolean must stay a string.
    const std::vector cameras = {make_camera("wlan1", "0012"), make_camera("wlan2", "true")};
    const auto yaml = make_rig_yaml("yes", cameras);
    const auto loaded = config::parse_rig(yaml, "discovered.yaml");
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string() << "\n" << yaml;
    ASSERT_TRUE(loaded.value.has_value());
    EXPECT_EQ(loaded.value->name, "yes");
    ASSERT_EQ(loaded.value->cameras.size(), 2u);
    EXPECT_EQ(loaded.value->cameras[0].name, "0012");
    EXPECT_EQ(loaded.value->cameras[1].name, "true");
}

TEST(RigFile, WriteReplacesExisting) {
    const auto folder = std::filesystem::temp_directory_path() /
                        ("oscrig-rig-writer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const auto path = folder / "rig.yaml";
    {
        std::ofstream old(path);
        old << "old contents\n";
    }

    const auto yaml = make_rig_yaml("bench", {make_camera("wlan1", "SERIAL1")});
    const auto written = write_rig_file(path, yaml);
    ASSERT_TRUE(written.has_value()) << written.error().to_string();

    std::ifstream file(path);
    std::stringstream contents;
    contents << file.rdbuf();
    EXPECT_EQ(contents.str(), yaml);

    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) {
        ++entries;
    }
    EXPECT_EQ(entries, 1u);  // no temporary file left behind
    std::filesystem::remove_all(folder);
}

TEST(RigFile, WriteIntoMissingFolderFails) {
    const auto path = std::filesystem::temp_directory_path() / "oscrig-no-such-folder" /
                      "sub" / "rig.yaml";
    const auto written = write_rig_file(path, "rig: x\n");
    ASSERT_FALSE(written.has_value());
    EXPECT_EQ(written.error().code, make_error_code(errc::file_io));
    EXPECT_NE(written.error().detail.find("rig.yaml"), std::string::npos)
        << written.error().detail;
}

}  // namespace
}  // namespace oscrig::discovery
