// Files users hand to longhaul: regular files only, bounded, refused with the reason; output
// paths checked before the work; state written atomically.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/text_file.hh"

namespace longhaul::io {
namespace {

namespace fs = std::filesystem;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("longhaul-input-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(InputFileTest, ReadsARegularFileWithinTheLimit) {
  const auto file = read_input_file(write("lab.toml", "name = \"x\"\n"), "topology", 100);
  ASSERT_TRUE(file) << file.error;
  EXPECT_EQ(file.text, "name = \"x\"\n");
}

TEST_F(InputFileTest, ADirectoryIsADirectoryNotAnEmptyFile) {
  const auto file = read_input_file(dir_.string(), "trace", 100);
  ASSERT_FALSE(file);
  EXPECT_NE(file.error.find("is a directory; give a trace file"), std::string::npos) << file.error;
}

TEST_F(InputFileTest, EndlessDevicesAreRefusedWithoutReading) {
  // /dev/zero would never end: it is refused for what it is, at once.
  const auto zero = read_input_file("/dev/zero", "schedule", 100);
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error.find("/dev/zero: is a character device; give a regular schedule file"),
            std::string::npos)
      << zero.error;
}

TEST_F(InputFileTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto file = read_input_file(fifo, "topology", 100);
  ASSERT_FALSE(file);
  EXPECT_NE(file.error.find("is a FIFO"), std::string::npos) << file.error;
}

TEST_F(InputFileTest, TooLargeIsRefusedBeforeReadingIt) {
  // A sparse file claims its size without costing disk: refused from its size alone.
  const std::string path = (dir_ / "sparse").string();
  fs::resize_file(write("sparse", ""), 1ULL << 30);
  const auto file = read_input_file(path, "trace", 4ULL << 20);
  ASSERT_FALSE(file);
  EXPECT_NE(file.error.find("1073741824 bytes, more than 4 MiB, the limit for a trace file"),
            std::string::npos)
      << file.error;
  EXPECT_TRUE(read_input_file(write("exact", std::string(100, 'x')), "trace", 100));
  EXPECT_FALSE(read_input_file(write("over", std::string(101, 'x')), "trace", 100));
}

TEST_F(InputFileTest, MissingAndEmptyNamesSaySo) {
  const auto missing = read_input_file((dir_ / "nope").string(), "topology", 100);
  EXPECT_NE(
      missing.error.find("cannot open: No such file or directory; give a readable topology file"),
      std::string::npos);
  EXPECT_NE(read_input_file("", "topology", 100).error.find("name is empty"), std::string::npos);
}

TEST_F(InputFileTest, OutputPathsAreCheckedBeforeTheWork) {
  EXPECT_EQ(output_path_problem("-"), "");
  EXPECT_EQ(output_path_problem((dir_ / "new.json").string()), "");
  EXPECT_EQ(output_path_problem(write("old.json", "{}")), "");
  EXPECT_EQ(output_path_problem("/dev/null"), "");
  EXPECT_NE(output_path_problem("/nonexistent/x.json")
                .find("the directory /nonexistent does not "
                      "exist"),
            std::string::npos);
  EXPECT_NE(output_path_problem(dir_.string()).find("is a directory"), std::string::npos);
  EXPECT_NE(output_path_problem("/dev/full").find("is a character device"), std::string::npos);
  EXPECT_NE(output_path_problem("").find("empty"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "new.json")) << "checking creates nothing";
}

TEST_F(InputFileTest, AtomicWritesLeaveNoTemporaryAndOrphansOfDeadWritersGo) {
  const std::string path = (dir_ / "state.json").string();
  write_file_atomically(path, "{\"a\": 1}\n");
  EXPECT_EQ(read_input_file(path, "state", 100).text, "{\"a\": 1}\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
  // A writer killed mid-write leaves PATH.PID.tmp; one still alive (this process) keeps its own.
  write("lab.json.999999999.tmp", "{");
  write("lab.json.tmp", "{");
  // The older form, without a pid: removed once it is clearly abandoned, not while fresh.
  fs::last_write_time(dir_ / "lab.json.tmp",
                      fs::file_time_type::clock::now() - std::chrono::minutes(1));
  write("fresh.json.tmp", "{");
  const std::string mine = write("lab.json." + std::to_string(::getpid()) + ".tmp", "{");
  const auto removed = remove_orphan_temporaries(dir_.string());
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_TRUE(fs::exists(mine));
  EXPECT_FALSE(fs::exists(dir_ / "lab.json.tmp"));
  EXPECT_TRUE(fs::exists(dir_ / "fresh.json.tmp"));
}

}  // namespace
}  // namespace longhaul::io
