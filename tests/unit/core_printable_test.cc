// Bytes from files quoted in error messages never reach the terminal raw.
#include <gtest/gtest.h>

#include "core/printable.hh"

namespace longhaul::core {
namespace {

TEST(Printable, KeepsTextNewlinesAndUtf8) {
  EXPECT_EQ(printable("delay 80ms\n\tloss 1%"), "delay 80ms\n\tloss 1%");
  EXPECT_EQ(printable("40 ms ± 5 ms"), "40 ms ± 5 ms");
}

TEST(Printable, EscapesControlsInvalidUtf8AndNul) {
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable("\xc3"), "\\xc3") << "a cut-short sequence";
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf") << "an overlong form";
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a surrogate";
  EXPECT_EQ(printable("\x7f"), "\\x7f");
}

TEST(Printable, CutsLongTextWithAMark) {
  EXPECT_EQ(printable(std::string(10, 'x'), 4), "xxxx...");
  EXPECT_EQ(printable("ab±", 3), "ab±") << "a sequence that starts before the cut is whole";
}

}  // namespace
}  // namespace longhaul::core
