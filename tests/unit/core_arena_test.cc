// BufferArena: chunked bump allocation of packet bytes with chunk reuse.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

#include "core/buffer_arena.hh"
#include "core/random.hh"

namespace longhaul::core {
namespace {

constexpr std::size_t kChunk = 4096;

std::size_t ChunkOf(const BufferArena& arena, BufferHandle handle) {
  return std::size_t{handle} * BufferArena::kAlignment / arena.chunk_bytes();
}

// Fills an allocation with a pattern derived from `tag` and checks it later.
void Fill(BufferArena& arena, BufferHandle handle, std::size_t bytes, std::uint8_t tag) {
  std::memset(arena.data(handle), tag, bytes);
}
bool Holds(const BufferArena& arena, BufferHandle handle, std::size_t bytes, std::uint8_t tag) {
  const std::byte* p = arena.data(handle);
  for (std::size_t i = 0; i < bytes; ++i) {
    if (p[i] != std::byte{tag}) return false;
  }
  return true;
}

// Index in [0, n) from the project's own seeded generator (portable across builds).
std::size_t Pick(Random& random, std::size_t n) {
  return static_cast<std::size_t>(random.next() % n);
}

TEST(BufferArena, CapacityRoundsUpToWholeChunks) {
  const BufferArena three(10'000, kChunk);
  EXPECT_EQ(three.chunk_bytes(), kChunk);
  EXPECT_EQ(three.capacity_bytes(), 3 * kChunk);
  const BufferArena exact(2 * kChunk, kChunk);
  EXPECT_EQ(exact.capacity_bytes(), 2 * kChunk);
  const BufferArena empty(0, kChunk);
  EXPECT_EQ(empty.capacity_bytes(), kChunk);
  const BufferArena odd_chunk(5000, 1000);  // chunks are whole alignment units: 1024
  EXPECT_EQ(odd_chunk.chunk_bytes(), 1024u);
  EXPECT_EQ(odd_chunk.capacity_bytes(), 5 * 1024u);
  const BufferArena defaults(64u << 20);
  EXPECT_EQ(defaults.chunk_bytes(), std::size_t{2} << 20);
  EXPECT_EQ(defaults.capacity_bytes(), std::size_t{64} << 20);
  EXPECT_EQ(defaults.chunks_touched(), 0u);
}

TEST(BufferArena, AllocationsAreAlignedDisjointAndWritable) {
  BufferArena arena(4 * kChunk, kChunk);
  const std::uint32_t sizes[] = {100, 1, 0, 64, 65, 1514};
  const std::size_t rounded[] = {128, 64, 64, 64, 128, 1536};
  std::vector<BufferHandle> handles;
  std::size_t expected_in_use = 0;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    const auto handle = arena.allocate(sizes[i]);
    ASSERT_TRUE(handle.has_value()) << i;
    handles.push_back(*handle);
    expected_in_use += rounded[i];
    EXPECT_EQ(arena.bytes_in_use(), expected_in_use);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(arena.data(*handle)) % BufferArena::kAlignment, 0u);
    Fill(arena, *handle, sizes[i], static_cast<std::uint8_t>(0xA0 + i));
  }
  EXPECT_EQ(arena.live_allocations(), std::size(sizes));
  EXPECT_EQ(arena.chunks_touched(), 1u);
  // Bump allocation: each handle starts where the previous rounded size ended.
  for (std::size_t i = 1; i < handles.size(); ++i) {
    EXPECT_EQ(arena.data(handles[i]) - arena.data(handles[i - 1]),
              static_cast<std::ptrdiff_t>(rounded[i - 1]));
  }
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    EXPECT_TRUE(Holds(arena, handles[i], sizes[i], static_cast<std::uint8_t>(0xA0 + i))) << i;
  }
  for (const BufferHandle handle : handles) arena.release(handle);
  EXPECT_EQ(arena.live_allocations(), 0u);
  EXPECT_EQ(arena.bytes_in_use(), 0u);
}

