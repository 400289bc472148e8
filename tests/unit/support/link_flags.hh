#pragma once
// Helpers for tests of link::resolve_link: resolve with a fixed random seed, and
// check that resolving fails with an error naming given phrases.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "link/link_options.hh"

namespace longhaul::test_support {

inline core::Parsed<link::LinkSpec> Resolve(const link::LinkFlags& flags,
                                            std::uint64_t random_seed = 1) {
  return link::resolve_link(flags, random_seed);
}

/// Passes when resolving failed with an error that contains every phrase.
inline testing::AssertionResult FailsNaming(const link::LinkFlags& flags,
                                            std::initializer_list<std::string_view> phrases) {
  const auto spec = Resolve(flags);
  if (spec) return testing::AssertionFailure() << "resolved without an error";
  for (const std::string_view phrase : phrases) {
    if (spec.error.find(phrase) == std::string::npos) {
      return testing::AssertionFailure()
             << "error \"" << spec.error << "\" lacks \"" << phrase << "\"";
    }
  }
  return testing::AssertionSuccess() << spec.error;
}

}  // namespace longhaul::test_support
