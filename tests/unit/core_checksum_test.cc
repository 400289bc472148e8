#include "core/checksum.hh"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace longhaul::core {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(Checksum, Rfc1071WorkedExample) {
  // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 after folding.
  const auto data = bytes_of({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  EXPECT_EQ(ones_complement_sum(data), 0xddf2U);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const auto data = bytes_of({0x12, 0x34, 0x56});
  EXPECT_EQ(ones_complement_sum(data), 0x1234U + 0x5600U);
}

// The receiver's verification: pseudo-header sum + the whole datagram == 0xffff.
bool receiver_accepts(const std::vector<std::byte>& frame, std::size_t l4, std::uint32_t pseudo) {
  return ones_complement_sum(std::span<const std::byte>(frame).subspan(l4), pseudo) == 0xFFFF;
}

// Leaves `frame` as the kernel leaves a CHECKSUM_PARTIAL frame (the folded pseudo-header sum
// in the checksum field, at `field` past the L4 header's start `l4`), checks that a receiver
// refuses it, completes it and checks that a receiver accepts it. Returns the pseudo sum.
std::uint32_t ExpectCompletion(std::vector<std::byte>& frame, std::size_t l4, std::uint16_t field,
                               const std::vector<std::byte>& pseudo_bytes) {
  const std::uint32_t pseudo = ones_complement_sum(pseudo_bytes);
  frame[l4 + field] = static_cast<std::byte>(pseudo >> 8);
  frame[l4 + field + 1] = static_cast<std::byte>(pseudo & 0xFF);
  EXPECT_FALSE(receiver_accepts(frame, l4, pseudo));
  EXPECT_TRUE(complete_partial_checksum(frame, static_cast<std::uint16_t>(l4), field));
  EXPECT_TRUE(receiver_accepts(frame, l4, pseudo));
  return pseudo;
}

TEST(Checksum, CompletedPartialChecksumIsWhatAReceiverVerifies) {
  // 14 bytes of Ethernet, 20 of IPv4 (198.18.1.2 -> 198.18.1.1, UDP), 8 of UDP, 5 of payload.
  auto frame =
      bytes_of({0, 1,  2,    3,    4,    5,    6,    7,  8, 9, 10,  11,  0x08, 0x00, 0x45, 0,
                0, 33, 0,    0,    0,    0,    64,   17, 0, 0, 198, 18,  1,    2,    198,  18,
                1, 1,  0x13, 0x88, 0x00, 0x09, 0x00, 13, 0, 0, 'h', 'e', 'l',  'l',  'o'});
  const std::size_t l4 = 34;
  // Pseudo-header: source, destination, zero+protocol, UDP length.
  const std::uint32_t pseudo =
      ExpectCompletion(frame, l4, 6, bytes_of({198, 18, 1, 2, 198, 18, 1, 1, 0, 17, 0, 13}));
  ASSERT_TRUE(receiver_accepts(frame, l4, pseudo));

  // Any flipped payload bit afterwards is caught.
  for (std::size_t byte = l4 + 8; byte < frame.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto damaged = frame;
      damaged[byte] ^= static_cast<std::byte>(1U << bit);
      EXPECT_FALSE(receiver_accepts(damaged, l4, pseudo)) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(Checksum, CompletesATcpSynLeftToOffload) {
  // What --port xdp's egress finishes when a frame still carries NEEDS_CSUM: a TCP SYN (IPv4,
  // 198.18.1.2:40000 -> 198.18.1.1:5201, 20-byte header, one odd payload byte), field at +16.
  auto frame = bytes_of({0,    1, 2,   3,  4,    5,    6,    7,    8,    9,    10, 11, 0x08, 0x00,
                         0x45, 0, 0,   41, 0,    0,    0x40, 0,    64,   6,    0,  0,  198,  18,
                         1,    2, 198, 18, 1,    1,    0x9c, 0x40, 0x14, 0x51, 0,  0,  0,    1,
                         0,    0, 0,   0,  0x50, 0x02, 0xfa, 0xf0, 0,    0,    0,  0,  'x'});
  ExpectCompletion(frame, 34, 16, bytes_of({198, 18, 1, 2, 198, 18, 1, 1, 0, 6, 0, 21}));
}

TEST(Checksum, RejectsOffsetsOutsideTheFrame) {
  auto frame = bytes_of({1, 2, 3, 4});
  EXPECT_FALSE(complete_partial_checksum(frame, 4, 0));
  EXPECT_FALSE(complete_partial_checksum(frame, 2, 1));
  EXPECT_TRUE(complete_partial_checksum(frame, 0, 2));
}

}  // namespace
}  // namespace longhaul::core
