#include "measure/transactions/socket_census.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <unordered_set>

#include "io/text_file.hh"

namespace longhaul::measure {

namespace {

// "0100007F:1F90" -> address "0100007F", port 0x1F90.
bool split_endpoint(std::string_view field, std::string& address, std::uint16_t& port) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view port_hex = field.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] =
      std::from_chars(port_hex.data(), port_hex.data() + port_hex.size(), value, 16);
  if (error != std::errc() || end != port_hex.data() + port_hex.size() || value > 0xffff) {
    return false;
  }
  address.assign(field.substr(0, colon));
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size() && out.size() < 5) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::vector<ProcTcpEntry> parse_proc_net_tcp(std::string_view text) {
  std::vector<ProcTcpEntry> entries;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    // "  sl  local_address rem_address   st ..." then "   0: 0100007F:1F90 00000000:0000 0A ..."
    const auto fields = fields_of(line);
    if (fields.size() < 4 || fields[0].empty() || fields[0].back() != ':') continue;
    ProcTcpEntry entry;
    if (!split_endpoint(fields[1], entry.local_address, entry.local_port) ||
        !split_endpoint(fields[2], entry.remote_address, entry.remote_port)) {
      continue;
    }
    unsigned state = 0;
    const auto [end, error] =
        std::from_chars(fields[3].data(), fields[3].data() + fields[3].size(), state, 16);
    if (error != std::errc() || state > 0xff) continue;
    entry.state = static_cast<std::uint8_t>(state);
    entries.push_back(std::move(entry));
  }
  return entries;
}

SocketCensus count_sockets(const std::vector<ProcTcpEntry>& entries,
                           const std::optional<ProcEndpoint>& server, std::uint16_t range_low,
                           std::uint16_t range_high) {
  SocketCensus census;
  std::unordered_set<std::uint16_t> ports;
  for (const auto& entry : entries) {
    if (entry.state == kTcpListen) continue;
    ++census.sockets;
    const bool time_wait = entry.state == kTcpTimeWait;
    const bool to_server =
        server && entry.remote_port == server->port && entry.remote_address == server->address;
    census.time_wait += time_wait ? 1 : 0;
    census.to_server += to_server ? 1 : 0;
    census.time_wait_to_server += time_wait && to_server ? 1 : 0;
    if (entry.local_port >= range_low && entry.local_port <= range_high) {
      ports.insert(entry.local_port);
    }
  }
  census.ephemeral_ports_in_use = ports.size();
  return census;
}

std::optional<SocketCensus> take_socket_census(const std::optional<ProcEndpoint>& server,
                                               std::uint16_t range_low, std::uint16_t range_high) {
  std::vector<ProcTcpEntry> entries;
  bool any = false;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    try {
      if (const auto text = io::read_text_file(path)) {
        any = true;
        auto more = parse_proc_net_tcp(*text);
        entries.insert(entries.end(), std::make_move_iterator(more.begin()),
                       std::make_move_iterator(more.end()));
      }
    } catch (const std::exception&) {
      // Unreadable (no IPv6, a restricted /proc): count what the other file shows.
    }
  }
  if (!any) return std::nullopt;
  return count_sockets(entries, server, range_low, range_high);
}

std::optional<ProcEndpoint> proc_endpoint_of_peer(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  ProcEndpoint out;
  // The kernel prints each 32-bit word of the address as it sits in memory, read as a
  // native integer (%08X of a __be32): copy the words the same way.
  if (address.ss_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, &address, sizeof(v4));
    std::uint32_t word = 0;
    std::memcpy(&word, &v4.sin_addr, sizeof(word));
    out.address = fmt::format("{:08X}", word);
    out.port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address, sizeof(v6));
    for (int i = 0; i < 4; ++i) {
      std::uint32_t word = 0;
      std::memcpy(&word, &v6.sin6_addr.s6_addr[4 * i], sizeof(word));
      out.address += fmt::format("{:08X}", word);
    }
    out.port = ntohs(v6.sin6_port);
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace longhaul::measure
