// btree::VerifyDatabase over a pager snapshot: a clean tree, committed
// versions not yet checkpointed, several problems collected in page order
// with the tree walk's repeat left out, a page source that ends early or
// fails, and DescribeProblem's form.
#include "btree/db_verify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "btree/btree.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

constexpr uint32_t kPageSize = 4096;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%06d", i);
  return buf;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  ASSERT_TRUE(f.good()) << path;
}

class DbVerifyTest : public ::testing::Test {
 protected:
  void Open(bool read_only = false) {
    pager_.reset();
    Options o;
    o.durability = Durability::kOff;
    o.read_only = read_only;
    auto p = pager::Pager::Open(Env::Default(), path_, o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(p).value();
  }
  // 300 records and 12 values of three overflow pages, every other one
  // deleted again: several levels and a freelist.
  void Fill() {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(w.Put(Key(i), std::string(40, 'v')).ok());
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(w.Put(Key(1000 + i), std::string(10000, 'b')).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter d(txn->get(), pager_->metrics());
    for (int i = 0; i < 12; i += 2) ASSERT_TRUE(d.Delete(Key(1000 + i), nullptr).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  pager::MetaChoice Metas() {
    auto file = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    auto metas = pager::ReadNewestMeta(file->get());
    EXPECT_TRUE(metas.ok()) << metas.status().ToString();
    return metas.ok() ? *metas : pager::MetaChoice{};
  }
  Result<VerifyReport> Verify() {
    auto snap = pager_->BeginRead();
    return VerifyDatabase(*snap, Metas(), path_);
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<pager::Pager> pager_;
};

TEST_F(DbVerifyTest, CleanTreeWithVersionsInMemoryAndAfterACheckpoint) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(Fill());
  // The commits are versions in memory, not sealed until a checkpoint.
  Result<VerifyReport> r = Verify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->problems[0].page << ": " << r->problems[0].what;
  EXPECT_EQ(r->pages, pager_->published().page_count);
  ASSERT_TRUE(pager_->Checkpoint().ok());
  r = Verify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->problems[0].page << ": " << r->problems[0].what;
  // Reopened read-only: every page from the file, every checksum verified.
  ASSERT_NO_FATAL_FAILURE(Open(true));
  r = Verify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << r->problems[0].page << ": " << r->problems[0].what;
}

TEST_F(DbVerifyTest, CollectsEveryProblemInPageOrder) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(Fill());
  pager_.reset();  // checkpoints
  const pager::MetaChoice metas = Metas();
  const uint32_t root = metas.meta.root;
  const uint32_t free_page = metas.meta.freelist_head;
  ASSERT_NE(free_page, 0u);
  const uint32_t standby = 1 - metas.slot;
  FlipByte(path_, uint64_t{standby} * kPageSize + 100);
  FlipByte(path_, uint64_t{root} * kPageSize + 3000);
  FlipByte(path_, uint64_t{free_page} * kPageSize + 3000);
  ASSERT_NO_FATAL_FAILURE(Open(true));
  Result<VerifyReport> r = Verify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The root's damage stops the tree walk; that is not a second problem.
  ASSERT_EQ(r->problems.size(), 3u);
  EXPECT_EQ(r->problems[0].page, standby);
  EXPECT_EQ(r->problems[1].page, std::min(root, free_page));
  EXPECT_EQ(r->problems[2].page, std::max(root, free_page));
  for (const VerifyProblem& p : r->problems) {
    EXPECT_EQ(p.what.rfind("checksum mismatch (stored 0x", 0), 0u) << p.page << ": " << p.what;
  }
}

TEST_F(DbVerifyTest, MetaKindOutsideTheMetaSlots) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(Fill());
  pager_.reset();
  const pager::MetaChoice metas = Metas();
  const uint32_t free_page = metas.meta.freelist_head;
  // The free page rewritten as a meta kind, resealed: valid on its own.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    std::string page(kPageSize, '\0');
    f.seekg(static_cast<std::streamoff>(uint64_t{free_page} * kPageSize));
    f.read(page.data(), kPageSize);
    auto* p = reinterpret_cast<uint8_t*>(page.data());
    p[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kMeta);
    pager::SealPage(p, kPageSize, metas.meta.salt);
    f.seekp(static_cast<std::streamoff>(uint64_t{free_page} * kPageSize));
    f.write(page.data(), kPageSize);
    ASSERT_TRUE(f.good());
  }
  ASSERT_NO_FATAL_FAILURE(Open(true));
  Result<VerifyReport> r = Verify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The freelist walk and the tree walk stop at it without repeating it.
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].page, free_page);
  EXPECT_EQ(r->problems[0].what, "meta page outside slots 0 and 1");
}

TEST_F(DbVerifyTest, PageSourceThatEndsEarlyOrFails) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(Fill());
  auto snap = pager_->BeginRead();
  const uint32_t last = static_cast<uint32_t>(snap->state().page_count - 1);
  VerifyTarget t;
  t.file = path_;
  t.metas = Metas();
  t.state = snap->state();
  t.page_size = snap->page_size();
  t.salt = t.metas.meta.salt;
  t.pages_sealed = false;
  t.read = [&](uint32_t page_no) -> Result<const uint8_t*> {
    if (page_no == last) return static_cast<const uint8_t*>(nullptr);
    return snap->Read(page_no);
  };
  Result<VerifyReport> r = VerifyDatabase(t);  // no tree rules: t.tree is null
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].page, last);
  EXPECT_EQ(r->problems[0].what, "truncated");

  t.read = [&](uint32_t page_no) -> Result<const uint8_t*> {
    if (page_no == last) return Status::IOError("read failed");
    return snap->Read(page_no);
  };
  r = VerifyDatabase(t);
  EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
}

TEST(DescribeProblemTest, NamesMetaAndDataPages) {
  EXPECT_EQ(DescribeProblem({1, "bad magic"}, "/d/db"), "meta page 1 of /d/db: bad magic");
  EXPECT_EQ(DescribeProblem({7, "tree: left sibling 3, expected 0"}, "/d/db"),
            "page 7 of /d/db: tree: left sibling 3, expected 0");
}

}  // namespace
}  // namespace sombra::btree
