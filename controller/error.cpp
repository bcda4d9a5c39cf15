#include "controller/error.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace oscrig {
namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "oscrig"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::timed_out: return "timed out";
            case errc::connection_closed: return "connection closed by the camera";
            case errc::http_status: return "unexpected HTTP status";
            case errc::empty_body: return "empty reply body";
            case errc::malformed_reply: return "malformed reply";
            case errc::camera_error: return "camera reported an error";
            case errc::unactivated: return "camera is not activated";
            case errc::disabled_command: return "command disabled in the camera's current mode";
            case errc::unsupported: return "not supported by this camera";
            case errc::auth_failed: return "authentication failed";
            case errc::length_mismatch: return "byte count does not match Content-Length";
            case errc::unsafe_file_name: return "unsafe file name";
            case errc::file_io: return "file write failed";
            case errc::interface_unusable: return "network interface unusable";
            case errc::not_ready: return "not ready";
            case errc::cancelled: return "cancelled";
        }
        return "unknown oscrig error";
    }
};

}  // namespace

const boost::system::error_category& oscrig_category() noexcept {
    static const category_impl instance;
    return instance;
}

std::string failure::to_string() const {
    std::string text = code.message();
    if (!detail.empty()) {
        text += ": ";
        text += detail;
    }
    return text;
}

void throw_exception_from_error(const failure& error, const boost::source_location& location) {
    boost::throw_exception(boost::system::system_error(error.code, error.detail), location);
}

}  // namespace oscrig
