#pragma once
// Seeded randomness. Every stochastic stage owns a generator derived from the
// run's --seed, so a run replays packet by packet. The generator and the
// uniform mapping are written out (not std::uniform_real_distribution) because
// the standard leaves distributions implementation-defined and a seed must give
// the same outcome on every build.
#include <cstdint>

namespace longhaul::core {

/// SplitMix64: expands one seed into independent, well-mixed stream seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Seed of stream `stream` (for example a direction and a stage) of run seed `seed`.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
  std::uint64_t state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  splitmix64(state);
  return splitmix64(state);
}

/// xoshiro256** (Blackman and Vigna): fast, 256-bit state, passes BigCrush.
class Random {
 public:
  explicit Random(std::uint64_t seed) noexcept {
    std::uint64_t state = seed;
    for (auto& word : s_) word = splitmix64(state);
  }
  /// Next 64 uniformly distributed bits.
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform double in [0, 1) with 53 bits of resolution.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// True with probability p (p <= 0 never, p >= 1 always).
  bool bernoulli(double p) noexcept { return uniform() < p; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4];
};

}  // namespace longhaul::core
