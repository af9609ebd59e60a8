// sombra-inspect FILE wal: golden output on a log written by the pager, a
// torn tail, damage to a synced transaction, and inputs it must refuse or
// survive. The salts and the record checksums differ per run: the expected
// text takes them from the file itself, and is otherwise exact.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "env/env.h"
#include "inspect/inspect.h"
#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "sombra/options.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_writer.h"

namespace sombra::inspect::test {
namespace {

using sombra::test::ReadFileOrDie;
using sombra::test::WriteFileOrDie;

// Record offsets of the small log (compression off, 4096-byte pages):
// transaction 1 = images of pages 2 and 3 + commit; transaction 2 = a delta
// of page 2 (one 5-byte range at offset 100) + commit.
constexpr uint64_t kImage2 = wal::kWalHeaderSize;        // 128
constexpr uint64_t kImage3 = kImage2 + 16 + 12 + 4096;   // 4252
constexpr uint64_t kCommit1 = kImage3 + 16 + 12 + 4096;  // 8376
constexpr uint64_t kDelta = kCommit1 + 16 + 52;          // 8444
constexpr uint64_t kCommit2 = kDelta + 16 + 20 + 3 + 5;  // 8488
constexpr uint64_t kEnd = kCommit2 + 16 + 52;            // 8556

std::unique_ptr<pager::Pager> OpenPager(const std::string& path, bool compression) {
  Options options;
  options.wal_compression = compression;
  auto opened = pager::Pager::Open(Env::Default(), path, options);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return nullptr;
  }
  return std::move(opened).value();
}

// Writes the two transactions of the small log through `p`.
void WriteTwoTransactions(pager::Pager* p) {
  {
    auto txn = p->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    for (uint32_t expect : {2u, 3u}) {
      uint8_t* page = nullptr;
      auto n = (*txn)->Allocate(pager::PageKind::kRaw, &page);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      ASSERT_EQ(*n, expect);
      const std::string label = "page " + std::to_string(expect);
      std::copy(label.begin(), label.end(), page + pager::kPageHeaderSize);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    auto txn = p->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    auto page = (*txn)->Write(2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    const std::string hello = "hello";
    std::copy(hello.begin(), hello.end(), *page + 100);
    (*txn)->NoteWrite(2, 100, 5);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
}

// Builds the small log at `path` and copies the database and its log to
// `copy` and `copy`-wal while the pager is still open (its close would
// checkpoint and empty the log).
// Written as format 2 (deltas, no page ops): the listing below is of that
// log; OpsRecordListed lists a format-8 one (this build's).
void BuildSmallLog(const std::string& path, const std::string& copy, bool compression = false,
                   uint32_t format = wal::kWalFormatVersion) {
  wal::WalWriter::WriteFormatForTest(format);  // 0: this build's
  std::unique_ptr<pager::Pager> p = OpenPager(path, compression);
  wal::WalWriter::WriteFormatForTest(0);
  ASSERT_NE(p, nullptr);
  ASSERT_NO_FATAL_FAILURE(WriteTwoTransactions(p.get()));
  WriteFileOrDie(copy, ReadFileOrDie(path));
  WriteFileOrDie(copy + "-wal", ReadFileOrDie(path + "-wal"));
}

uint64_t Fixed64At(const std::string& data, uint64_t offset) {
  return DecodeFixed64(reinterpret_cast<const uint8_t*>(data.data()) + offset);
}

class InspectWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("db");
    copy_ = dir_.File("copy");
    wal_ = copy_ + "-wal";
    ASSERT_NO_FATAL_FAILURE(BuildSmallLog(db_, copy_));
    FillVars();
  }

  // The salts and checksums of the copied log, for Fill.
  void FillVars() {
    const std::string log = ReadFileOrDie(wal_);
    ASSERT_GE(log.size(), kEnd);
    vars_ = {{"DB", copy_},
             {"WAL", wal_},
             {"SIZE", std::to_string(log.size())},
             {"WSALT", wal::Hex64(Fixed64At(log, wal::kWalSaltOffset))},
             {"DBSALT", wal::Hex64(Fixed64At(log, wal::kWalDbSaltOffset))}};
    const std::vector<std::pair<std::string, uint64_t>> records = {
        {"C0", kImage2}, {"C1", kImage3}, {"C2", kCommit1}, {"C3", kDelta}, {"C4", kCommit2}};
    for (const auto& [key, offset] : records) {
      vars_[key] = wal::Hex64(Fixed64At(log, offset + wal::kRecordChecksumOffset));
    }
  }

  // The header, page file and record lines up to record `upto` (exclusive).
  std::string Head(int upto) const {
    const std::vector<std::string> lines = {
        "  0  128     image   2     1     4108    4096  -     -       {C0} ok\n",
        "  1  4252    image   3     1     4108    4096  -     -       {C1} ok\n",
        "  2  8376    commit  -     1     52      -     -     -       {C2} ok  txn 1, root 0, page "
        "count 4, freelist head 0, freelist count 0, durable lsn 0, records 2\n",
        "  3  8444    delta   2     1->2  28      5     -     1       {C3} ok\n",
        "  4  8488    commit  -     2     52      -     -     -       {C4} ok  txn 2, root 0, page "
        "count 4, freelist head 0, freelist count 0, durable lsn 1, records 1\n"};
    std::string text = R"(wal: {WAL}
  file size:         {SIZE}
  format version:    2
  page size:         4096
  salt:              {WSALT}
  generation:        1
  database salt:     {DBSALT}
  start lsn:         1
  base meta:         seq 1, root 0, page count 2, freelist 0/0
page file: {DB}
  salt:              {DBSALT} (matches the log)
  page size:         4096 (matches the log)
  checkpoint lsn:    0
)";
    text += upto == 0 ? "records: none\n"
                      : "records:\n  #  offset  type    page  lsn   stored  raw   comp  ranges  "
                        "checksum\n";
    for (int i = 0; i < upto; ++i) text += lines[static_cast<size_t>(i)];
    return Fill(text, vars_);
  }

  void ExpectJson(const std::vector<std::string>& args, int code) {
    RunOutput r = Inspect(args);
    EXPECT_EQ(r.code, code);
    EXPECT_EQ(r.err, "");
    std::string why;
    EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
    EXPECT_EQ(CountLines(r.out), 1);
    EXPECT_EQ(r.out.rfind(R"({"command":"wal","file":")", 0), 0u) << r.out;
  }

  sombra::test::TempDir dir_;
  std::string db_;
  std::string copy_;
  std::string wal_;
  std::map<std::string, std::string> vars_;
};

TEST_F(InspectWalTest, SmallLogListedExactly) {
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Head(5) + R"(stop:
  reason:            end of log
  offset:            8556
  record:            5
  detail:            record 5 at offset 8556: end of log (zeroed record header)
  committed end:     8556
  discarded bytes:   0
  verdict:           clean: the log ends after its last commit
recovery:
  replays:           lsn 1 to 2 (2 transactions)
  skips:             none
  verdict:           replays 2 transactions
)");
}

TEST_F(InspectWalTest, SmallLogJson) {
  ExpectJson({copy_, "wal", "--json"}, 0);
  RunOutput r = Inspect({"--json", copy_, "wal"});
  const std::string delta =
      Fill(R"({"index":3,"offset":8444,"type":"delta","page":2,"base_lsn":1,"lsn":2,)"
           R"("stored_length":28,"raw_length":5,"compression":"none","ranges":1,)"
           R"("checksum":"{C3}","checksum_ok":true})",
           vars_);
  EXPECT_NE(r.out.find(delta), std::string::npos) << r.out;
  const std::string commit =
      Fill(R"({"index":4,"offset":8488,"type":"commit","lsn":2,"stored_length":52,)"
           R"("compression":"none","txn_id":2,"root":0,"page_count":4,"freelist_head":0,)"
           R"("freelist_count":0,"durable_lsn":1,"record_count":1,"checksum":"{C4}",)"
           R"("checksum_ok":true})",
           vars_);
  EXPECT_NE(r.out.find(commit), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("recovery":{"log_used":true,"replayed_transactions":2,)"
                       R"("replay_first_lsn":1,"replay_last_lsn":2,"skipped_transactions":0,)"
                       R"("refuses":false,"verdict":"replays 2 transactions"}})"),
            std::string::npos)
      << r.out;
}

// A log of this build's format: the second transaction's 5-byte change is
// a page-ops record (one write op: 1 + 1 + 5 bytes after the 20 fixed),
// listed with its op count, in text and JSON; the header's base meta and
// each commit name the catalog root (0: no named trees), which a format-2
// log has not (SmallLogListedExactly).
TEST_F(InspectWalTest, OpsRecordListed) {
  const std::string db = dir_.File("ops-db");
  const std::string copy = dir_.File("ops-copy");
  ASSERT_NO_FATAL_FAILURE(BuildSmallLog(db, copy, false, wal::kWalFormatVersionFileBase));
  RunOutput r = Inspect({copy, "wal"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  format version:    8\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  3  8448    ops     2     1->2  27      7     -     1       "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  base meta:         seq 1, root 0, page count 2, freelist 0/0, "
                       "catalog root 0\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(", durable lsn 0, records 2, catalog root 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", durable lsn 1, records 1, catalog root 0\n"), std::string::npos) << r.out;
  RunOutput j = Inspect({"--json", copy, "wal"});
  EXPECT_NE(j.out.find(R"({"index":3,"offset":8448,"type":"ops","page":2,"base_lsn":1,"lsn":2,)"
                       R"("stored_length":27,"raw_length":7,"compression":"none","ops":1,)"),
            std::string::npos)
      << j.out;
  EXPECT_NE(j.out.find(R"("freelist_count":0,"catalog_root":0}},"page_file")"), std::string::npos)
      << j.out;
  EXPECT_NE(j.out.find(R"("durable_lsn":1,"record_count":1,"catalog_root":0,"checksum")"),
            std::string::npos)
      << j.out;
}

// A log of this build's format (12): the same change is an ops group of
// one entry (8 fixed bytes, count 1, body length 10; the body: page 2, LSN
// step 1, 7 bytes of ops), listed as its entry, numbered 3.0.
TEST_F(InspectWalTest, OpsGroupListedByEntry) {
  const std::string db = dir_.File("group-db");
  const std::string copy = dir_.File("group-copy");
  ASSERT_NO_FATAL_FAILURE(BuildSmallLog(db, copy, false, 0));
  RunOutput r = Inspect({copy, "wal"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  format version:    12\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  3.0  8448    ops     2     1->2  20      7     -     1       "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(", durable lsn 1, records 1, catalog root 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict:           replays 2 transactions"), std::string::npos) << r.out;
  RunOutput j = Inspect({"--json", copy, "wal"});
  EXPECT_NE(j.out.find(R"({"index":3,"offset":8448,"type":"ops","page":2,"base_lsn":1,"lsn":2,)"
                       R"("stored_length":20,"raw_length":7,"compression":"none","ops":1,)"
                       R"("group_entry":0,"group_entries":1,)"),
            std::string::npos)
      << j.out;
}

TEST_F(InspectWalTest, TornTail) {
  // The crash tore transaction 2's commit record: 30 of its 68 bytes.
  std::filesystem::resize_file(wal_, kCommit2 + 30);
  vars_["SIZE"] = std::to_string(kCommit2 + 30);
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Head(4) + R"(stop:
  reason:            truncated
  offset:            8488
  record:            4
  detail:            record 4 at offset 8488: commit record of 68 bytes truncated: 30 bytes before the end of the file
  committed end:     8444
  discarded bytes:   44
  verdict:           torn tail: the records after the last commit are dropped
recovery:
  replays:           lsn 1 (1 transaction)
  skips:             none
  verdict:           replays 1 transaction
)");
  ExpectJson({copy_, "wal", "--json"}, 0);

  // Recovery agrees: transaction 1 only.
  std::unique_ptr<pager::Pager> p = OpenPager(copy_, false);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->recovery().transactions_replayed, 1u);
  EXPECT_EQ(p->recovery().bytes_discarded, 44u);
}

TEST_F(InspectWalTest, DamagedSyncedTransactionNamesTheRecord) {
  // A payload byte of page 2's image (transaction 1, synced before
  // transaction 2 was written: its commit says durable lsn 1).
  const uint64_t at = kImage2 + 16 + 12 + 200;
  FlipByte(wal_, at);
  const std::string log = ReadFileOrDie(wal_);
  const auto* bytes = reinterpret_cast<const uint8_t*>(log.data());
  const uint64_t computed = wal::RecordChecksum(bytes + kImage2, bytes + kImage2 + 16, 12 + 4096,
                                                Fixed64At(log, wal::kWalSaltOffset));
  vars_["COMPUTED"] = wal::Hex64(computed);
  const std::string detail =
      "record 0 at offset 128: page image record: checksum mismatch (stored {C0}, computed "
      "{COMPUTED} seeded with {WSALT})";
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Head(0) + Fill(R"(stop:
  reason:            checksum mismatch
  offset:            128
  record:            0
  detail:            )" + detail + R"(
  committed end:     128
  discarded bytes:   0
  probe:             4 valid records and 2 commits past the stop; first commit lsn 1, highest durable lsn 1
  verdict:           damaged: a commit written after transaction 1 was synced follows the bad record (durable lsn 1 >= 1)
recovery:
  replays:           none
  skips:             none
  verdict:           refuses to open: Corruption: WAL {WAL}: )" +
                                      detail + "\n",
                                  vars_));
  ExpectJson({copy_, "wal", "--json"}, 1);
  RunOutput j = Inspect({copy_, "wal", "--json"});
  EXPECT_NE(j.out.find(R"("probe":{"records_found":4,"commits_found":2,"first_commit_lsn":1,)"
                       R"("max_durable_lsn":1,"stop_was_durable":true})"),
            std::string::npos)
      << j.out;
  EXPECT_NE(j.out.find(R"("refuses":true)"), std::string::npos) << j.out;

  // Recovery agrees: it refuses, naming the same record.
  auto opened = pager::Pager::Open(Env::Default(), copy_, Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("record 0 at offset 128"), std::string::npos)
      << opened.status().ToString();
}