TEST(BufferArena, RequestLargerThanAChunkIsRefused) {
  BufferArena arena(4 * kChunk, kChunk);
  EXPECT_FALSE(arena.allocate(kChunk + 1).has_value());
  EXPECT_EQ(arena.chunks_touched(), 0u);
  const auto whole = arena.allocate(kChunk);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(arena.bytes_in_use(), kChunk);
}

TEST(BufferArena, AFrameThatDoesNotFitStartsTheNextChunk) {
  BufferArena arena(2 * kChunk, kChunk);
  const auto a = arena.allocate(3000);  // 3008 bytes
  const auto b = arena.allocate(1100);  // 1152: 3008 + 1152 > 4096
  ASSERT_TRUE(a && b);
  EXPECT_EQ(ChunkOf(arena, *a), 0u);
  EXPECT_EQ(ChunkOf(arena, *b), 1u);
  EXPECT_EQ(std::size_t{*b} * BufferArena::kAlignment, kChunk);
  const auto c = arena.allocate(2944);  // 1152 + 2944 = 4096: fits exactly
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(ChunkOf(arena, *c), 1u);
}

TEST(BufferArena, ExhaustionReturnsNulloptUntilAWholeChunkComesBack) {
  BufferArena arena(2 * kChunk, kChunk);
  std::vector<BufferHandle> handles;
  for (int i = 0; i < 8; ++i) {
    const auto handle = arena.allocate(1024);
    ASSERT_TRUE(handle.has_value()) << i;
    handles.push_back(*handle);
  }
  EXPECT_FALSE(arena.allocate(1024).has_value());
  EXPECT_FALSE(arena.allocate(1).has_value());
  EXPECT_EQ(arena.live_allocations(), 8u);

  // Chunk 0 holds handles 0..3; releasing some of them frees nothing yet.
  arena.release(handles[0]);
  arena.release(handles[2]);
  EXPECT_FALSE(arena.allocate(64).has_value());
  arena.release(handles[1]);
  arena.release(handles[3]);
  const auto again = arena.allocate(1024);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ChunkOf(arena, *again), 0u);
  EXPECT_EQ(arena.chunks_touched(), 2u);
  EXPECT_EQ(arena.live_allocations(), 5u);
}

TEST(BufferArena, FifoChurnFarBeyondCapacityTouchesFewChunks) {
  // 20 frames of 1024 bytes in flight = 5 chunks' worth. Allocating and releasing in
  // FIFO order through 400 times the capacity must keep reusing the same chunks: at
  // most the 6 chunks a run of 20 frames can span, plus the one being opened.
  BufferArena arena(64 * kChunk, kChunk);
  std::deque<BufferHandle> in_flight;
  std::uint8_t tag = 0;
  std::deque<std::uint8_t> tags;
  for (int i = 0; i < 100'000; ++i) {
    if (in_flight.size() == 20) {
      ASSERT_TRUE(Holds(arena, in_flight.front(), 1000, tags.front())) << i;
      arena.release(in_flight.front());
      in_flight.pop_front();
      tags.pop_front();
    }
    const auto handle = arena.allocate(1000);
    ASSERT_TRUE(handle.has_value()) << i;
    Fill(arena, *handle, 1000, ++tag);
    in_flight.push_back(*handle);
    tags.push_back(tag);
  }
  EXPECT_LE(arena.chunks_touched(), 7u);
  EXPECT_EQ(arena.live_allocations(), 20u);
  EXPECT_GE(arena.bytes_in_use(), 20u * 1024);
  EXPECT_LE(arena.bytes_in_use(), 7u * kChunk);
  while (!in_flight.empty()) {
    arena.release(in_flight.front());
    in_flight.pop_front();
  }
  EXPECT_EQ(arena.bytes_in_use(), 0u);
}

