// Recovery from damaged files through the public API (docs/format/wal.md,
// "Recovery"; docs/format/file.md, "Choosing the meta page on open";
// docs/api.md, "Damaged files and salvage"):
//  - a damaged log never silently drops a committed transaction: damage a
//    crash cannot produce is Corruption naming the log, the offset and the
//    record, and leaves every file as it was;
//  - a page file missing or truncated beside a log with records is refused;
//  - a damaged meta page in force never lets the older one serve stale data;
//    Verify reports a damaged standby meta page;
//  - Options::salvage_wal keeps the valid prefix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_writer.h"

namespace sombra::dbtest {
namespace {

constexpr int kTxns = 30;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%03d", i);
  return buf;
}

uint32_t Le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

// The offsets of the commit records of a log (walking the framing from
// the first record up to the first zeroed record header).
std::vector<size_t> CommitOffsets(const std::string& log) {
  std::vector<size_t> commits;
  size_t at = wal::kWalHeaderSize;
  while (at + 16 <= log.size() && log[at] != 0) {
    if (log[at] == 3) commits.push_back(at);
    at += 16 + Le32(log, at + 4);
  }
  return commits;
}

// The offset of the record right before the one at `at`.
size_t RecordBefore(const std::string& log, size_t at) {
  size_t prev = wal::kWalHeaderSize;
  for (size_t r = prev; r < at; r += 16 + Le32(log, r + 4)) prev = r;
  return prev;
}

// The format version in the log's header.
uint32_t LogVersion(const std::string& log) {
  return DecodeFixed32(reinterpret_cast<const uint8_t*>(log.data()) + wal::kWalVersionOffset);
}

// True when the log holds a record of type `type`.
bool HasType(const std::string& log, char type) {
  size_t at = wal::kWalHeaderSize;
  while (at + 16 <= log.size() && log[at] != 0) {
    if (log[at] == type) return true;
    at += 16 + Le32(log, at + 4);
  }
  return false;
}

// True when the log holds a page-ops record (type 4).
bool HasPageOps(const std::string& log) { return HasType(log, 4); }

class DbRecoveryTest : public ::testing::Test {
 protected:
  // The crash image: kTxns durable transactions (key Key(i) = "v" + i in
  // transaction i + 1) that live only in the log, copied while the writer
  // is open (as a kill would leave them).
  void SetUp() override { MakeCrashImage("live"); }
  void MakeCrashImage(const std::string& name) {
    Options o;
    o.durability = Durability::kFull;
    const std::string live = dir_.File(name);
    {
      std::unique_ptr<DB> db = OpenOrDie(o, live);
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->Put("base", "in the page file").ok());
      ASSERT_TRUE(db->Checkpoint().ok());
      for (int i = 0; i < kTxns; ++i) {
        ASSERT_TRUE(db->Put(Key(i), "v" + std::to_string(i)).ok());
      }
      page_file_ = ReadAll(live);
      log_ = ReadAll(live + "-wal");
    }
    commits_ = CommitOffsets(log_);
    ASSERT_EQ(commits_.size(), static_cast<size_t>(kTxns));
  }

  void WriteImage(const std::string& log) {
    WriteAll(path_, page_file_);
    WriteAll(path_ + "-wal", log);
    std::remove((path_ + "-wal.salvaged").c_str());
  }

  Status Open(std::unique_ptr<DB>* db, bool read_only = false, bool salvage = false) {
    Options o;
    o.read_only = read_only;
    o.salvage_wal = salvage;
    return DB::Open(o, path_, db);
  }

  // The keys Key(0..) a database holds, checking their values.
  int CountTxns(DB* db) {
    int n = 0;
    std::string v;
    while (n < kTxns && db->Get(Key(n), &v).ok()) {
      EXPECT_EQ(v, "v" + std::to_string(n));
      ++n;
    }
    EXPECT_TRUE(db->Get("base", &v).ok());
    return n;
  }

  // The image holds every transaction: opened read-only, then writable
  // (left open in *db, verified).
  void ExpectEveryTxnRecovered(std::unique_ptr<DB>* db) {
    {
      std::unique_ptr<DB> ro;
      ASSERT_TRUE(Open(&ro, /*read_only=*/true).ok());
      EXPECT_EQ(CountTxns(ro.get()), kTxns);
    }
    ASSERT_TRUE(Open(db).ok());
    EXPECT_EQ(CountTxns(db->get()), kTxns);
    EXPECT_TRUE((*db)->Verify().ok());
  }

