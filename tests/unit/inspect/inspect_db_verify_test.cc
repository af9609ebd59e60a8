// DB::Verify (what `sombra verify` runs) and `sombra-inspect FILE verify`
// are one check, btree::VerifyDatabase: on the same damaged database they
// report the same problems, and DB::Verify's Corruption names the first one
// as inspect's first line does. Damage: a standby meta page, a free page
// (never reached from the root), a freelist cycle, a freelist count that
// differs from the chain, a leaked page; and a clean database passes both.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::inspect::test {
namespace {

constexpr uint32_t kPageSize = 4096;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%06d", i);
  return buf;
}

// One problem line of `sombra-inspect verify`: "page N: what".
struct Line {
  uint64_t page = 0;
  std::string what;
};

class InspectDbVerifyTest : public ::testing::Test {
 protected:
  // 400 small records and 20 values of three overflow pages each, of which
  // 10 are deleted: a tree of several levels and a freelist of about 30
  // pages. Closed cleanly (checkpointed, the log only its header).
  void SetUp() override {
    Options o;
    o.durability = Durability::kOff;
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(o, db_, &db).ok());
    std::unique_ptr<WriteTxn> txn;
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(txn->Put(Key(i), std::string(40, 'v')).ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(txn->Put(Key(1000 + i), std::string(10000, 'b')).ok());
    ASSERT_TRUE(txn->Commit().ok());
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    for (int i = 0; i < 20; i += 2) ASSERT_TRUE(txn->Delete(Key(1000 + i)).ok());
    ASSERT_TRUE(txn->Commit().ok());
    txn.reset();
    db.reset();
    ASSERT_NO_FATAL_FAILURE(ReadMetas());
    ASSERT_GE(metas_.meta.freelist_count, 10u);
  }

  void ReadMetas() {
    auto file = Env::Default()->OpenFile(db_, OpenMode::kReadOnly);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto metas = pager::ReadNewestMeta(file->get());
    ASSERT_TRUE(metas.ok()) << metas.status().ToString();
    metas_ = std::move(metas).value();
  }

  // Rewrites the meta page in force with `edit` applied, sealed.
  void EditMeta(const std::function<void(pager::Meta*)>& edit) {
    pager::Meta m = metas_.meta;
    edit(&m);
    std::vector<uint8_t> page(kPageSize);
    pager::EncodeMeta(m, page.data());
    WritePageBytes(db_, metas_.slot, page);
  }

  uint32_t FreeNext(uint32_t page_no) {
    return DecodeFixed32(ReadPageBytes(db_, page_no, kPageSize).data() + pager::kFreeNextOffset);
  }
  void SetFreeNext(uint32_t page_no, uint32_t next) {
    EditAndReseal(db_, page_no, kPageSize,
                  [next](uint8_t* p) { EncodeFixed32(p + pager::kFreeNextOffset, next); });
  }

  // DB::Verify through a handle opened as `sombra verify` opens it
  // (read-only), or writable.
  Status DbVerify(bool read_only = true) {
    Options o;
    o.read_only = read_only;
    o.create_if_missing = false;
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, db_, &db);
    if (!s.ok()) return s;
    return db->Verify();
  }

  // The problem lines of `sombra-inspect verify`, its summary checked.
  std::vector<Line> InspectProblems() {
    RunOutput r = Inspect({db_, "verify"});
    EXPECT_EQ(r.err, "");
    std::vector<Line> lines;
    size_t at = 0;
    while (r.out.compare(at, 5, "page ") == 0) {
      const size_t end = r.out.find('\n', at);
      const size_t colon = r.out.find(": ", at);
      Line l;
      l.page = std::stoull(r.out.substr(at + 5, colon - at - 5));
      l.what = r.out.substr(colon + 2, end - colon - 2);
      lines.push_back(l);
      at = end + 1;
    }
    const std::string pages = std::to_string(metas_.meta.page_count) + " pages";
    EXPECT_EQ(r.out.substr(at), lines.empty()
                                    ? "verified " + pages + ": OK\n"
                                    : std::to_string(lines.size()) +
                                          (lines.size() == 1 ? " problem in " : " problems in ") +
                                          pages + "\n")
        << r.out;
    EXPECT_EQ(r.code, lines.empty() ? 0 : 1);
    return lines;
  }

  // Both report `first` as their first problem, and as many problems.
  void ExpectSameFirstProblem(const Line& first, bool also_writable = false) {
    const std::vector<Line> lines = InspectProblems();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].page, first.page);
    EXPECT_EQ(lines[0].what.rfind(first.what, 0), 0u) << lines[0].what;
    std::string want = "verify " + db_ + ": " + (first.page < 2 ? "meta page " : "page ") +
                       std::to_string(first.page) + " of " + db_ + ": " + lines[0].what;
    const size_t more = lines.size() - 1;
    if (more > 0) {
      want += " (and " + std::to_string(more) + (more == 1 ? " more problem)" : " more problems)");
    }
    for (bool read_only : {true, false}) {
      if (!read_only && !also_writable) continue;
      Status s = DbVerify(read_only);
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_EQ(s.message(), want) << "read_only " << read_only;
    }
  }

  sombra::test::TempDir dir_;
  std::string db_ = dir_.File("db");
  pager::MetaChoice metas_;
};