TEST(BufferArena, FifoChurnWithMixedSizesTouchesFewChunks) {
  // Up to 50 frames of 60..1664 bytes (at most 83200 bytes) in flight with 64 KiB
  // chunks: any run of allocations that size spans at most 3 chunks (each full chunk
  // holds at least 65536 - 1663 bytes of it), so at most 4 are ever touched.
  constexpr std::size_t kBigChunk = 64 * 1024;
  BufferArena arena(64 * kBigChunk, kBigChunk);
  Random random(2024);
  std::deque<BufferHandle> in_flight;
  for (int i = 0; i < 200'000; ++i) {
    if (in_flight.size() == 50) {
      arena.release(in_flight.front());
      in_flight.pop_front();
    }
    const auto bytes = static_cast<std::uint32_t>(60 + Pick(random, 1664 - 60 + 1));
    const auto handle = arena.allocate(bytes);
    ASSERT_TRUE(handle.has_value()) << i;
    in_flight.push_back(*handle);
  }
  EXPECT_LE(arena.chunks_touched(), 4u);
}

TEST(BufferArena, OutOfOrderReleaseNeverHandsOutLiveBytes) {
  // Fill 16 chunks with 256 frames, release a random 7/8 of them (so a few chunks
  // empty completely each round), refill what became free, and check that no
  // surviving frame was overwritten.
  BufferArena arena(16 * kChunk, kChunk);
  Random random(77);
  struct Live {
    BufferHandle handle;
    std::uint8_t tag;
  };
  std::vector<Live> live;
  for (int i = 0; i < 256; ++i) {
    const auto handle = arena.allocate(200);  // 256 bytes: 16 per chunk
    ASSERT_TRUE(handle.has_value()) << i;
    const auto tag = static_cast<std::uint8_t>(i);
    Fill(arena, *handle, 200, tag);
    live.push_back({*handle, tag});
  }
  EXPECT_FALSE(arena.allocate(200).has_value());
  EXPECT_EQ(arena.chunks_touched(), 16u);

  std::size_t total_refilled = 0;
  for (int round = 0; round < 20; ++round) {
    // Fisher-Yates with the portable generator, then release all but the first eighth.
    for (std::size_t i = live.size() - 1; i > 0; --i) std::swap(live[i], live[Pick(random, i + 1)]);
    const std::size_t keep = live.size() / 8;
    for (std::size_t i = keep; i < live.size(); ++i) arena.release(live[i].handle);
    live.resize(keep);
    EXPECT_EQ(arena.live_allocations(), keep);
    std::size_t refilled = 0;
    for (int i = 0; i < 256; ++i) {
      const auto handle = arena.allocate(200);
      if (!handle) break;
      ++refilled;
      const auto tag = static_cast<std::uint8_t>(0x80 ^ (round * 7 + i));
      Fill(arena, *handle, 200, tag);
      live.push_back({*handle, tag});
    }
    // Exactly the chunks with nothing live in them were refilled (16 frames each),
    // plus at most the one slot of the newest frame if it was among those released
    // (it comes straight off the bump pointer).
    EXPECT_LE(refilled % 16, 1u);
    for (const Live& l : live) ASSERT_TRUE(Holds(arena, l.handle, 200, l.tag)) << round;
    EXPECT_EQ(arena.chunks_touched(), 16u);
    total_refilled += refilled;
  }

  EXPECT_GT(total_refilled, 0u);
  for (const Live& l : live) arena.release(l.handle);
  EXPECT_EQ(arena.live_allocations(), 0u);
  EXPECT_EQ(arena.bytes_in_use(), 0u);
  // Everything is reusable again: the full capacity, and not one byte more.
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(arena.allocate(200).has_value()) << i;
  EXPECT_FALSE(arena.allocate(200).has_value());
  EXPECT_EQ(arena.chunks_touched(), 16u);
}

TEST(BufferArena, EmptiedOpenChunkStartsOverAtItsBeginning) {
  BufferArena arena(4 * kChunk, kChunk);
  const auto a = arena.allocate(500);
  const auto b = arena.allocate(500);
  ASSERT_TRUE(a && b);
  arena.release(*b);
  arena.release(*a);
  EXPECT_EQ(arena.bytes_in_use(), 0u);
  const auto c = arena.allocate(500);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, *a);
  EXPECT_EQ(arena.chunks_touched(), 1u);
}

