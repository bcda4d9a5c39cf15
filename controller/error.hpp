// Error codes for the expected outcomes of talking to a camera, and a result type that carries
// a human-readable detail with the code.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace oscrig {

enum class errc {
    timed_out = 1,       // a request deadline passed
    connection_closed,   // the camera closed the connection before the reply was complete
    http_status,         // an HTTP status other than 200 without an OSC error body
    empty_body,          // a reply with no body where JSON was expected
    malformed_reply,     // a body that is not JSON, or JSON of an unexpected shape
    camera_error,        // the camera answered with an OSC error object
    unactivated,         // Insta360 camera never activated in the vendor app
    disabled_command,    // camera in the wrong mode or asleep
    unsupported,         // a command or option this camera model does not have
    auth_failed,         // HTTP Digest credentials rejected
    length_mismatch,     // a download ended with a byte count other than Content-Length
    unsafe_file_name,    // a camera-supplied file name that would leave the shot folder
    file_io,             // writing to local disk failed
    interface_unusable,  // the configured network interface is missing, down or has no IPv4
    not_ready,           // a camera, a request or the service is not ready for the operation
    cancelled,           // the operation was stopped by the controller
};

const boost::system::error_category& oscrig_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), oscrig_category()};
}

/// An error code with the detail a person needs: the camera's message, the file, the status.
struct failure {
    boost::system::error_code code;
    std::string detail;

    /// Formats as "<code message>: <detail>", or the code message alone.
    std::string to_string() const;
};

/// Throws boost::system::system_error; called by result<T, failure>::value() on an error.
[[noreturn]] void throw_exception_from_error(const failure& error,
                                             const boost::source_location& location);

inline failure make_failure(errc e, std::string detail = {}) {
    return failure{make_error_code(e), std::move(detail)};
}

template <class T>
using outcome = boost::system::result<T, failure>;

}  // namespace oscrig

template <>
struct boost::system::is_error_code_enum<oscrig::errc> : std::true_type {};
