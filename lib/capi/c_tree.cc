// capi/c_tree.cc: named trees (DB::OpenTree, DefaultTree, DropTree,
// ListTrees) and sombra_tree handles.
//
// The DB owns its Tree objects (one per name, kept after a drop until the
// DB goes); the sombra_db keeps one sombra_tree per Tree, so the same name
// gives the same C handle, and frees them all at close.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

sombra_tree* HandleOf(sombra_db* db, Tree* tree) {
  std::lock_guard<std::mutex> lock(db->trees_mu);
  std::unique_ptr<sombra_tree>& handle = db->trees[tree];
  if (handle == nullptr) {
    handle = std::make_unique<sombra_tree>();
    handle->tree = tree;
  }
  return handle.get();
}

Status OpenTree(sombra_db* db, const char* name, size_t name_len, sombra_tree** tree) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(tree, "tree (the output)"));
  *tree = nullptr;
  SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
  SOMBRA_RETURN_IF_ERROR(CheckBytes(name, name_len, "name"));
  Tree* t = nullptr;
  SOMBRA_RETURN_IF_ERROR(db->db->OpenTree(Bytes(name, name_len), &t));
  *tree = HandleOf(db, t);
  return Status::OK();
}

// One block: the entries, then each name's bytes and a NUL.
sombra_name* PackNames(const std::vector<std::string>& names) {
  size_t bytes = names.size() * sizeof(sombra_name);
  for (const std::string& n : names) bytes += n.size() + 1;
  void* block = std::malloc(bytes);
  if (block == nullptr) throw std::bad_alloc();
  auto* entries = static_cast<sombra_name*>(block);
  char* text = static_cast<char*>(block) + names.size() * sizeof(sombra_name);
  for (size_t i = 0; i < names.size(); ++i) {
    if (!names[i].empty()) std::memcpy(text, names[i].data(), names[i].size());
    text[names[i].size()] = '\0';
    entries[i].data = text;
    entries[i].size = names[i].size();
    text += names[i].size() + 1;
  }
  return entries;
}

Status ListTrees(sombra_db* db, sombra_name** names, size_t* count) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(names, "names"));
  SOMBRA_RETURN_IF_ERROR(CheckHandle(count, "count"));
  *names = nullptr;
  *count = 0;
  SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
  std::vector<std::string> list;
  SOMBRA_RETURN_IF_ERROR(db->db->ListTrees(&list));
  if (list.empty()) return Status::OK();
  *names = PackNames(list);
  *count = list.size();
  return Status::OK();
}

}  // namespace

Status TreeOf(const sombra_tree* tree, Tree** out) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(tree, "tree"));
  *out = tree->tree;
  return Status::OK();
}

}  // namespace sombra::capi

using sombra::capi::Guard;

extern "C" {

sombra_status sombra_db_open_tree(sombra_db* db, const char* name, size_t name_len,
                                  sombra_tree** tree, sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::OpenTree(db, name, name_len, tree); });
}

sombra_tree* sombra_db_default_tree(sombra_db* db) {
  return db == nullptr ? nullptr : &db->default_tree;
}

sombra_status sombra_db_drop_tree(sombra_db* db, const char* name, size_t name_len,
                                  sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckBytes(name, name_len, "name"));
    return db->db->DropTree(sombra::capi::Bytes(name, name_len));
  });
}

sombra_status sombra_db_list_trees(sombra_db* db, sombra_name** names, size_t* count,
                                   sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::ListTrees(db, names, count); });
}

const char* sombra_tree_name(const sombra_tree* tree, size_t* name_len) {
  if (tree == nullptr) {
    if (name_len != nullptr) *name_len = 0;
    return "";
  }
  const std::string& name = tree->tree->name();
  if (name_len != nullptr) *name_len = name.size();
  return name.c_str();
}

}  // extern "C"