TEST_F(InspectDbVerifyTest, CleanDatabasePassesBoth) {
  EXPECT_TRUE(InspectProblems().empty());
  Status s = DbVerify(true);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = DbVerify(false);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // The log committed after the checkpoint (versions in memory, not yet
  // sealed) passes too.
  {
    Options o;
    o.durability = Durability::kOff;
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(o, db_, &db).ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(db->Put(Key(2000 + i), "x").ok());
    ASSERT_TRUE(db->Delete(Key(1001)).ok());
    s = db->Verify();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(InspectDbVerifyTest, DamagedStandbyMeta) {
  const uint32_t standby = 1 - metas_.slot;
  FlipByte(db_, uint64_t{standby} * kPageSize + 100);
  ExpectSameFirstProblem({standby, "checksum mismatch"}, /*also_writable=*/true);
}

TEST_F(InspectDbVerifyTest, FlippedByteInAFreePage) {
  // A page on the freelist is never reached from the root: only the pass
  // over every page finds it.
  const uint32_t free_page = FreeNext(metas_.meta.freelist_head);
  ASSERT_GE(free_page, 2u);
  FlipByte(db_, uint64_t{free_page} * kPageSize + 2000);
  ExpectSameFirstProblem({free_page, "checksum mismatch"}, /*also_writable=*/true);
}

TEST_F(InspectDbVerifyTest, FlippedByteInALeakedPage) {
  // Leaked and damaged: the damage is the problem, the leak not repeated.
  const uint32_t head = metas_.meta.freelist_head;
  const uint32_t next = FreeNext(head);
  EditMeta([next](pager::Meta* m) {
    m->freelist_head = next;
    m->freelist_count -= 1;
  });
  FlipByte(db_, uint64_t{head} * kPageSize + 2000);
  ExpectSameFirstProblem({head, "checksum mismatch"});
  EXPECT_EQ(InspectProblems().size(), 1u);
}

TEST_F(InspectDbVerifyTest, FreelistCycle) {
  // head -> second -> third ...: third links back to the head.
  const uint32_t head = metas_.meta.freelist_head;
  const uint32_t second = FreeNext(head);
  const uint32_t third = FreeNext(second);
  ASSERT_GE(third, 2u);
  SetFreeNext(third, head);
  const std::vector<Line> lines = InspectProblems();
  bool cycle = false;
  for (const Line& l : lines) {
    cycle |= l.page == third && l.what == "freelist links to page " + std::to_string(head) +
                                              ", already on the list (cycle)";
  }
  EXPECT_TRUE(cycle);
  ASSERT_FALSE(lines.empty());
  ExpectSameFirstProblem(lines[0]);
}

TEST_F(InspectDbVerifyTest, FreelistCountDiffersFromTheChain) {
  const uint64_t count = metas_.meta.freelist_count;
  EditMeta([](pager::Meta* m) { m->freelist_count += 1; });
  const std::vector<Line> lines = InspectProblems();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].page, metas_.slot);
  EXPECT_EQ(lines[0].what, "freelist holds " + std::to_string(count) +
                               " pages, but the meta page counts " + std::to_string(count + 1));
  ExpectSameFirstProblem(lines[0]);
}

TEST_F(InspectDbVerifyTest, LeakedPage) {
  // The meta skips the freelist's head: that page is neither in the tree
  // nor free.
  const uint32_t head = metas_.meta.freelist_head;
  const uint32_t next = FreeNext(head);
  EditMeta([next](pager::Meta* m) {
    m->freelist_head = next;
    m->freelist_count -= 1;
  });
  ExpectSameFirstProblem({head, "tree: neither reachable from the root nor free (leaked)"});
  EXPECT_EQ(InspectProblems().size(), 1u);
}

}  // namespace
}  // namespace sombra::inspect::test