  // Opening the damaged image (writable, then read-only) is Corruption
  // containing every one of `needles`, and changes no byte of either file.
  void ExpectRefused(const std::string& log, const std::vector<std::string>& needles,
                     const std::string& what) {
    WriteImage(log);
    for (bool read_only : {false, true}) {
      std::unique_ptr<DB> db;
      Status s = Open(&db, read_only);
      ASSERT_TRUE(s.IsCorruption()) << what << " read_only=" << read_only << ": " << s.ToString();
      for (const std::string& n : needles) {
        EXPECT_TRUE(Contains(s.message(), n)) << what << ": \"" << n << "\" in " << s.ToString();
      }
      EXPECT_EQ(ReadAll(path_ + "-wal"), log) << what << ": the log was changed";
      EXPECT_EQ(ReadAll(path_), page_file_) << what << ": the page file was changed";
    }
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::string page_file_;
  std::string log_;
  std::vector<size_t> commits_;
};

TEST_F(DbRecoveryTest, UndamagedImageRecoversEveryTransaction) {
  WriteImage(log_);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(Open(&db).ok());
  EXPECT_EQ(CountTxns(db.get()), kTxns);
  EXPECT_TRUE(db->Verify().ok());
}

// Rule 3a: any byte of the header flipped: the transactions behind
// it are not in the page file, so the header's damage is Corruption, not
// "no log".
TEST_F(DbRecoveryTest, DamagedLogHeaderIsCorruptionNotAnAbsentLog) {
  for (size_t i = 0; i < wal::kWalHeaderSize; ++i) {
    std::string log = log_;
    log[i] ^= 0x04;
    ExpectRefused(log, {path_ + "-wal", "offset 0", "log header", "salvage"},
                  "header byte " + std::to_string(i));
    if (HasFatalFailure()) return;
  }
}

// Rule 3b: every bit of a commit record's length field, in a transaction a
// later commit records as durable.
TEST_F(DbRecoveryTest, DamagedCommitLengthIsCorruptionNotATornTail) {
  const size_t at = commits_[12];
  for (int bit = 0; bit < 32; ++bit) {
    std::string log = log_;
    log[at + 4 + bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ExpectRefused(log, {path_ + "-wal", "offset " + std::to_string(at), "record "},
                  "length bit " + std::to_string(bit));
    if (HasFatalFailure()) return;
  }
}

// The same damage in the last transaction, which no later commit records as
// durable, is what a crash can leave: a torn tail, the others recovered.
TEST_F(DbRecoveryTest, DamagedLastTransactionIsATornTail) {
  std::string log = log_;
  log[commits_.back() + 4] ^= 0x01;
  WriteImage(log);
  std::unique_ptr<DB> db;
  Status s = Open(&db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountTxns(db.get()), kTxns - 1);
}

// A zeroed sector (512 bytes, aligned) anywhere in the log's records: the
// zero record header it may leave reads like the end of the log, so the
// reader probes past it; every transaction is recovered, or the open is
// Corruption, or (only when the sector lies in the last transaction, which
// nothing later records as durable) the last transaction is a torn tail —
// or, when the sector also takes the last commit, every transaction it
// touches. A commit record validates only seeded with the checksum stored
// in the record before it, so when the sector reaches into that record's
// header the last commit proves nothing either: that is the same case.
TEST_F(DbRecoveryTest, ZeroedSectorNeverDropsDurableTransactionsSilently) {
  const size_t end = commits_.back() + wal::kRecordHeaderSize + wal::kCommitPayloadSizeTrees;
  const size_t last_txn = commits_[commits_.size() - 2] + wal::kRecordHeaderSize +
                          wal::kCommitPayloadSizeTrees;  // where the last transaction starts
  const size_t last_seed = RecordBefore(log_, commits_.back());  // seeds the last commit
  int refused = 0;
  for (size_t sector = 0; sector < end; sector += 512) {
    if (sector + 512 <= wal::kWalHeaderSize) continue;  // the header: tested apart
    std::string log = log_;
    std::fill(log.begin() + static_cast<std::ptrdiff_t>(std::max(sector, wal::kWalHeaderSize)),
              log.begin() + static_cast<std::ptrdiff_t>(sector + 512), '\0');
    WriteImage(log);
    const std::string what = "sector at " + std::to_string(sector);
    for (bool read_only : {true, false}) {
      std::unique_ptr<DB> db;
      Status s = Open(&db, read_only);
      if (s.IsCorruption()) {
        EXPECT_TRUE(Contains(s.message(), path_ + "-wal")) << what << ": " << s.ToString();
        refused += read_only ? 1 : 0;
        continue;
      }
      ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
      const int n = CountTxns(db.get());
      if (sector + 512 <= last_txn) {
        EXPECT_EQ(n, kTxns) << what << " read_only=" << read_only;
      } else if (sector + 512 <= last_seed) {
        EXPECT_GE(n, kTxns - 1) << what << " read_only=" << read_only;
      } else {
        // The last commit is damaged too: no commit is left to say which
        // transactions were durable; the prefix before the sector stays.
        int before = 0;
        for (size_t c : commits_) before += c + 16 + wal::kCommitPayloadSizeTrees <= sector ? 1 : 0;
        EXPECT_GE(n, before) << what << " read_only=" << read_only;
      }
    }
  }
  EXPECT_GT(refused, 0) << "some sector must hide durable transactions";
}

// A log of format 1 (64-byte header, no base meta), as an older build left
// it after a crash, is still recovered in full; the new log is format 10.
TEST_F(DbRecoveryTest, FormatOneLogIsStillRecovered) {
  // The records of a build before page-op records (format 1 had none).
  wal::WalWriter::WriteFormatForTest(wal::kWalFormatVersion);
  MakeCrashImage("live-v2");
  wal::WalWriter::WriteFormatForTest(0);
  ASSERT_FALSE(HasPageOps(log_));
  auto header = wal::DecodeWalHeader(reinterpret_cast<const uint8_t*>(log_.data()), log_.size());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  wal::WalHeader v1 = *header;
  v1.version = wal::kWalFormatVersion1;
  std::string log(wal::kWalHeaderSizeV1, '\0');
  wal::EncodeWalHeader(v1, reinterpret_cast<uint8_t*>(log.data()));
  log += log_.substr(wal::kWalHeaderSize);  // the records move up: checksums do not use offsets
  WriteImage(log);
  std::unique_ptr<DB> db;
  ASSERT_NO_FATAL_FAILURE(ExpectEveryTxnRecovered(&db));
  EXPECT_EQ(LogVersion(ReadAll(path_ + "-wal")), wal::kWalFormatVersionCopies);
}

// A log of format 8, as the build before ops groups left it after a crash
// (a page-ops record of its own per page), is recovered in full, read-only
// and writable; the new log is format 10, and its transactions are logged
// as ops groups.
TEST_F(DbRecoveryTest, FormatEightLogOfPageOpsRecordsIsStillRecovered) {
  wal::WalWriter::WriteFormatForTest(wal::kWalFormatVersionFileBase);
  MakeCrashImage("live-v8");
  wal::WalWriter::WriteFormatForTest(0);
  ASSERT_TRUE(HasPageOps(log_));
  ASSERT_EQ(LogVersion(log_), wal::kWalFormatVersionFileBase);
  WriteImage(log_);
  std::unique_ptr<DB> db;
  ASSERT_NO_FATAL_FAILURE(ExpectEveryTxnRecovered(&db));
  ASSERT_TRUE(db->Put(Key(kTxns), "after").ok());
  const std::string now = ReadAll(path_ + "-wal");
  EXPECT_EQ(LogVersion(now), wal::kWalFormatVersionCopies);
  EXPECT_TRUE(HasType(now, static_cast<char>(wal::RecordType::kOpsGroup)));
}

// Rule 7: salvage keeps the valid prefix, keeps the damaged log aside, and
// the database then opens normally.
TEST_F(DbRecoveryTest, SalvageKeepsTheValidPrefix) {
  std::string log = log_;
  log[commits_[12] + 4] ^= 0x01;  // transaction 13's commit
  WriteImage(log);
  {
    std::unique_ptr<DB> db;
    Status s = Open(&db, /*read_only=*/true, /*salvage=*/true);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(CountTxns(db.get()), 12);
  }
  EXPECT_EQ(ReadAll(path_ + "-wal"), log) << "a read-only salvage writes nothing";
  {
    std::unique_ptr<DB> db;
    Status s = Open(&db, /*read_only=*/false, /*salvage=*/true);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(CountTxns(db.get()), 12);
    ASSERT_TRUE(db->Put("after", "salvage").ok());
  }
  EXPECT_EQ(ReadAll(path_ + "-wal.salvaged"), log) << "the damaged log is kept aside";
  std::unique_ptr<DB> db;
  Status s = Open(&db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountTxns(db.get()), 12);
  std::string v;
  EXPECT_TRUE(db->Get("after", &v).ok());
  EXPECT_TRUE(db->Verify().ok());
}

// A salvage of a damaged header replays what still chains from the
// header's stored fields (here the generation is damaged: everything), and
// keeps only the page file when the stored salt itself is damaged.
TEST_F(DbRecoveryTest, SalvageOfADamagedHeader) {
  for (size_t byte : {size_t{30}, size_t{18}}) {
    std::string log = log_;
    log[byte] ^= 0x01;
    WriteImage(log);
    std::unique_ptr<DB> db;
    Status s = Open(&db, /*read_only=*/false, /*salvage=*/true);
    ASSERT_TRUE(s.ok()) << byte << ": " << s.ToString();
    EXPECT_EQ(CountTxns(db.get()), byte == 30 ? kTxns : 0) << byte;
    EXPECT_TRUE(db->Verify().ok()) << byte;
    db.reset();
    EXPECT_EQ(ReadAll(path_ + "-wal.salvaged"), log) << byte;
    ASSERT_TRUE(Open(&db).ok()) << byte;
    EXPECT_EQ(CountTxns(db.get()), byte == 30 ? kTxns : 0) << byte;
  }
}

// Rule 4: the page file missing, empty or cut short beside the log.
TEST_F(DbRecoveryTest, MissingOrTruncatedPageFileBesideALogIsRefused) {
  for (size_t keep : {size_t{0}, size_t{100}, std::string::npos}) {
    WriteImage(log_);
    if (keep == std::string::npos) {
      std::remove(path_.c_str());
    } else {
      WriteAll(path_, page_file_.substr(0, keep));
    }
    const std::string before = Exists(path_) ? ReadAll(path_) : "<missing>";
    for (bool read_only : {false, true}) {
      std::unique_ptr<DB> db;
      Status s = Open(&db, read_only);
      const std::string what = "keep " + std::to_string(keep) + " read_only " +
                               std::to_string(read_only) + ": " + s.ToString();
      ASSERT_TRUE(s.IsCorruption()) << what;
      EXPECT_TRUE(Contains(s.message(), "page file " + path_ + " ")) << what;
      EXPECT_TRUE(Contains(s.message(), path_ + "-wal")) << what;
      EXPECT_EQ(ReadAll(path_ + "-wal"), log_) << what;
      EXPECT_EQ(Exists(path_) ? ReadAll(path_) : "<missing>", before) << what;
    }
  }
}

// A page file cut inside its pages (meta pages intact) names both files.
TEST_F(DbRecoveryTest, PageFileCutInsideItsPagesNamesBothFiles) {
  WriteImage(log_);
  WriteAll(path_, page_file_.substr(0, 2 * 4096 + 100));
  std::unique_ptr<DB> db;
  Status s = Open(&db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "truncated")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), path_ + "-wal")) << s.ToString();
}