TEST_F(InspectWalTest, DamageToTheLastTransactionIsATornTail) {
  // Nothing follows transaction 2: damage to it looks like a torn write.
  FlipByte(wal_, kDelta + 16 + 22);
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("  reason:            checksum mismatch\n  offset:            8444\n"
                       "  record:            3\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  probe:             1 valid record and 1 commit past the stop; first "
                       "commit lsn 2, highest durable lsn 1\n"
                       "  verdict:           torn tail: no later commit shows the bad record's "
                       "transaction was synced\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  replays:           lsn 1 (1 transaction)\n"), std::string::npos);
  ExpectJson({copy_, "wal", "--json"}, 0);
}

TEST_F(InspectWalTest, PageFileMissingOrForeign) {
  // Without the page file, the log is still listed.
  std::filesystem::remove(copy_);
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find(Fill("page file: {DB}\n  meta:              not readable: no such file: "
                            "{DB}\nrecords:\n",
                            vars_)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("recovery:\n  verdict:           unknown: the page file's meta is not "
                       "readable\n"),
            std::string::npos)
      << r.out;
  ExpectJson({copy_, "wal", "--json"}, 0);

  // Another database's page file: recovery would ignore the log. (Built
  // aside and moved in: a page file is never created beside a log with
  // records.)
  BuildFixedDb(copy_ + ".other");
  std::filesystem::rename(copy_ + ".other", copy_);
  r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("(differs from the log)\n  page size:         4096 (matches the log)\n"
                       "  checkpoint lsn:    50\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("recovery:\n  verdict:           ignores the log: its database salt is "
                       "not the page file's\n"),
            std::string::npos)
      << r.out;
  ExpectJson({copy_, "wal", "--json"}, 0);
}

