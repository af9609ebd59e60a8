// The load progress line (cli/progress.h).
#include <gtest/gtest.h>

#include <sstream>

#include "cli/progress.h"

namespace sombra::cli {
namespace {

TEST(CliProgressTest, KnownSizeShowsBarPercentRateAndEta) {
  EXPECT_EQ(FormatProgress(500000, 12 * 1024 * 1024, 24 * 1024 * 1024, 2.0),
            "[##########----------]  50%  500000 records  12.0 MiB  250000 rec/s  ETA 0:02");
  EXPECT_EQ(FormatProgress(1000, 1024 * 1024, 1024 * 1024, 75.0),
            "[####################] 100%  1000 records  1.0 MiB  13 rec/s  1:15");
  EXPECT_EQ(FormatProgress(0, 0, 100, 0.0), "[--------------------]   0%  0 records  0.0 MiB");
}

TEST(CliProgressTest, UnknownSizeShowsCountAndRate) {
  EXPECT_EQ(FormatProgress(300, 2 * 1024 * 1024, -1, 3.0), "300 records  2.0 MiB  100 rec/s");
}

TEST(CliProgressTest, LongEtaHasHours) {
  EXPECT_EQ(FormatProgress(1, 1, 1000, 10.0),
            "[--------------------]   0%  1 records  0.0 MiB  0 rec/s  ETA 2:46:30");
}

TEST(CliProgressTest, DisabledWritesNothing) {
  std::ostringstream out;
  Progress p(out, false, 100);
  p.Update(1, 10);
  p.Finish(2, 100);
  EXPECT_EQ(out.str(), "");
}

TEST(CliProgressTest, EnabledRedrawsInPlaceAndEndsTheLine) {
  std::ostringstream out;
  Progress p(out, true, 100);
  p.Update(1, 10);
  p.Finish(2, 100);
  const std::string s = out.str();
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front(), '\r');
  EXPECT_EQ(s.back(), '\n');
  EXPECT_NE(s.find("2 records"), std::string::npos) << s;
  EXPECT_NE(s.find("100%"), std::string::npos) << s;
}

}  // namespace
}  // namespace sombra::cli
