// Network interfaces of the host: listing, usability checks and socket binding.
//
// Cameras in access-point mode all use the same address (192.168.42.1 for Insta360,
// 192.168.1.1 for THETA), so a rig has one Wi-Fi adapter per camera and every socket of a
// camera session is bound to its adapter with SO_BINDTODEVICE. The functions here work on the
// network namespace of the calling thread, and this header includes neither Asio nor Beast.
#pragma once

#include "controller/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oscrig::controller {

/// One IPv4 address of an interface, in dotted-quad form.
struct ipv4_interface_address {
    std::string address;
    int prefix_length = 0;  // 0..32

    /// Returns the network in CIDR form, for example "192.168.42.0/24".
    std::string network() const;
};

/// Source of an interface's gateway.
enum class gateway_source {
    none,           // no route through the interface names one
    default_route,  // the gateway of a default route (destination 0.0.0.0/0) on the interface
    on_link,        // the first host address of an on-link route's network, a guess
};

/// One row of /proc/net/route that is up (RTF_UP), in host byte order.
struct ipv4_route {
    std::string interface;
    std::uint32_t destination = 0;
    std::uint32_t gateway = 0;  // 0 for an on-link route
    std::uint32_t mask = 0;
    std::uint32_t metric = 0;
    bool has_gateway = false;  // RTF_GATEWAY
};

/// An interface as getifaddrs and /proc/net/route describe it.
struct interface_info {
    std::string name;
    unsigned index = 0;  // if_nametoindex
    unsigned flags = 0;  // IFF_* bits of <net/if.h>
    std::vector<ipv4_interface_address> ipv4;
    std::string gateway;  // dotted quad, empty when gateway_from is none
    gateway_source gateway_from = gateway_source::none;
    // Effective net.ipv4.conf rp_filter, the larger of the "all" value and this interface's own:
    // 0 off, 1 strict, 2 loose. Unset when /proc/sys cannot be read. Strict mode drops replies
    // on every link but one when several links have the same network, as in a rig of cameras.
    std::optional<int> reverse_path_filter;

    bool is_up() const;        // IFF_UP
    bool is_running() const;   // IFF_RUNNING: the driver reports a carrier
    bool is_loopback() const;  // IFF_LOOPBACK
    bool has_strict_reverse_path_filter() const;  // reverse_path_filter == 1
};

/// Lists every interface of the calling thread's network namespace, sorted by index.
/// Fails only when getifaddrs fails. Without a readable /proc/net/route every gateway is empty.
outcome<std::vector<interface_info>> list_interfaces();

/// Checks that `name` exists, is up, has a carrier (IFF_RUNNING, not required of loopback)
/// and has an IPv4 address. On failure the code is errc::interface_unusable and the detail
/// names the interface, the problem and the fix, for example
/// `interface "wlan3" not found; available: lo, eth0, wlan1`.
outcome<interface_info> check_interface_usable(std::string_view name);

/// Binds a socket to an interface with SO_BINDTODEVICE. Call it on a freshly opened socket
/// before bind and connect. Errors are errc::interface_unusable with the detail of
/// bind_to_device_failure.
outcome<void> bind_socket_to_device(int socket_fd, std::string_view interface_name);

/// Turns the errno of a failed SO_BINDTODEVICE into a failure whose detail names the
/// interface. EPERM gets the capability advice: Linux 5.7 and later let an unprivileged
/// process bind a fresh socket once, and binding again or an older kernel needs CAP_NET_RAW.
failure bind_to_device_failure(int error_number, std::string_view interface_name);

/// Parses the text of /proc/net/route. Skips the header, routes that are not up and lines
/// that do not parse.
std::vector<ipv4_route> parse_proc_net_route(std::string_view text);

/// Picks the gateway of `info` from `routes`: the lowest-metric default route on the
/// interface, otherwise the first host address of an on-link route's network when that is
/// not one of the interface's own addresses. Updates info.gateway and info.gateway_from.
void assign_gateway(interface_info& info, const std::vector<ipv4_route>& routes);

/// Formats an IPv4 address in host byte order as a dotted quad.
std::string format_ipv4(std::uint32_t address);

/// Parses a dotted quad into host byte order, or nullopt when it is not one.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);

}  // namespace oscrig::controller
