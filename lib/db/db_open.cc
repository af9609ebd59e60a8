// db/db_open.cc: DB::Open (option validation, the page-size check against
// an existing file), DestroyDB and the out-of-line destructors of db.h.
#include <cstdint>
#include <memory>
#include <string>

#include "db/db_impl.h"
#include "pager/format.h"

namespace sombra {

Cursor::~Cursor() = default;
Tree::~Tree() = default;
ReadTxn::~ReadTxn() = default;
WriteTxn::~WriteTxn() = default;
DB::~DB() = default;

Status DB::Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db) {
  return db::OpenWithEnv(Env::Default(), options, path, db);
}

Status DestroyDB(const std::string& path) {
  Env* env = Env::Default();
  if (!env->FileExists(path)) return Status::NotFound("database does not exist: " + path);
  for (const char* suffix : {"-wal", "-wal.salvaged", "-wal.carry", "-dwb", "-lock", "-shm", ""}) {
    const std::string file = path + suffix;
    if (env->FileExists(file)) SOMBRA_RETURN_IF_ERROR(env->RemoveFile(file));
  }
  return Status::OK();
}

namespace db {

Status ValidateOptions(const Options& options, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  if (!pager::IsValidPageSize(options.page_size)) {
    return Status::InvalidArgument("page_size " + std::to_string(options.page_size) + " for " +
                                   path + " is not a power of two from 4096 to 65536");
  }
  if (options.wal_checkpoint_bytes < (uint64_t{1} << 16)) {
    return Status::InvalidArgument("wal_checkpoint_bytes " +
                                   std::to_string(options.wal_checkpoint_bytes) + " for " + path +
                                   " is below the minimum of 65536");
  }
  switch (options.durability) {
    case Durability::kFull:
    case Durability::kNormal:
    case Durability::kOff:
      break;
    default:
      return Status::InvalidArgument("unknown durability for " + path);
  }
  if (options.read_only && options.error_if_exists) {
    return Status::InvalidArgument("read_only and error_if_exists together for " + path);
  }
  return Status::OK();
}

Status OpenWithEnv(Env* env, const Options& options, const std::string& path,
                   std::unique_ptr<DB>* db) {
  db->reset();
  SOMBRA_RETURN_IF_ERROR(ValidateOptions(options, path));
  if (env->IsDirectory(path)) {
    return Status::InvalidArgument(path + " is a directory, not a Sombra database");
  }
  const bool exists = env->FileExists(path);
  // A missing page file beside a log: the pager refuses it (Corruption
  // naming both files) when the log holds records.
  if (!exists) {
    if (options.read_only && !env->FileExists(path + "-wal")) {
      return Status::NotFound("database does not exist (read_only open): " + path);
    }
    if (!options.create_if_missing && !env->FileExists(path + "-wal")) {
      return Status::NotFound("database does not exist (create_if_missing is false): " + path);
    }
  } else {
    SOMBRA_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    if (options.error_if_exists && size > 0) {
      return Status::InvalidArgument("database already exists (error_if_exists): " + path);
    }
    // options.page_size applies only to a new file: an existing database
    // opens with the page size its meta page records (the pager reads it),
    // as SQLite does; DB::page_size() reports it.
  }
  auto metrics = std::make_unique<MetricsRegistry>();
  pager::PagerOptions pager_options;
  pager_options.salvage_wal = options.salvage_wal;
  SOMBRA_ASSIGN_OR_RETURN(auto pager,
                          pager::Pager::Open(env, path, options, pager_options, metrics.get()));
  *db = std::make_unique<DBImpl>(std::move(metrics), std::move(pager), env);
  return Status::OK();
}

}  // namespace db
}  // namespace sombra
