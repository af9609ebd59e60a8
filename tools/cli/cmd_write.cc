// cli/cmd_write.cc: put, del, delrange, load, checkpoint and compact (writable
// opens), on the default tree or the one --tree names: put and load create
// it when missing, del and delrange do not.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "cli/escape.h"
#include "cli/progress.h"
#include "cli/record_io.h"
#include "db/db_txn.h"

namespace sombra::cli {

namespace {

// Records between two looks at the clock by the progress line.
constexpr uint64_t kProgressEvery = 1024;

// load's input: FILE, or inv.in when there is none or it is "-". *in_size
// is FILE's size when it is a regular file, else -1 (a pipe or a FIFO such
// as bash's <(...) has no size: no ETA then).
Status OpenInput(const Invocation& inv, std::ifstream* file, std::istream** in, int64_t* in_size) {
  if (inv.operands.size() < 2 || inv.operands[1] == "-") return Status::OK();
  const std::string& name = inv.operands[1];
  file->open(name, std::ios::binary);
  if (!*file) {
    const int e = errno;
    return Status::IOError("cannot open input file " + name + ": " + std::strerror(e), e);
  }
  std::error_code ec;
  *in_size = -1;
  if (std::filesystem::is_regular_file(name, ec)) {
    const uintmax_t size = std::filesystem::file_size(name, ec);
    if (!ec) *in_size = static_cast<int64_t>(size);
  }
  *in = file;
  return Status::OK();
}

// A writable open of the database, its tree (--tree, else the default;
// `create`: the database and the tree are made when missing) and a write
// transaction: the start of put, del and delrange.
Status BeginTreeWrite(const Invocation& inv, bool create, std::unique_ptr<DB>* db, Tree** tree,
                      std::unique_ptr<WriteTxn>* txn) {
  Status s = OpenDb(inv, /*write=*/true, create, db);
  if (s.ok()) s = OpenTreeOf(inv, db->get(), create, tree);
  if (s.ok()) s = (*db)->BeginWrite(txn);
  return s;
}

}  // namespace

int RunPut(const Invocation& inv) {
  std::string key, value;
  if (!DecodeOperand(inv, inv.operands[1], "KEY", &key) ||
      !DecodeOperand(inv, inv.operands[2], "VALUE", &value)) {
    return kExitError;
  }
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<WriteTxn> txn;
  Status s = BeginTreeWrite(inv, /*create=*/true, &db, &tree, &txn);
  if (s.ok()) s = txn->Put(tree, key, value);
  if (s.ok()) s = txn->Commit();
  if (!s.ok()) return Fail(inv, kExitError, s);
  return kExitOk;
}

// Deletes inside one write transaction that first looks the key up, so the
// exit status says whether it was there.
int RunDel(const Invocation& inv) {
  std::string key;
  if (!DecodeOperand(inv, inv.operands[1], "KEY", &key)) return kExitError;
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<WriteTxn> txn;
  Status s = BeginTreeWrite(inv, /*create=*/false, &db, &tree, &txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  std::string ignored;
  s = txn->Get(tree, key, &ignored);
  if (s.IsNotFound()) {
    txn->Abort();
    return Fail(inv, kExitNotFound, Status::NotFound("key \"" + Escape(key) + "\""));
  }
  if (s.ok()) s = txn->Delete(tree, key);
  if (s.ok()) s = txn->Commit();
  if (!s.ok()) return Fail(inv, kExitError, s);
  return kExitOk;
}

int RunLoad(const Invocation& inv) {
  std::istream* in = inv.in;
  int64_t in_size = inv.in_size;
  std::ifstream file;
  Status s = OpenInput(inv, &file, &in, &in_size);
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  if (s.ok()) s = OpenDb(inv, /*write=*/true, /*create=*/true, &db);
  if (s.ok()) s = OpenTreeOf(inv, db.get(), /*create=*/true, &tree);
  if (!s.ok()) return Fail(inv, kExitError, s);

  RecordReader reader(*in, inv.format, inv.hex);
  Progress progress(*inv.err, inv.err_is_tty, in_size);
  std::unique_ptr<WriteTxn> txn;
  std::string key, value;
  uint64_t records = 0;
  uint64_t in_batch = 0;
  // On any failure the open batch is aborted (by txn's destructor); the
  // batches committed before it stay.
  auto fail_at_line = [&](const Status& st) {
    progress.Finish(records, reader.bytes_read());
    return Fail(inv, kExitError, st.WithContext("line " + std::to_string(reader.line())));
  };
  while (reader.Next(&key, &value)) {
    if (txn == nullptr) {
      s = db->BeginWrite(&txn);
      if (!s.ok()) return fail_at_line(s);
    }
    s = inv.sorted ? txn->Append(tree, key, value) : txn->Put(tree, key, value);
    if (inv.sorted && s.IsInvalidArgument() &&
        s.message().find("does not sort after") != std::string::npos) {
      s = Status::InvalidArgument("the input is not sorted: key \"" + Escape(key) +
                                  "\" does not sort after the keys before it (load --sorted "
                                  "needs ascending keys, each after every key already stored; "
                                  "load without --sorted takes any order)");
    }
    if (!s.ok()) return fail_at_line(s);
    records++;
    if (++in_batch == inv.batch) {
      s = txn->Commit();
      if (!s.ok()) return fail_at_line(s);
      txn.reset();
      in_batch = 0;
    }
    if (records % kProgressEvery == 0) progress.Update(records, reader.bytes_read());
  }
  if (!reader.error().empty()) {
    progress.Finish(records, reader.bytes_read());
    return Fail(inv, kExitError, Status::InvalidArgument(reader.error()));
  }
  if (in->bad()) {
    progress.Finish(records, reader.bytes_read());
    return Fail(inv, kExitError, Status::IOError("cannot read the input"));
  }
  if (txn != nullptr) {
    s = txn->Commit();
    if (!s.ok()) return fail_at_line(s);
    txn.reset();
  }
  progress.Finish(records, reader.bytes_read());
  return kExitOk;
}

// One write transaction; prints how many keys were deleted.
int RunDelRange(const Invocation& inv) {
  std::string begin, end;
  if (!DecodeOperand(inv, inv.operands[1], "BEGIN", &begin) ||
      !DecodeOperand(inv, inv.operands[2], "END", &end)) {
    return kExitError;
  }
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<WriteTxn> txn;
  Status s = BeginTreeWrite(inv, /*create=*/false, &db, &tree, &txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  uint64_t deleted = 0;
  auto* impl = dynamic_cast<db::WriteTxnImpl*>(txn.get());
  s = impl != nullptr ? impl->DeleteRange(tree, begin, end, &deleted)
                      : txn->DeleteRange(tree, begin, end);
  if (s.ok()) s = txn->Commit();
  if (!s.ok()) return Fail(inv, kExitError, s);
  *inv.out << deleted << "\n";
  return kExitOk;
}

int RunCheckpoint(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/true, /*create=*/false, &db);
  if (!s.ok()) return Fail(inv, kExitError, s);
  s = db->Checkpoint();
  if (!s.ok()) return Fail(inv, kExitError, s);
  return kExitOk;
}

int RunCompact(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/true, /*create=*/false, &db);
  if (!s.ok()) return Fail(inv, kExitError, s);
  CompactStats st;
  s = db->Compact(&st);
  if (!s.ok()) return Fail(inv, kExitError, s);
  if (inv.json) {
    *inv.out << "{\"path\": " << JsonString(inv.db_path()) << ", \"steps\": " << st.steps
             << ", \"pages_moved\": " << st.pages_moved
             << ", \"pages_given_back\": " << st.pages_given_back
             << ", \"file_bytes_before\": " << st.file_bytes_before
             << ", \"file_bytes_after\": " << st.file_bytes_after << ", \"seconds\": " << st.seconds
             << "}\n";
  } else {
    char line[200];
    std::snprintf(line, sizeof(line),
                  "%llu pages moved, %llu pages given back, file %llu -> %llu bytes in %.3f s",
                  static_cast<unsigned long long>(st.pages_moved),
                  static_cast<unsigned long long>(st.pages_given_back),
                  static_cast<unsigned long long>(st.file_bytes_before),
                  static_cast<unsigned long long>(st.file_bytes_after), st.seconds);
    *inv.out << inv.db_path() << ": " << line << "\n";
  }
  inv.out->flush();
  return kExitOk;
}

}  // namespace sombra::cli