TEST_F(InspectWalTest, DamagedLogBesideAnotherPageFile) {
  // The damage is reported (exit 1) whichever page file the log is next
  // to; recovery of that page file would ignore the log, not refuse it.
  FlipByte(wal_, kImage2 + 16 + 12 + 200);
  std::filesystem::remove(copy_);
  RunOutput r = Inspect({copy_, "wal", "--json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(R"("recovery":{"log_used":null,"refuses":null,"verdict":"unknown: )"),
            std::string::npos)
      << r.out;
  BuildFixedDb(copy_ + ".other");
  std::filesystem::rename(copy_ + ".other", copy_);
  r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("  verdict:           damaged: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("recovery:\n  verdict:           ignores the log: its database salt is "
                       "not the page file's\n"),
            std::string::npos)
      << r.out;
  r = Inspect({copy_, "wal", "--json"});
  EXPECT_NE(r.out.find(R"("recovery":{"log_used":false,"refuses":false,)"), std::string::npos)
      << r.out;
}

TEST_F(InspectWalTest, CompressedImages) {
  const std::string db = dir_.File("lz4");
  ASSERT_NO_FATAL_FAILURE(BuildSmallLog(db, dir_.File("lz4copy"), /*compression=*/true));
  RunOutput r = Inspect({dir_.File("lz4copy"), "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  // Both images are lz4 blocks shorter than the page; their raw length is
  // the page size.
  size_t lz4 = 0;
  for (size_t at = r.out.find("  lz4  "); at != std::string::npos;
       at = r.out.find("  lz4  ", at + 1)) {
    ++lz4;
  }
  EXPECT_EQ(lz4, 2u) << r.out;
  EXPECT_NE(r.out.find("  0  128     image   2     1     "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4096  lz4   -"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict:           replays 2 transactions\n"), std::string::npos);
  ExpectJson({dir_.File("lz4copy"), "wal", "--json"}, 0);
}

TEST_F(InspectWalTest, CheckpointedLogHasNoRecords) {
  // A clean close checkpoints: the restarted log holds no record, and its
  // start LSN follows the page file's checkpoint LSN.
  { std::unique_ptr<pager::Pager> p = OpenPager(db_, false); }
  RunOutput r = Inspect({db_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("  start lsn:         3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  checkpoint lsn:    2\nrecords: none\nstop:\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  replays:           none\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  verdict:           replays nothing\n"), std::string::npos) << r.out;
}

TEST_F(InspectWalTest, TransactionsInThePageFileAreSkipped) {
  // A crash after a checkpoint's meta page, before the log restarted: the
  // page file (closed: checkpoint LSN 2) already holds the log's
  // transactions.
  WriteFileOrDie(copy_, ReadFileOrDie(db_));
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("  checkpoint lsn:    2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("recovery:\n  replays:           none\n  skips:             2 "
                       "transactions (lsn <= checkpoint lsn)\n  verdict:           replays "
                       "nothing\n"),
            std::string::npos)
      << r.out;
  ExpectJson({copy_, "wal", "--json"}, 0);
}

TEST_F(InspectWalTest, LogStartingPastThePageFileIsFlagged) {
  // A page file from before transaction 1 next to a log restarted after it
  // (an old copy of the page file restored beside a newer log).
  const std::string db = dir_.File("gap");
  std::unique_ptr<pager::Pager> p = OpenPager(db, false);
  ASSERT_NE(p, nullptr);
  {
    auto txn = p->BeginWrite();
    ASSERT_TRUE(txn.ok());
    uint8_t* page = nullptr;
    ASSERT_TRUE((*txn)->Allocate(pager::PageKind::kRaw, &page).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  WriteFileOrDie(dir_.File("old"), ReadFileOrDie(db));  // checkpoint LSN 0
  ASSERT_TRUE(p->Checkpoint().ok());
  {
    auto txn = p->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto page = (*txn)->Write(2);
    ASSERT_TRUE(page.ok());
    (*page)[100] = 1;
    (*txn)->NoteWrite(2, 100, 1);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  WriteFileOrDie(dir_.File("old") + "-wal", ReadFileOrDie(db + "-wal"));
  RunOutput r = Inspect({dir_.File("old"), "wal"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("  replays:           lsn 2 (1 transaction)\n  skips:             none\n"
                       "  warning:           the log starts at LSN 2, but the page file's "
                       "checkpoint LSN is 0: transaction 1 is in neither\n"),
            std::string::npos)
      << r.out;
  ExpectJson({dir_.File("old"), "wal", "--json"}, 0);
}

TEST_F(InspectWalTest, DeltaThatDoesNotFitItsPageIsRefused) {
  // Transaction 2's delta rewritten to apply on LSN 0 (page 2 has LSN 1
  // after transaction 1), its checksum and the commit's rechained: every
  // record is valid, but recovery cannot apply the delta.
  std::string log = ReadFileOrDie(wal_);
  auto* bytes = reinterpret_cast<uint8_t*>(log.data());
  EncodeFixed64(bytes + kDelta + 16 + 4, 0);
  uint64_t seed = Fixed64At(log, kCommit1 + wal::kRecordChecksumOffset);
  for (auto [offset, length] : {std::pair<uint64_t, size_t>{kDelta, 28}, {kCommit2, 52}}) {
    seed = wal::RecordChecksum(bytes + offset, bytes + offset + 16, length, seed);
    EncodeFixed64(bytes + offset + wal::kRecordChecksumOffset, seed);
  }
  WriteFileOrDie(wal_, log);
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("  3  8444    delta   2     0->2  28 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  verdict:           clean: the log ends after its last commit\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  verdict:           refuses to open: Corruption: record 3 at offset "
                       "8444: delta for page 2 in transaction 2 applies on LSN 0, the page has "
                       "LSN 1\n"),
            std::string::npos)
      << r.out;
  ExpectJson({copy_, "wal", "--json"}, 1);

  // Recovery agrees.
  auto opened = pager::Pager::Open(Env::Default(), copy_, Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("applies on LSN 0, the page has LSN 1"),
            std::string::npos)
      << opened.status().ToString();
}

TEST_F(InspectWalTest, MissingLogIsRefused) {
  std::filesystem::remove(wal_);
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_EQ(r.err, "sombra-inspect: no such file: " + wal_ + "\n");
  EXPECT_EQ(CheckRefused(Inspect({copy_, "wal", "--json"})), "");
  // Neither file.
  EXPECT_EQ(CheckRefused(Inspect({dir_.File("nothing"), "wal"})), "");
  // A directory as the log.
  std::filesystem::create_directory(wal_);
  r = Inspect({copy_, "wal"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

TEST_F(InspectWalTest, BadHeaderIsRefused) {
  std::string log = ReadFileOrDie(wal_);
  // Shorter than a header.
  WriteFileOrDie(wal_, log.substr(0, 40));
  RunOutput r = Inspect({copy_, "wal"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_NE(r.err.find("empty log"), std::string::npos) << r.err;
  // A damaged header field.
  log[wal::kWalStartLsnOffset] ^= 1;
  WriteFileOrDie(wal_, log);
  r = Inspect({copy_, "wal", "--json"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_NE(r.err.find(wal_ + ": WAL header: checksum mismatch"), std::string::npos) << r.err;
  // Arguments.
  EXPECT_EQ(CheckRefused(Inspect({copy_, "wal", "3"})), "");
  EXPECT_EQ(CheckRefused(Inspect({copy_, "wal", "--fast"})), "");
}

std::string RandomBytes(size_t n, std::mt19937_64* rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)() & 0xFF);
  return s;
}

// Checks the contract for any input: 0 or 1 with valid output and nothing on
// stderr, or 2 with one line on stderr and nothing on stdout.
void CheckAnyInput(const std::string& file) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{file, "wal"}, {file, "wal", "--json"}}) {
    RunOutput r = Inspect(args);
    ASSERT_TRUE(r.code >= 0 && r.code <= 2) << r.code;
    if (r.code == 2) {
      ASSERT_EQ(CheckRefused(r), "");
      continue;
    }
    ASSERT_EQ(r.err, "");
    if (args.size() == 3) {
      std::string why;
      ASSERT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
    }
  }
}

TEST_F(InspectWalTest, RandomBytesNeverCrash) {
  const std::string header = ReadFileOrDie(wal_).substr(0, wal::kWalHeaderSize);
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (size_t size :
       {size_t{1}, size_t{63}, size_t{64}, size_t{100}, size_t{4096}, size_t{70000}}) {
    SCOPED_TRACE(size);
    WriteFileOrDie(wal_, RandomBytes(size, &rng));
    ASSERT_NO_FATAL_FAILURE(CheckAnyInput(copy_));
    // A valid header followed by random records.
    WriteFileOrDie(wal_, header + RandomBytes(size, &rng));
    ASSERT_NO_FATAL_FAILURE(CheckAnyInput(copy_));
  }
}

// Random damage to the records of a real log: whatever the bytes, the
// inspector's verdict (exit 1: recovery refuses) matches what recovery does.
TEST_F(InspectWalTest, RandomDamageMatchesRecovery) {
  const std::string pristine = ReadFileOrDie(wal_);
  const std::string page_file = ReadFileOrDie(copy_);
  std::mt19937_64 rng(sombra::test::TestSeed());
  int refused = 0;
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::string log = pristine;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Mostly record headers and commit payloads, where the interesting
      // bytes are.
      const uint64_t starts[] = {kImage2, kImage3, kCommit1, kDelta, kCommit2};
      const uint64_t base = starts[rng() % 5];
      const uint64_t at = rng() % 3 == 0 ? kImage2 + rng() % (kEnd - kImage2) : base + rng() % 68;
      log[at] = static_cast<char>(rng() & 0xFF);
    }
    if (rng() % 4 == 0) log.resize(kImage2 + rng() % (kEnd - kImage2));
    if (rng() % 8 == 0) log.replace(kImage2, 100, RandomBytes(100, &rng));
    WriteFileOrDie(wal_, log);
    WriteFileOrDie(copy_, page_file);
    ASSERT_NO_FATAL_FAILURE(CheckAnyInput(copy_));
    const RunOutput r = Inspect({copy_, "wal"});
    ASSERT_NE(r.code, 2) << r.err;  // the header is intact
    // Recovery writes to the files: the inspector looked first.
    auto opened = pager::Pager::Open(Env::Default(), copy_, Options());
    if (r.code == 1) {
      ++refused;
      ASSERT_FALSE(opened.ok()) << r.out;
      ASSERT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
    } else {
      ASSERT_TRUE(opened.ok()) << opened.status().ToString() << "\n" << r.out;
    }
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace sombra::inspect::test
