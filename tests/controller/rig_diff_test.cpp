#include "controller/rig_diff.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace oscrig::controller {
namespace {

using names = std::vector<std::string>;

config::camera_config camera(const std::string& name, std::uint16_t port) {
    config::camera_config entry;
    entry.name = name;
    entry.host = "127.0.0.1";
    entry.port = port;
    return entry;
}

config::rig three_cameras() {
    config::rig rig;
    rig.name = "studio";
    rig.cameras = {camera("front", 24001), camera("left", 24002), camera("right", 24003)};
    return rig;
}

TEST(RigDiff, IdenticalRigsHaveNoChanges) {
    const config::rig rig = three_cameras();
    const rig_diff diff = diff_rigs(rig, rig);
    EXPECT_TRUE(diff.empty());
    EXPECT_EQ(diff.unchanged, (names{"front", "left", "right"}));
    EXPECT_TRUE(diff.added.empty());
    EXPECT_TRUE(diff.removed.empty());
    EXPECT_TRUE(diff.changed.empty());
}

TEST(RigDiff, AddedAndRemovedByName) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.cameras.erase(new_rig.cameras.begin() + 1);  // left
    new_rig.cameras.push_back(camera("back", 24004));
    new_rig.cameras.push_back(camera("top", 24005));

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.added, (names{"back", "top"}));
    EXPECT_EQ(diff.removed, (names{"left"}));
    EXPECT_TRUE(diff.changed.empty());
    EXPECT_EQ(diff.unchanged, (names{"front", "right"}));
    EXPECT_FALSE(diff.empty());
}

TEST(RigDiff, RenameIsRemoveAndAdd) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.cameras[0].name = "front2";

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.added, (names{"front2"}));
    EXPECT_EQ(diff.removed, (names{"front"}));
}

TEST(RigDiff, ConnectionFieldsChangeCamera) {
    struct edit_case {
        const char* field;
        void (*apply)(config::camera_config&);
    };
    const edit_case cases[] = {
        {"host", [](config::camera_config& c) { c.host = "127.0.0.2"; }},
        {"port", [](config::camera_config& c) { c.port = 24100; }},
        {"interface", [](config::camera_config& c) { c.interface = "veth-serve0"; }},
        {"source_address", [](config::camera_config& c) { c.source_address = "127.0.0.3"; }},
        {"one_way_delay",
         [](config::camera_config& c) { c.one_way_delay = std::chrono::microseconds(2000); }},
        {"auth", [](config::camera_config& c) { c.auth = config::auth_settings{"THETA1", "a", ""}; }},
        {"options", [](config::camera_config& c) { c.overrides.iso = 200; }},
    };
    for (const auto& edit : cases) {
        const config::rig old_rig = three_cameras();
        config::rig new_rig = three_cameras();
        edit.apply(new_rig.cameras[1]);

        const rig_diff diff = diff_rigs(old_rig, new_rig);
        EXPECT_EQ(diff.changed, (names{"left"})) << edit.field;
        EXPECT_EQ(diff.unchanged, (names{"front", "right"})) << edit.field;
        EXPECT_TRUE(diff.added.empty()) << edit.field;
        EXPECT_TRUE(diff.removed.empty()) << edit.field;
    }
}

TEST(RigDiff, AuthPasswordChangeCountsAsChange) {
    config::rig old_rig = three_cameras();
    old_rig.cameras[2].auth = config::auth_settings{"THETA1", "", "OLD_PASSWORD"};
    config::rig new_rig = three_cameras();
    new_rig.cameras[2].auth = config::auth_settings{"THETA1", "", "NEW_PASSWORD"};

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.changed, (names{"right"}));
}

TEST(RigDiff, MovedEntryIsUnchanged) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    std::swap(new_rig.cameras[0], new_rig.cameras[2]);
    for (std::size_t i = 0; i < new_rig.cameras.size(); ++i) {
        new_rig.cameras[i].line = 10 + static_cast<int>(i) * 3;
    }

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_TRUE(diff.empty());
    EXPECT_EQ(diff.unchanged, (names{"right", "left", "front"}));
}

TEST(RigDiff, RigDefaultChangesCamerasWithoutOverride) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.capture.hdr = true;
    new_rig.cameras[0].overrides.hdr = false;
    config::rig old_with_override = old_rig;
    old_with_override.cameras[0].overrides.hdr = false;

    const rig_diff diff = diff_rigs(old_with_override, new_rig);
    EXPECT_EQ(diff.changed, (names{"left", "right"}));
    EXPECT_EQ(diff.unchanged, (names{"front"}));
}

TEST(RigDiff, OverrideEqualToNewDefaultIsUnchanged) {
    config::rig old_rig = three_cameras();
    old_rig.cameras[0].overrides.iso = 400;
    config::rig new_rig = three_cameras();
    new_rig.capture.iso = 400;

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.unchanged, (names{"front"}));
    EXPECT_EQ(diff.changed, (names{"left", "right"}));
}

TEST(RigDiff, TimeoutChangeRestartsEveryCamera) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.timeouts.command = std::chrono::milliseconds(30000);

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.changed, (names{"front", "left", "right"}));
    EXPECT_TRUE(diff.unchanged.empty());
}

TEST(RigDiff, StatusIntervalRestartsEveryCamera) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.status_poll_interval = std::chrono::milliseconds(500);

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.changed, (names{"front", "left", "right"}));
}

TEST(RigDiff, ServiceSettingsDoNotRestartCameras) {
    const config::rig old_rig = three_cameras();
    config::rig new_rig = three_cameras();
    new_rig.name = "studio-b";
    new_rig.output_dir = "/tmp/elsewhere";
    new_rig.health_interval = std::chrono::milliseconds(2000);
    new_rig.sync.method = config::sync_method::none;

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_TRUE(diff.empty());
    EXPECT_EQ(diff.unchanged.size(), 3u);
}

TEST(RigDiff, EmptyOldRigAddsEverything) {
    const config::rig old_rig;
    const config::rig new_rig = three_cameras();

    const rig_diff diff = diff_rigs(old_rig, new_rig);
    EXPECT_EQ(diff.added, (names{"front", "left", "right"}));
    EXPECT_TRUE(diff.removed.empty());
}

}  // namespace
}  // namespace oscrig::controller