// Rule 5, on a cleanly closed database (the log keeps only its header).
class DbMetaDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<DB> db = OpenOrDie(Options(), path_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put("a", "1").ok());
    ASSERT_TRUE(db->Checkpoint().ok());
    ASSERT_TRUE(db->Put("a", "2").ok());
    ASSERT_TRUE(db->Put("b", "3").ok());
  }

  // The slot of the meta page with the higher checkpoint sequence.
  int InForce() {
    const std::string f = ReadAll(path_);
    auto seq = [&](size_t slot) {
      uint64_t v = 0;
      for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(f[slot * 4096 + 72 + i]);
      return v;
    };
    return seq(0) > seq(1) ? 0 : 1;
  }

  void Flip(size_t offset) {
    std::string f = ReadAll(path_);
    f[offset] ^= 0x01;
    WriteAll(path_, f);
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

// The log header's copy of the meta page in force (docs/format/file.md,
// "Meta redundancy") stands in for it: read-only, the database reads as it
// was committed and Verify names the damaged page; writable, the page is
// rewritten byte for byte from the copy.
TEST_F(DbMetaDamageTest, DamagedMetaInForceIsRestoredFromTheLogHeader) {
  const int slot = InForce();
  const std::string intact = ReadAll(path_);
  Flip(slot * 4096 + 100);
  const std::string damaged = ReadAll(path_);
  auto expect_data = [&](DB* db, const std::string& what) {
    std::string v;
    ASSERT_TRUE(db->Get("a", &v).ok()) << what;
    EXPECT_EQ(v, "2") << what;
    ASSERT_TRUE(db->Get("b", &v).ok()) << what;
    EXPECT_EQ(v, "3") << what;
  };
  {
    Options o;
    o.read_only = true;
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, path_, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    expect_data(db.get(), "read-only");
    Status v = db->Verify();
    ASSERT_TRUE(v.IsCorruption()) << v.ToString();
    EXPECT_TRUE(Contains(v.message(), "meta page " + std::to_string(slot))) << v.ToString();
  }
  EXPECT_EQ(ReadAll(path_), damaged) << "a read-only open writes nothing";
  {
    std::unique_ptr<DB> db = OpenOrDie(Options(), path_);
    ASSERT_NE(db, nullptr);
    expect_data(db.get(), "writable");
    EXPECT_EQ(ReadAll(path_).substr(slot * 4096, 4096), intact.substr(slot * 4096, 4096))
        << "the meta page in force is rewritten from the copy";
    Status v = db->Verify();
    EXPECT_TRUE(v.ok()) << v.ToString();
  }
}

// Both a read-only and a writable open of `path` are Corruption naming
// meta page `slot`, and leave the page file as it was.
void ExpectRefusedNamingMeta(const std::string& path, int slot) {
  const std::string page_file = ReadAll(path);
  const std::string named = "meta page " + std::to_string(slot) + " ";
  for (bool read_only : {true, false}) {
    Options o;
    o.read_only = read_only;
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, path, &db);
    const std::string what = "read_only " + std::to_string(read_only) + ": " + s.ToString();
    ASSERT_TRUE(s.IsCorruption()) << what;
    EXPECT_TRUE(Contains(s.message(), named)) << what;
    EXPECT_EQ(ReadAll(path), page_file) << what;
  }
}

