#include "core/ring.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>

namespace longhaul::core {
namespace {

TEST(Ring, FifoOrderAcrossBlocks) {
  Ring<std::uint64_t> ring(3 * Ring<std::uint64_t>::kPerBlock);
  std::deque<std::uint64_t> model;
  std::uint64_t next = 0;
  // A pattern of bursts that crosses block boundaries many times.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 5000 && !ring.full(); ++i) {
      ASSERT_TRUE(ring.push_back(next));
      model.push_back(next++);
    }
    for (int i = 0; i < 3000 && !ring.empty(); ++i) {
      ASSERT_EQ(ring.front(), model.front());
      ring.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(ring.size(), model.size());
    for (std::size_t i = 0; i < model.size(); i += 997) ASSERT_EQ(ring.at(i), model[i]);
  }
}

TEST(Ring, RefusesWhenFullAndKeepsContents) {
  Ring<int> ring(3);
  EXPECT_TRUE(ring.push_back(1));
  EXPECT_TRUE(ring.push_back(2));
  EXPECT_TRUE(ring.push_back(3));
  EXPECT_TRUE(ring.full());
  EXPECT_FALSE(ring.push_back(4));
  EXPECT_EQ(ring.size(), 3U);
  EXPECT_EQ(ring.front(), 1);
  EXPECT_EQ(ring.at(2), 3);
}

TEST(Ring, ResidentBlocksFollowOccupancyNotCapacity) {
  // Worst-case capacity of a million entries, but never more than ~2 blocks'
  // worth in flight: streaming many times the capacity through it must reuse
  // the same few blocks instead of walking across the whole reservation.
  constexpr std::size_t kCapacity = 1'000'000;
  Ring<std::uint64_t> ring(kCapacity);
  const std::size_t in_flight = Ring<std::uint64_t>::kPerBlock + 100;
  for (std::uint64_t i = 0; i < 5 * kCapacity; ++i) {
    ASSERT_TRUE(ring.push_back(i));
    if (ring.size() > in_flight) ring.pop_front();
  }
  EXPECT_LE(ring.blocks_touched(), 3U);
  EXPECT_GT(kCapacity / Ring<std::uint64_t>::kPerBlock, 100U);
}

}  // namespace
}  // namespace longhaul::core
