#include "measure/transactions/frame_codec.hh"

#include <fmt/format.h>

namespace longhaul::measure {

std::string encode_message(const nlohmann::json& message) {
  const std::string text = message.dump();
  const auto size = static_cast<std::uint32_t>(text.size());
  std::string frame;
  frame.reserve(4 + text.size());
  for (const int shift : {24, 16, 8, 0}) {
    frame.push_back(static_cast<char>((size >> shift) & 0xffU));
  }
  frame += text;
  return frame;
}

void FrameReader::feed(std::string_view bytes) {
  if (failed_) return;
  // Compact now and then so the buffer does not grow with everything ever received.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > (64U << 10)) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

FrameReader::Status FrameReader::next(nlohmann::json& out, std::string& error) {
  if (failed_) {
    error = "control connection unusable after a framing error";
    return Status::error;
  }
  if (buffered() < 4) return Status::incomplete;
  std::uint32_t size = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    size = (size << 8) | static_cast<unsigned char>(buffer_[consumed_ + i]);
  }
  if (size > kMaxMessageBytes) {
    failed_ = true;
    error = fmt::format("peer sent a {}-byte message (limit {}); is it a longhaul bench peer?",
                        size, kMaxMessageBytes);
    return Status::error;
  }
  if (buffered() < 4 + std::size_t{size}) return Status::incomplete;
  const std::string_view text(buffer_.data() + consumed_ + 4, size);
  consumed_ += 4 + std::size_t{size};
  out = nlohmann::json::parse(text, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    failed_ = true;
    error = "peer sent a message that is not a JSON object; is it a longhaul bench peer?";
    return Status::error;
  }
  return Status::message;
}

}  // namespace longhaul::measure
