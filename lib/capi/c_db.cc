// capi/c_db.cc: sombra_db: open, close, DestroyDB, the one-operation
// transactions, Checkpoint, Verify and the database's properties.
#include <memory>
#include <string>

#include "capi/c_handles.h"
#include "sombra/limits.h"

namespace sombra::capi {
namespace {

Status Open(const char* path, const sombra_options* options, sombra_db** db) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db (the output)"));
  *db = nullptr;
  SOMBRA_RETURN_IF_ERROR(CheckHandle(path, "path"));
  Options cpp;
  SOMBRA_RETURN_IF_ERROR(ToCppOptions(options, &cpp).WithContext(path));
  auto handle = std::make_unique<sombra_db>();
  SOMBRA_RETURN_IF_ERROR(DB::Open(cpp, path, &handle->db));
  handle->default_tree.tree = handle->db->DefaultTree();
  *db = handle.release();
  return Status::OK();
}

Status Close(sombra_db* db) {
  if (db == nullptr) return Status::OK();
  if (const size_t open = db->txns.load(); open > 0) {
    return Status::InvalidArgument("close of " + db->db->path() + ": " + std::to_string(open) +
                                   " transaction handle(s) not freed (sombra_txn_free them "
                                   "first); the database stays open");
  }
  delete db;  // the DB's destructor checkpoints and releases the lock
  return Status::OK();
}

// The checks of the one-operation Put and Delete, in the C++ order: the
// arguments and their limits (sombra/limits.h) before the wait for the
// writer slot, which the writer's own thread is refused (Busy).
Status CheckDbWrite(const sombra_db* db, const char* what, const void* key, size_t key_len,
                    const void* value = nullptr, size_t value_len = 0) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
  SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
  SOMBRA_RETURN_IF_ERROR(CheckBytes(value, value_len, "value"));
  SOMBRA_RETURN_IF_ERROR(CheckKeySize(key_len, db->db->page_size()));
  SOMBRA_RETURN_IF_ERROR(CheckValueSize(value_len));
  return CheckNotWriter(db, what);
}

}  // namespace
}  // namespace sombra::capi

using sombra::Status;
using sombra::capi::Bytes;
using sombra::capi::CheckBytes;
using sombra::capi::CheckHandle;
using sombra::capi::Guard;

extern "C" {

sombra_status sombra_db_open(const char* path, const sombra_options* options, sombra_db** db,
                             sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::Open(path, options, db); });
}

sombra_status sombra_db_close(sombra_db* db, sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::Close(db); });
}

sombra_status sombra_destroy_db(const char* path, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(path, "path"));
    return sombra::DestroyDB(path);
  });
}

uint32_t sombra_db_page_size(const sombra_db* db) {
  return db == nullptr ? 0 : db->db->page_size();
}

size_t sombra_db_max_key_size(const sombra_db* db) {
  return db == nullptr ? 0 : db->db->MaxKeySize();
}

const char* sombra_db_path(const sombra_db* db) {
  return db == nullptr ? "" : db->db->path().c_str();
}

sombra_status sombra_db_put(sombra_db* db, const void* key, size_t key_len, const void* value,
                            size_t value_len, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(
        sombra::capi::CheckDbWrite(db, "sombra_db_put", key, key_len, value, value_len));
    return db->db->Put(Bytes(key, key_len), Bytes(value, value_len));
  });
}

sombra_status sombra_db_get(sombra_db* db, const void* key, size_t key_len, void* buf,
                            size_t buf_size, size_t* value_len, sombra_error** err) {
  std::string value;
  const sombra_status s = Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(CheckHandle(value_len, "value_len"));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(buf, buf_size, "buf"));
    return db->db->Get(Bytes(key, key_len), &value);
  });
  if (s != SOMBRA_OK) return s;
  return sombra::capi::CopyOut(value, buf, buf_size, value_len, err);
}

sombra_status sombra_db_get_alloc(sombra_db* db, const void* key, size_t key_len, void** value,
                                  size_t* value_len, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(CheckHandle(value, "value"));
    *value = nullptr;
    SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
    std::string v;
    SOMBRA_RETURN_IF_ERROR(db->db->Get(Bytes(key, key_len), &v));
    *value = sombra::capi::AllocCopy(v);
    if (value_len != nullptr) *value_len = v.size();
    return Status::OK();
  });
}

sombra_status sombra_db_delete(sombra_db* db, const void* key, size_t key_len, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckDbWrite(db, "sombra_db_delete", key, key_len));
    return db->db->Delete(Bytes(key, key_len));
  });
}

sombra_status sombra_db_checkpoint(sombra_db* db, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckNotWriter(db, "sombra_db_checkpoint"));
    return db->db->Checkpoint();
  });
}

sombra_status sombra_db_verify(sombra_db* db, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    return db->db->Verify();
  });
}

}  // extern "C"
