// capi/c_get.cc: Get of ReadTxn and WriteTxn, three ways out: into the
// caller's buffer (BufferTooSmall with the length when it does not fit),
// as a malloc'd copy, or as a view of the transaction's own buffer.
//
// The C++ Get copies the value into a std::string; the view is that
// string, kept in the transaction until its next get_view or its end.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

// The checks every get makes, in order, then the C++ Get into *value.
Status Get(sombra_txn* txn, const sombra_tree* tree, bool with_tree, const void* key,
           size_t key_len, const void* out, const char* out_name, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen(txn));
  Tree* t = nullptr;
  if (with_tree) SOMBRA_RETURN_IF_ERROR(TreeOf(tree, &t));
  SOMBRA_RETURN_IF_ERROR(CheckHandle(out, out_name));
  SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
  const std::string_view k = Bytes(key, key_len);
  if (txn->write != nullptr) {
    return t == nullptr ? txn->write->Get(k, value) : txn->write->Get(t, k, value);
  }
  return t == nullptr ? txn->read->Get(k, value) : txn->read->Get(t, k, value);
}

sombra_status GetCopy(sombra_txn* txn, const sombra_tree* tree, bool with_tree, const void* key,
                      size_t key_len, void* buf, size_t buf_size, size_t* value_len,
                      sombra_error** err) {
  std::string value;
  const sombra_status s = Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckBytes(buf, buf_size, "buf"));
    return Get(txn, tree, with_tree, key, key_len, value_len, "value_len", &value);
  });
  if (s != SOMBRA_OK) return s;
  return CopyOut(value, buf, buf_size, value_len, err);
}

sombra_status GetAlloc(sombra_txn* txn, const sombra_tree* tree, bool with_tree, const void* key,
                       size_t key_len, void** value, size_t* value_len, sombra_error** err) {
  return Guard(err, [&] {
    if (value != nullptr) *value = nullptr;
    std::string v;
    SOMBRA_RETURN_IF_ERROR(Get(txn, tree, with_tree, key, key_len, value, "value", &v));
    *value = AllocCopy(v);
    if (value_len != nullptr) *value_len = v.size();
    return Status::OK();
  });
}

sombra_status GetView(sombra_txn* txn, const sombra_tree* tree, bool with_tree, const void* key,
                      size_t key_len, const void** value, size_t* value_len, sombra_error** err) {
  return Guard(err, [&] {
    if (value != nullptr) *value = nullptr;
    SOMBRA_RETURN_IF_ERROR(CheckOpen(txn));  // before txn->view is touched
    SOMBRA_RETURN_IF_ERROR(Get(txn, tree, with_tree, key, key_len, value, "value", &txn->view));
    *value = txn->view.c_str();
    if (value_len != nullptr) *value_len = txn->view.size();
    return Status::OK();
  });
}

}  // namespace

sombra_status CopyOut(const std::string& value, void* buf, size_t buf_size, size_t* value_len,
                      sombra_error** err) noexcept {
  *value_len = value.size();
  if (value.size() > buf_size) {
    char message[128];
    std::snprintf(message, sizeof(message),
                  "value of %zu bytes does not fit a buffer of %zu bytes; nothing was copied",
                  value.size(), buf_size);
    return Fail(err, SOMBRA_BUFFER_TOO_SMALL, message);
  }
  if (!value.empty()) std::memcpy(buf, value.data(), value.size());
  return SOMBRA_OK;
}

void* AllocCopy(const std::string& value) {
  void* copy = std::malloc(value.size() + 1);
  if (copy == nullptr) throw std::bad_alloc();
  if (!value.empty()) std::memcpy(copy, value.data(), value.size());
  static_cast<char*>(copy)[value.size()] = '\0';
  return copy;
}

}  // namespace sombra::capi

using sombra::capi::GetAlloc;
using sombra::capi::GetCopy;
using sombra::capi::GetView;

extern "C" {

sombra_status sombra_txn_get(sombra_txn* txn, const void* key, size_t key_len, void* buf,
                             size_t buf_size, size_t* value_len, sombra_error** err) {
  return GetCopy(txn, nullptr, false, key, key_len, buf, buf_size, value_len, err);
}

sombra_status sombra_txn_get_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                  size_t key_len, void* buf, size_t buf_size, size_t* value_len,
                                  sombra_error** err) {
  return GetCopy(txn, tree, true, key, key_len, buf, buf_size, value_len, err);
}

sombra_status sombra_txn_get_alloc(sombra_txn* txn, const void* key, size_t key_len, void** value,
                                   size_t* value_len, sombra_error** err) {
  return GetAlloc(txn, nullptr, false, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_get_alloc_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                        size_t key_len, void** value, size_t* value_len,
                                        sombra_error** err) {
  return GetAlloc(txn, tree, true, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_get_view(sombra_txn* txn, const void* key, size_t key_len,
                                  const void** value, size_t* value_len, sombra_error** err) {
  return GetView(txn, nullptr, false, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_get_view_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                       size_t key_len, const void** value, size_t* value_len,
                                       sombra_error** err) {
  return GetView(txn, tree, true, key, key_len, value, value_len, err);
}

}  // extern "C"