TEST(BufferArena, MostRecentlyFreedChunkIsReusedFirst) {
  BufferArena arena(4 * kChunk, kChunk);
  std::vector<BufferHandle> handles;
  for (int i = 0; i < 12; ++i) handles.push_back(*arena.allocate(1024));  // chunks 0, 1, 2
  EXPECT_EQ(arena.chunks_touched(), 3u);
  for (int i = 0; i < 4; ++i) arena.release(handles[static_cast<std::size_t>(i)]);  // chunk 0
  for (int i = 4; i < 8; ++i) arena.release(handles[static_cast<std::size_t>(i)]);  // chunk 1
  const auto next = arena.allocate(1024);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(ChunkOf(arena, *next), 1u);
  EXPECT_EQ(arena.chunks_touched(), 3u);
}

TEST(BufferArena, ShrinkLastGivesBackTheTailOfTheNewestAllocation) {
  BufferArena arena(std::size_t{1} << 20, 128 * 1024);
  // Receive into a worst-case buffer, then learn the frame was only 100 bytes.
  const auto big = arena.allocate(65'610);  // 1026 alignment units = 65664 bytes
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(arena.bytes_in_use(), 65'664u);
  arena.shrink_last(*big, 100);
  EXPECT_EQ(arena.bytes_in_use(), 128u);
  const auto next = arena.allocate(100);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, *big + 2);  // right after the 128 bytes that remain
  EXPECT_EQ(arena.bytes_in_use(), 256u);

  // Only the newest allocation can shrink; growing is ignored.
  arena.shrink_last(*big, 1);
  EXPECT_EQ(arena.bytes_in_use(), 256u);
  arena.shrink_last(*next, 5000);
  EXPECT_EQ(arena.bytes_in_use(), 256u);
  arena.shrink_last(*next, 0);  // still one alignment unit
  EXPECT_EQ(arena.bytes_in_use(), 192u);
  const auto third = arena.allocate(64);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(*third, *next + 1);

  arena.release(*big);
  arena.release(*next);
  arena.release(*third);
  EXPECT_EQ(arena.bytes_in_use(), 0u);
  EXPECT_EQ(arena.live_allocations(), 0u);
}

TEST(BufferArena, ShrinkLastMakesRoomInTheChunk) {
  BufferArena arena(kChunk, kChunk);
  const auto a = arena.allocate(4000);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(arena.allocate(1000).has_value());
  arena.shrink_last(*a, 1000);          // 1024 bytes
  const auto b = arena.allocate(3000);  // 1024 + 3008 = 4032 fits
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(ChunkOf(arena, *b), 0u);
}

}  // namespace
}  // namespace longhaul::core

namespace longhaul::core {
namespace {

TEST(BufferArenaDrops, NewestAllocationReleasedAtOnceIsReclaimed) {
  // Admit one frame in ten and drop the rest on arrival, as a full queue does:
  // the dropped frames must not pin chunks, so the arena holds as many admitted
  // frames as fit in it.
  BufferArena arena(8 * BufferArena::kDefaultChunkBytes);
  std::size_t admitted = 0;
  for (int i = 0; i < 100000; ++i) {
    const auto handle = arena.allocate(65000);
    if (!handle) break;
    if (i % 10 == 0) {
      ++admitted;
    } else {
      arena.release(*handle);
    }
  }
  // 8 chunks of 2 MiB hold 32 frames of 65000 bytes (rounded to 65024) each.
  EXPECT_EQ(admitted, 8U * 32U);
  EXPECT_EQ(arena.live_allocations(), admitted);
  EXPECT_EQ(arena.bytes_in_use(), admitted * 65024U);
}

TEST(BufferArenaDrops, ReleasingAnOlderFrameDoesNotMoveTheBumpPointer) {
  BufferArena arena(BufferArena::kDefaultChunkBytes);
  const auto first = arena.allocate(1000);
  const auto second = arena.allocate(1000);
  ASSERT_TRUE(first && second);
  arena.release(*first);
  const auto third = arena.allocate(1000);
  ASSERT_TRUE(third);
  EXPECT_NE(*third, *second);  // the second frame's bytes stay untouched
  EXPECT_GT(*third, *second);
}

}  // namespace
}  // namespace longhaul::core
