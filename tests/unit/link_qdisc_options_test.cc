// --qdisc, --ecn and --cell: resolution and strict errors.
#include <gtest/gtest.h>

#include <string>

#include "link/link_options.hh"

namespace longhaul::link {
namespace {

TEST(AqmLinkOptions, QdiscEcnAndCellResolve) {
  LinkFlags flags;
  flags.rate = "10mbit";
  flags.qdisc = "codel";
  flags.ecn = true;
  flags.cell = "53/48";
  const auto spec = resolve_link(flags, 1);
  ASSERT_TRUE(spec) << spec.error;
  for (const auto* config : {&spec->up, &spec->down}) {
    EXPECT_EQ(config->qdisc.discipline, core::QueueDiscipline::codel);
    EXPECT_TRUE(config->qdisc.ecn);
    EXPECT_EQ(config->cell_bytes, 53u);
    EXPECT_EQ(config->cell_payload_bytes, 48u);
    EXPECT_TRUE(config->needs_wire_packets());
  }
  const std::string text = describe(spec->up);
  EXPECT_NE(text.find("codel with ECN"), std::string::npos) << text;
  EXPECT_NE(text.find("cells 53/48"), std::string::npos) << text;
}

TEST(AqmLinkOptions, DefaultsAreDropTailWithoutCells) {
  LinkFlags flags;
  flags.rate = "10mbit";
  const auto spec = resolve_link(flags, 1);
  ASSERT_TRUE(spec) << spec.error;
  EXPECT_EQ(spec->up.qdisc.discipline, core::QueueDiscipline::drop_tail);
  EXPECT_FALSE(spec->up.qdisc.ecn);
  EXPECT_EQ(spec->up.cell_bytes, 0u);
  EXPECT_FALSE(spec->up.needs_wire_packets());
}

TEST(AqmLinkOptions, StrictErrors) {
  const auto error = [](LinkFlags flags) {
    const auto spec = resolve_link(flags, 1);
    EXPECT_FALSE(spec);
    return spec.error;
  };
  LinkFlags no_rate;
  no_rate.qdisc = "pie";
  EXPECT_NE(error(no_rate).find("--rate"), std::string::npos);
  LinkFlags unknown;
  unknown.rate = "10mbit";
  unknown.qdisc = "fq_codel";
  const std::string listed = error(unknown);
  for (const char* name : {"droptail", "drophead", "red", "codel", "pie"}) {
    EXPECT_NE(listed.find(name), std::string::npos) << listed;
  }
  LinkFlags ecn_tail;
  ecn_tail.rate = "10mbit";
  ecn_tail.ecn = true;
  EXPECT_NE(error(ecn_tail).find("--qdisc"), std::string::npos);
  for (const char* bad : {"53", "53/0", "48/53", "53/48x", "/48"}) {
    LinkFlags cell;
    cell.rate = "10mbit";
    cell.cell = bad;
    EXPECT_NE(error(cell).find("--cell"), std::string::npos) << bad;
  }
  LinkFlags cell_no_rate;
  cell_no_rate.cell = "53/48";
  EXPECT_NE(error(cell_no_rate).find("--rate"), std::string::npos);
}

}  // namespace
}  // namespace longhaul::link