// Without a log carrying the copy, the older meta page is never served.
TEST_F(DbMetaDamageTest, DamagedMetaInForceWithoutTheLogIsRefused) {
  const int slot = InForce();
  Flip(slot * 4096 + 100);
  std::remove((path_ + "-wal").c_str());
  ExpectRefusedNamingMeta(path_, slot);
}

// The same when the older meta page is the file's first (sequence 1, two
// pages): a read-only open maps only the pages a meta counts, and must
// still see the newer pages past them (it used to serve the empty state).
TEST(DbMetaDamageFirstMetaTest, OlderMetaOfTwoPagesIsNotServedReadOnly) {
  test::TempDir dir;
  const std::string path = dir.File("db");
  {
    std::unique_ptr<DB> db = OpenOrDie(Options(), path);
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(w->Put(NumKey(i), FillValue(100, i)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }  // one checkpoint, at the clean close: slot 0 in force, slot 1 the first meta
  std::string f = ReadAll(path);
  f[100] ^= 0x01;
  WriteAll(path, f);
  std::remove((path + "-wal").c_str());
  ExpectRefusedNamingMeta(path, 0);
}

TEST_F(DbMetaDamageTest, VerifyReportsADamagedStandbyMeta) {
  const int standby = 1 - InForce();
  Flip(standby * 4096 + 100);
  std::unique_ptr<DB> db = OpenOrDie(Options(), path_);
  ASSERT_NE(db, nullptr);
  std::string v;
  ASSERT_TRUE(db->Get("a", &v).ok());
  EXPECT_EQ(v, "2");
  Status s = db->Verify();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "page " + std::to_string(standby) + " of " + path_))
      << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "checksum")) << s.ToString();
}

}  // namespace
}  // namespace sombra::dbtest
