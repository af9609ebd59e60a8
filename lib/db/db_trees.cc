// db/db_trees.cc: named trees (docs/api.md, "Named trees"): DB::OpenTree,
// DropTree and ListTrees, and how a transaction finds a tree's root.
//
// A write transaction keeps one BTreeWriter per tree it touches, each
// editing its tree's root in the transaction (BTreeWriter::SetRootSlot),
// and a writer of the catalog; at commit every named tree whose root moved
// gets its catalog entry rewritten, and the catalog's root goes into the
// commit record with the default tree's. So one commit record makes every
// tree's change durable at once, and a snapshot sees all trees at one LSN.
#include <memory>
#include <string>
#include <vector>

#include "btree/catalog.h"
#include "db/db_txn.h"

namespace sombra::db {

Status DBImpl::CheckTree(const Tree* tree) const {
  if (tree == nullptr) return Status::InvalidArgument("tree handle is null");
  if (IsDefaultTree(tree)) return Status::OK();
  const auto* t = dynamic_cast<const TreeImpl*>(tree);
  if (t == nullptr || t->owner() != this) {
    return Status::InvalidArgument("tree handle does not belong to database " + path());
  }
  if (t->dropped()) {
    return Status::InvalidArgument("tree \"" + t->name() + "\" of " + path() + " was dropped");
  }
  return Status::OK();
}

Status DBImpl::CheckNotWriterThread(const char* what) const {
  if (writer_thread_.load() != std::this_thread::get_id()) return Status::OK();
  return Status::Busy(std::string(what) + " on " + path() +
                      ": this thread holds an open write transaction, and " + what +
                      " runs in a transaction of its own, which would wait for it");
}

Tree* DBImpl::HandleFor(std::string_view name) {
  std::lock_guard<std::mutex> lock(trees_mu_);
  auto it = trees_.find(name);
  if (it == trees_.end()) {
    it = trees_.emplace(std::string(name), std::make_unique<TreeImpl>(this, std::string(name)))
             .first;
  }
  return it->second.get();
}

Status DBImpl::OpenTree(std::string_view name, Tree** tree) {
  *tree = nullptr;
  SOMBRA_RETURN_IF_ERROR(btree::CheckTreeName(name));
  {
    std::lock_guard<std::mutex> lock(trees_mu_);
    if (auto it = trees_.find(name); it != trees_.end()) {
      *tree = it->second.get();
      return Status::OK();
    }
  }
  {
    std::unique_ptr<pager::Snapshot> snap = pager_->BeginRead();
    const pager::TreeState& st = snap->state();
    uint32_t root = 0;
    Status s = btree::LookupTree(btree::SnapshotReader(snap.get()), page_size(), st.page_count,
                                 st.catalog_root, name, &root);
    if (s.ok()) {
      *tree = HandleFor(name);
      return Status::OK();
    }
    if (!s.IsNotFound()) return s;
  }
  if (pager_->read_only()) {
    return Status::NotFound("no tree named \"" + std::string(name) + "\" in " + path() +
                            " (opened read-only: trees are not created)");
  }
  std::unique_ptr<WriteTxnImpl> txn;
  SOMBRA_RETURN_IF_ERROR(BeginOwnWrite("OpenTree", &txn));
  SOMBRA_RETURN_IF_ERROR(txn->CreateTree(name));
  SOMBRA_RETURN_IF_ERROR(txn->Commit());
  *tree = HandleFor(name);
  return Status::OK();
}

Status DBImpl::DropTree(std::string_view name) {
  if (name.empty()) {
    return Status::InvalidArgument("the default tree of " + path() + " cannot be dropped");
  }
  SOMBRA_RETURN_IF_ERROR(btree::CheckTreeName(name));
  if (pager_->read_only()) return Status::NotSupported("DropTree on read-only " + path());
  std::unique_ptr<WriteTxnImpl> txn;
  SOMBRA_RETURN_IF_ERROR(BeginOwnWrite("DropTree", &txn));
  uint64_t pages = 0;
  SOMBRA_RETURN_IF_ERROR(txn->DropTree(name, &pages));
  SOMBRA_RETURN_IF_ERROR(txn->Commit());
  metrics_->GetCounter("tree_pages_dropped")->Add(pages);
  std::lock_guard<std::mutex> lock(trees_mu_);
  if (auto it = trees_.find(name); it != trees_.end()) {
    it->second->MarkDropped();
    dropped_.push_back(std::move(it->second));
    trees_.erase(it);
  }
  return Status::OK();
}

Status DBImpl::ListTrees(std::vector<std::string>* names) {
  names->clear();
  std::unique_ptr<pager::Snapshot> snap = pager_->BeginRead();
  const pager::TreeState& st = snap->state();
  std::vector<btree::CatalogEntry> entries;
  SOMBRA_RETURN_IF_ERROR(btree::ReadCatalog(btree::SnapshotReader(snap.get()), page_size(),
                                            st.page_count, st.catalog_root, &entries));
  for (btree::CatalogEntry& e : entries) names->push_back(std::move(e.name));
  return Status::OK();
}

Result<uint32_t> ReadTxnImpl::RootOf(Tree* tree) {
  if (db_->IsDefaultTree(tree)) return snap_->state().root;
  // A handle found here passed CheckTree before: only a drop since then
  // can make it invalid (no dynamic_cast per call).
  if (auto it = roots_.find(tree); it != roots_.end()) {
    if (static_cast<const TreeImpl*>(tree)->dropped()) return db_->CheckTree(tree);
    return it->second;
  }
  SOMBRA_RETURN_IF_ERROR(db_->CheckTree(tree));
  const pager::TreeState& st = snap_->state();
  uint32_t root = 0;
  Status s = btree::LookupTree(reader_, snap_->page_size(), st.page_count, st.catalog_root,
                               tree->name(), &root);
  if (!s.ok() && !s.IsNotFound()) return s;
  roots_.emplace(tree, root);  // not in this snapshot: empty
  return root;
}

btree::BTreeWriter* WriteTxnImpl::Catalog() {
  if (catalog_ == nullptr) {
    catalog_ = std::make_unique<btree::BTreeWriter>(txn_.get(), db_->tick_counters());
    catalog_->SetRootSlot(&catalog_root_);
    catalog_->ShareLayouts(db_->layout_cache());
  }
  return catalog_.get();
}

Result<btree::BTreeWriter*> WriteTxnImpl::WriterFor(Tree* tree) {
  if (db_->IsDefaultTree(tree)) return writer_.get();
  if (tree == last_tree_) return last_writer_;
  // A handle found in named_ passed CheckTree, and no tree can be dropped
  // while this transaction holds the writer slot.
  auto it = named_.find(tree);
  if (it == named_.end()) {
    SOMBRA_RETURN_IF_ERROR(db_->CheckTree(tree));
    std::string value;
    Status s = Check(Catalog()->Get(tree->name(), &value));
    if (s.IsNotFound()) {
      return Status::InvalidArgument("tree \"" + tree->name() + "\" is not in " + db_->path() +
                                     " (dropped by another handle?)");
    }
    SOMBRA_RETURN_IF_ERROR(s);
    auto t = std::make_unique<NamedTree>();
    t->name = tree->name();
    SOMBRA_RETURN_IF_ERROR(
        Check(btree::DecodeCatalogValue(t->name, value, txn_->state().page_count, &t->root)));
    t->original = t->root;
    t->writer = std::make_unique<btree::BTreeWriter>(txn_.get(), db_->tick_counters());
    t->writer->SetRootSlot(&t->root);
    t->writer->ShareLayouts(db_->layout_cache());
    it = named_.emplace(tree, std::move(t)).first;
  }
  last_tree_ = tree;
  last_writer_ = it->second->writer.get();
  return last_writer_;
}

Status WriteTxnImpl::CreateTree(std::string_view name) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  std::string value;
  Status s = Check(Catalog()->Get(name, &value));
  if (s.ok()) return Status::OK();  // another thread created it first
  if (!s.IsNotFound()) return s;
  return Check(Catalog()->Put(name, btree::EncodeCatalogValue(0)));
}

