// db/db_tree.h: the Tree handles of <sombra/db.h>.
//
// A handle names a tree; where its pages are is looked up in the catalog
// (btree/catalog.h) by each transaction, at its own snapshot. The DB owns
// every handle it gave out until it is destroyed; DropTree marks a handle
// dropped, after which every call with it is InvalidArgument.
//
// Thread safety: name() and owner() are immutable; dropped() is atomic.
#pragma once

#include <atomic>
#include <string>

#include "sombra/db.h"

namespace sombra::db {

class DBImpl;

class TreeImpl final : public Tree {
 public:
  TreeImpl(const DBImpl* owner, std::string name) : owner_(owner), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  const DBImpl* owner() const { return owner_; }
  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  void MarkDropped() { dropped_.store(true, std::memory_order_release); }

 private:
  const DBImpl* const owner_;
  const std::string name_;
  std::atomic<bool> dropped_{false};
};

}  // namespace sombra::db
