#include "controller/net_interface.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace oscrig::controller {
namespace {

std::uint32_t prefix_to_mask(int prefix_length) {
    if (prefix_length <= 0) {
        return 0;
    }
    if (prefix_length >= 32) {
        return 0xffffffffu;
    }
    return ~((1u << (32 - prefix_length)) - 1u);
}

int mask_to_prefix(std::uint32_t mask) {
    int length = 0;
    while (length < 32 && (mask & (0x80000000u >> length)) != 0) {
        ++length;
    }
    return length;
}

std::optional<std::uint32_t> parse_hex32(std::string_view text) {
    std::uint32_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, 16);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::uint32_t> parse_decimal32(std::string_view text) {
    std::uint32_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::vector<std::string_view> split_whitespace(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t position = 0;
    while (position < line.size()) {
        const auto start = line.find_first_not_of(" \t", position);
        if (start == std::string_view::npos) {
            break;
        }
        auto stop = line.find_first_of(" \t", start);
        if (stop == std::string_view::npos) {
            stop = line.size();
        }
        fields.push_back(line.substr(start, stop - start));
        position = stop;
    }
    return fields;
}

std::string read_proc_net_route() {
    // /proc/net follows the network namespace of the main thread, /proc/thread-self/net that
    // of the calling thread, whose namespace getifaddrs reads.
    std::ifstream file("/proc/thread-self/net/route");
    if (!file) {
        file.clear();
        file.open("/proc/net/route");
    }
    if (!file) {
        return {};
    }
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::optional<int> read_sysctl_integer(const std::string& path) {
    std::ifstream file(path);
    int value = 0;
    if (!(file >> value)) {
        return std::nullopt;
    }
    return value;
}

// The kernel applies the larger of the "all" value and the interface's own value.
std::optional<int> read_reverse_path_filter(const std::string& interface_name) {
    const auto all = read_sysctl_integer("/proc/sys/net/ipv4/conf/all/rp_filter");
    const auto own =
        read_sysctl_integer("/proc/sys/net/ipv4/conf/" + interface_name + "/rp_filter");
    if (!all || !own) {
        return std::nullopt;
    }
    return std::max(*all, *own);
}

bool has_own_address(const interface_info& info, std::uint32_t address) {
    return std::any_of(info.ipv4.begin(), info.ipv4.end(), [&](const auto& entry) {
        return parse_ipv4(entry.address) == address;
    });
}

bool network_contains_own_address(const interface_info& info, const ipv4_route& route) {
    return std::any_of(info.ipv4.begin(), info.ipv4.end(), [&](const auto& entry) {
        const auto address = parse_ipv4(entry.address);
        return address && (*address & route.mask) == route.destination;
    });
}

std::string available_names(const std::vector<interface_info>& interfaces) {
    std::string names;
    for (const auto& info : interfaces) {
        if (!names.empty()) {
            names += ", ";
        }
        names += info.name;
    }
    return names.empty() ? std::string{"none"} : names;
}

struct ifaddrs_deleter {
    void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

}  // namespace

std::string ipv4_interface_address::network() const {
    const auto address = parse_ipv4(this->address);
    if (!address) {
        return {};
    }
    const auto mask = prefix_to_mask(prefix_length);
    return fmt::format("{}/{}", format_ipv4(*address & mask), prefix_length);
}

bool interface_info::is_up() const { return (flags & IFF_UP) != 0; }

bool interface_info::is_running() const { return (flags & IFF_RUNNING) != 0; }

bool interface_info::is_loopback() const { return (flags & IFF_LOOPBACK) != 0; }

bool interface_info::has_strict_reverse_path_filter() const { return reverse_path_filter == 1; }

std::string format_ipv4(std::uint32_t address) {
    return fmt::format("{}.{}.{}.{}", (address >> 24) & 0xff, (address >> 16) & 0xff,
                       (address >> 8) & 0xff, address & 0xff);
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
    // inet_pton accepts exactly four decimal parts, unlike inet_aton's shorthand forms.
    const std::string copy(text);
    in_addr parsed{};
    if (inet_pton(AF_INET, copy.c_str(), &parsed) != 1) {
        return std::nullopt;
    }
    return ntohl(parsed.s_addr);
}

std::vector<ipv4_route> parse_proc_net_route(std::string_view text) {
    // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT. The
    // kernel prints addresses as the hex value of the network-order 32-bit word, so ntohl
    // gives the host-order address on any byte order.
    std::vector<ipv4_route> routes;
    std::size_t position = 0;
    bool header = true;
    while (position < text.size()) {
        auto stop = text.find('\n', position);
        if (stop == std::string_view::npos) {
            stop = text.size();
        }
        const auto line = text.substr(position, stop - position);
        position = stop + 1;
        if (header) {
            header = false;
            continue;
        }

        const auto fields = split_whitespace(line);
        if (fields.size() < 8) {
            continue;
        }
        const auto destination = parse_hex32(fields[1]);
        const auto gateway = parse_hex32(fields[2]);
        const auto flags = parse_hex32(fields[3]);
        const auto metric = parse_decimal32(fields[6]);
        const auto mask = parse_hex32(fields[7]);
        if (!destination || !gateway || !flags || !metric || !mask) {
            continue;
        }
        if ((*flags & RTF_UP) == 0) {
            continue;
        }
        routes.push_back(ipv4_route{
            .interface = std::string(fields[0]),
            .destination = ntohl(*destination),
            .gateway = ntohl(*gateway),
            .mask = ntohl(*mask),
            .metric = *metric,
            .has_gateway = (*flags & RTF_GATEWAY) != 0,
        });
    }
    return routes;
}

void assign_gateway(interface_info& info, const std::vector<ipv4_route>& routes) {
    info.gateway.clear();
    info.gateway_from = gateway_source::none;

    const ipv4_route* best_default = nullptr;
    const ipv4_route* best_on_link = nullptr;
    for (const auto& route : routes) {
        if (route.interface != info.name) {
            continue;
        }
        if (route.destination == 0 && route.mask == 0 && route.has_gateway) {
            if (best_default == nullptr || route.metric < best_default->metric) {
                best_default = &route;
            }
            continue;
        }

        // A camera in access-point mode is usually the first host of its network
        // (192.168.42.1 in 192.168.42.0/24), so that address is a useful probe target when
        // the adapter has no default route. Link-local, host and /31 routes have no such host.
        const int prefix = mask_to_prefix(route.mask);
        const bool link_local = (route.destination & 0xffff0000u) == 0xa9fe0000u;
        if (route.has_gateway || prefix == 0 || prefix > 30 || link_local) {
            continue;
        }
        if (!network_contains_own_address(info, route)) {
            continue;
        }
        if (has_own_address(info, route.destination + 1)) {
            continue;
        }
        if (best_on_link == nullptr || route.metric < best_on_link->metric) {
            best_on_link = &route;
        }
    }

    if (best_default != nullptr) {
        info.gateway = format_ipv4(best_default->gateway);
        info.gateway_from = gateway_source::default_route;
    } else if (best_on_link != nullptr) {
        info.gateway = format_ipv4(best_on_link->destination + 1);
        info.gateway_from = gateway_source::on_link;
    }
}

outcome<std::vector<interface_info>> list_interfaces() {
    ifaddrs* raw_list = nullptr;
    if (getifaddrs(&raw_list) != 0) {
        const int error_number = errno;
        return failure{boost::system::error_code(error_number, boost::system::system_category()),
                       "getifaddrs failed while listing network interfaces"};
    }
    const std::unique_ptr<ifaddrs, ifaddrs_deleter> list(raw_list);

    // getifaddrs returns one entry per address plus one AF_PACKET entry per link, so an
    // interface without any address still appears.
    std::map<std::string, interface_info> by_name;
    for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_name == nullptr) {
            continue;
        }
        auto& info = by_name[entry->ifa_name];
        info.name = entry->ifa_name;
        info.flags = entry->ifa_flags;
        if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) {
            continue;
        }

        const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
        int prefix_length = 32;
        if (entry->ifa_netmask != nullptr) {
            const auto* netmask = reinterpret_cast<const sockaddr_in*>(entry->ifa_netmask);
            prefix_length = mask_to_prefix(ntohl(netmask->sin_addr.s_addr));
        }
        info.ipv4.push_back(ipv4_interface_address{
            .address = format_ipv4(ntohl(address->sin_addr.s_addr)),
            .prefix_length = prefix_length,
        });
    }

