#include "engine/latency_histogram.hh"

#include <gtest/gtest.h>

#include <chrono>

namespace longhaul::engine {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, NoQuantileExceedsTheLargestSample) {
  // 1.5 us lands in the bucket [1 us, 2 us) and 1.234 ms in [1.2 ms, 1.3 ms): their upper
  // edges lie above every sample, which --stats used to print as a p99 above the max.
  for (const core::Nanos largest : {core::Nanos{1500}, core::Nanos{1'234'000}}) {
    LatencyHistogram histogram;
    for (int i = 0; i < 50; ++i) histogram.record(core::Nanos{200});
    histogram.record(largest);
    ASSERT_EQ(histogram.max(), largest);
    for (const double q : {0.5, 0.99, 0.999, 1.0}) {
      EXPECT_LE(histogram.quantile(q), histogram.max()) << "q " << q << " max " << largest.count();
    }
    EXPECT_EQ(histogram.quantile(1.0), largest);
    EXPECT_EQ(histogram.quantile(0.5), 1us);  // the bucket of 200 ns still reports its edge
  }
}

}  // namespace
}  // namespace longhaul::engine
