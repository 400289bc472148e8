#include "core/histogram.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace longhaul::core {
namespace {

using namespace std::chrono_literals;

TEST(LatenessHistogram, NoQuantileExceedsTheLargestSample) {
  // 1.5 us lands in the bucket [1 us, 2 us) and 1.234 ms in [1.2 ms, 1.3 ms): their upper
  // edges lie above every sample, which --stats used to print as a p99 above the max.
  for (const core::Nanos largest : {core::Nanos{1500}, core::Nanos{1'234'000}}) {
    LatenessHistogram histogram;
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

TEST(SojournHistogram, EdgesRunFromOneMicrosecondToTenSecondsInIncreasingSteps) {
  const auto& edges = SojournBuckets::kEdgesNs;
  EXPECT_EQ(edges.front(), 1'000);
  EXPECT_EQ(edges.back(), 10'000'000'000);
  for (std::size_t i = 1; i < edges.size(); ++i) {
    ASSERT_LT(edges[i - 1], edges[i]) << i;
    // Each step is at most 25 % above the one before (8 -> 10 is the widest).
    EXPECT_LE(static_cast<double>(edges[i]) / static_cast<double>(edges[i - 1]), 1.34) << i;
  }
}

TEST(SojournHistogram, ASampleLandsBelowTheFirstEdgeAboveIt) {
  SojournHistogram histogram;
  histogram.record(Nanos{999});             // [0, 1 us)
  histogram.record(Nanos{1000});            // [1 us, 1.25 us): edges are exclusive above
  histogram.record(Nanos{2'400'000});       // [2 ms, 2.5 ms)
  histogram.record(Nanos{30'000'000'000});  // overflow, above 10 s
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count_below(Nanos{1000}), 1u);
  EXPECT_EQ(snapshot.count_below(Nanos{1250}), 2u);
  EXPECT_EQ(snapshot.count_below(Nanos{2'000'000}), 2u);
  EXPECT_EQ(snapshot.count_below(Nanos{2'500'000}), 3u);
  EXPECT_EQ(snapshot.count_below(Nanos{10'000'000'000}), 3u);
  EXPECT_EQ(snapshot.count(), 4u);
  EXPECT_EQ(snapshot.max, Nanos{30'000'000'000});
  EXPECT_EQ(snapshot.sum, Nanos{999 + 1000 + 2'400'000 + 30'000'000'000LL});
  EXPECT_EQ(snapshot.quantile(0.75), Nanos{2'500'000});
  EXPECT_EQ(snapshot.quantile(1.0), Nanos{30'000'000'000});
}

TEST(Histogram, RecordingNSamplesAtOnceIsRecordingThemOneByOne) {
  SojournHistogram at_once;
  SojournHistogram one_by_one;
  at_once.record(Nanos{7'000}, 5);
  for (int i = 0; i < 5; ++i) one_by_one.record(Nanos{7'000});
  EXPECT_EQ(at_once.snapshot().buckets, one_by_one.snapshot().buckets);
  EXPECT_EQ(at_once.snapshot().sum, one_by_one.snapshot().sum);
}

TEST(Histogram, FiguresCountBelowEachEdgeAsCountBelowDoes) {
  SojournHistogram histogram;
  for (std::int64_t ns = 1; ns < 20'000'000'000; ns = ns * 3 + 7) histogram.record(Nanos{ns}, 2);
  const auto snapshot = histogram.snapshot();
  std::vector<Nanos> edges;
  for (std::size_t i = 0; i < SojournBuckets::kEdges; i += 4) {
    edges.emplace_back(SojournBuckets::kEdgesNs[i]);
  }
  const auto figures = histogram_figures<SojournBuckets>(snapshot, edges);
  ASSERT_EQ(figures.below.size(), edges.size());
  for (const auto& [edge, below] : figures.below) EXPECT_EQ(below, snapshot.count_below(edge));
  EXPECT_EQ(figures.count, snapshot.count());
  EXPECT_LT(figures.below.back().second, figures.count);  // the samples above 10 s
}

TEST(Histogram, SinceSubtractsTheSum) {
  LatenessHistogram histogram;
  histogram.record(Nanos{3'000});
  const auto earlier = histogram.snapshot();
  histogram.record(Nanos{5'000});
  histogram.record(Nanos{-1});  // counts as zero
  const auto between = histogram.snapshot().since(earlier);
  EXPECT_EQ(between.count(), 2u);
  EXPECT_EQ(between.sum, Nanos{5'000});
}

}  // namespace
}  // namespace longhaul::core
