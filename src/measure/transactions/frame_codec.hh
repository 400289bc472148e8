#pragma once
// Framing of control messages: a 4-byte big-endian length, then that many bytes
// of UTF-8 JSON. Pure (bytes in, messages out) so it is tested without sockets.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace longhaul::measure {

/// Largest message either side accepts (an interval of 256 streams is ~200 KB).
inline constexpr std::size_t kMaxMessageBytes = 4U << 20;

/// The frame for `message`: length prefix and compact JSON text.
std::string encode_message(const nlohmann::json& message);

/// Collects bytes from a stream and cuts them into messages.
class FrameReader {
 public:
  enum class Status { incomplete, message, error };

  /// Appends bytes as they arrived.
  void feed(std::string_view bytes);
  /// Takes the next complete message into `out`. On `error` (oversized or not JSON)
  /// `error` says why and the reader is unusable: the peer does not speak our protocol.
  Status next(nlohmann::json& out, std::string& error);
  /// Bytes received but not yet returned as messages.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool failed_ = false;
};

}  // namespace longhaul::measure