    const auto routes = parse_proc_net_route(read_proc_net_route());
    std::vector<interface_info> interfaces;
    interfaces.reserve(by_name.size());
    for (auto& [name, info] : by_name) {
        info.index = if_nametoindex(name.c_str());
        assign_gateway(info, routes);
        info.reverse_path_filter = read_reverse_path_filter(name);
        interfaces.push_back(std::move(info));
    }
    std::sort(interfaces.begin(), interfaces.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    return interfaces;
}

outcome<interface_info> check_interface_usable(std::string_view name) {
    if (name.empty()) {
        return make_failure(errc::interface_unusable,
                            "interface name is empty; set it to a device such as wlan1");
    }
    if (name.size() >= IFNAMSIZ) {
        return make_failure(
            errc::interface_unusable,
            fmt::format("interface name \"{}\" is invalid: Linux names have at most {} characters",
                        name, IFNAMSIZ - 1));
    }

    auto interfaces = list_interfaces();
    if (!interfaces) {
        return make_failure(errc::interface_unusable,
                            fmt::format("cannot check interface \"{}\": {}", name,
                                        interfaces.error().to_string()));
    }

    const auto found = std::find_if(interfaces->begin(), interfaces->end(),
                                    [&](const auto& info) { return info.name == name; });
    if (found == interfaces->end() || found->index == 0) {
        return make_failure(errc::interface_unusable,
                            fmt::format("interface \"{}\" not found; available: {}", name,
                                        available_names(*interfaces)));
    }
    if (!found->is_up()) {
        return make_failure(
            errc::interface_unusable,
            fmt::format("interface \"{}\" is down; bring it up with `ip link set {} up`", name,
                        name));
    }
    // Loopback has no carrier to lose, so IFF_RUNNING carries no information there.
    if (!found->is_loopback() && !found->is_running()) {
        return make_failure(
            errc::interface_unusable,
            fmt::format("interface \"{}\" is up but has no carrier; check that the adapter is "
                        "connected to the camera's Wi-Fi network",
                        name));
    }
    if (found->ipv4.empty()) {
        return make_failure(
            errc::interface_unusable,
            fmt::format("interface \"{}\" has no IPv4 address; wait for DHCP from the camera "
                        "or assign one with `ip addr add ADDRESS/PREFIX dev {}`",
                        name, name));
    }
    return std::move(*found);
}

failure bind_to_device_failure(int error_number, std::string_view interface_name) {
    const boost::system::error_code code(error_number, boost::system::system_category());
    std::string detail;
    switch (error_number) {
        case EPERM:
        case EACCES:
            detail = fmt::format(
                "binding a socket to interface \"{}\" (SO_BINDTODEVICE) was not permitted: "
                "Linux 5.7 and later allow it once on a fresh socket without privilege, older "
                "kernels and re-binding need CAP_NET_RAW (run as root or grant it with "
                "`setcap cap_net_raw+ep` on the oscrig binary)",
                interface_name);
            break;
        case ENODEV:
            detail = fmt::format("binding a socket to interface \"{}\" failed: no such device",
                                 interface_name);
            break;
        default:
            detail = fmt::format("binding a socket to interface \"{}\" (SO_BINDTODEVICE) "
                                 "failed: {}",
                                 interface_name, code.message());
            break;
    }
    return make_failure(errc::interface_unusable, std::move(detail));
}

outcome<void> bind_socket_to_device(int socket_fd, std::string_view interface_name) {
    if (interface_name.empty() || interface_name.size() >= IFNAMSIZ) {
        return bind_to_device_failure(ENODEV, interface_name);
    }
    const std::string name(interface_name);
    // The option length leaves out the terminating NUL, which the kernel accepts.
    if (::setsockopt(socket_fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                     static_cast<socklen_t>(name.size())) != 0) {
        return bind_to_device_failure(errno, interface_name);
    }
    return {};
}

}  // namespace oscrig::controller