Status WriteTxnImpl::DropTree(std::string_view name, uint64_t* pages) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  std::string value;
  Status s = Check(Catalog()->Get(name, &value));
  if (s.IsNotFound()) {
    return Status::NotFound("no tree named \"" + std::string(name) + "\" in " + db_->path());
  }
  SOMBRA_RETURN_IF_ERROR(s);
  uint32_t root = 0;
  SOMBRA_RETURN_IF_ERROR(
      Check(btree::DecodeCatalogValue(name, value, txn_->state().page_count, &root)));
  btree::FreedTree freed;
  SOMBRA_RETURN_IF_ERROR(Check(btree::FreeTree(txn_.get(), root, &freed)));
  if (pages != nullptr) *pages = freed.pages;
  dropped_tree_ = true;
  return Check(Catalog()->Delete(name, nullptr));
}

Status WriteTxnImpl::CommitTrees() {
  for (auto& [handle, t] : named_) {
    if (t->root == t->original) continue;
    SOMBRA_RETURN_IF_ERROR(Catalog()->Put(t->name, btree::EncodeCatalogValue(t->root)));
  }
  if (catalog_root_ != txn_->catalog_root()) txn_->SetCatalogRoot(catalog_root_);
  return Status::OK();
}

void WriteTxnImpl::ReleaseWriters() {
  btree::LayoutCache* cache = db_->layout_cache();
  if (dropped_tree_) {
    // The dropped tree's pages are free: no layout of them may be served.
    cache->Clear();
  } else {
    cache->Keep(writer_->ReleaseLayouts());
    for (auto& [handle, t] : named_) cache->Keep(t->writer->ReleaseLayouts());
    if (catalog_ != nullptr) cache->Keep(catalog_->ReleaseLayouts());
  }
  last_tree_ = nullptr;
  last_writer_ = nullptr;
  named_.clear();
  catalog_.reset();
  writer_.reset();
}

}  // namespace sombra::db
