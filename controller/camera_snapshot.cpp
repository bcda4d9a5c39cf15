#include "controller/camera_snapshot.hpp"

namespace oscrig::controller {

std::string_view to_string(camera_state state) {
    switch (state) {
        case camera_state::connecting:
            return "connecting";
        case camera_state::ready:
            return "ready";
        case camera_state::busy:
            return "busy";
        case camera_state::unreachable:
            return "unreachable";
        case camera_state::needs_activation:
            return "needs_activation";
        case camera_state::error:
            return "error";
    }
    return "unknown";
}

}  // namespace oscrig::controller
