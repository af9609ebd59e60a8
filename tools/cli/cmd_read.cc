// cli/cmd_read.cc: get, count, scan and dump (read_only opens), of the
// default tree or the one --tree names. Each reads one snapshot, which a writer in another process
// cannot change or fail (docs/design/readers.md); a note on stderr says when one was live.
#include <memory>
#include <string>

#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "cli/escape.h"
#include "cli/record_io.h"

namespace sombra::cli {

namespace {

// Output is flushed in chunks of about this many bytes.
constexpr size_t kFlushBytes = 1 << 16;

// Scans [from, to) forward, or backward from the high end, writing each
// record to out. Returns the cursor's final status.
Status ScanRange(const Invocation& inv, Cursor* cursor) {
  const std::string_view from = inv.from ? std::string_view(*inv.from) : std::string_view();
  const std::string_view to = inv.to ? std::string_view(*inv.to) : std::string_view();
  if (!inv.reverse) {
    if (inv.from) {
      cursor->Seek(from);
    } else {
      cursor->SeekToFirst();
    }
  } else if (inv.to) {
    cursor->Seek(to);
    if (cursor->Valid()) {
      cursor->Prev();
    } else if (cursor->status().ok()) {
      cursor->SeekToLast();
    }
  } else {
    cursor->SeekToLast();
  }
  std::string buf;
  uint64_t count = 0;
  while (cursor->Valid()) {
    if (inv.limit && count >= *inv.limit) break;
    const std::string_view key = cursor->key();
    if (!inv.reverse && inv.to && key >= to) break;
    if (inv.reverse && inv.from && key < from) break;
    AppendRecord(inv.format, inv.hex, key, cursor->value(), inv.keys_only, &buf);
    count++;
    if (buf.size() >= kFlushBytes) {
      inv.out->write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
    if (inv.reverse) {
      cursor->Prev();
    } else {
      cursor->Next();
    }
  }
  inv.out->write(buf.data(), static_cast<std::streamsize>(buf.size()));
  inv.out->flush();
  return cursor->status();
}

// Opens the database read-only, finds the tree (a missing one is
// NotFound: a read-only handle never creates one) and begins the one
// snapshot a command reads.
Status OpenSnapshot(const Invocation& inv, std::unique_ptr<DB>* db, Tree** tree,
                    std::unique_ptr<ReadTxn>* txn) {
  Status s = OpenDb(inv, /*write=*/false, /*create=*/false, db);
  if (s.ok()) s = OpenTreeOf(inv, db->get(), /*create=*/false, tree);
  return s.ok() ? (*db)->BeginRead(txn) : s;
}

}  // namespace

int RunGet(const Invocation& inv) {
  std::string key;
  if (!DecodeOperand(inv, inv.operands[1], "KEY", &key)) return kExitError;
  // One snapshot, as DB::Get takes, kept to name its LSN.
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<ReadTxn> txn;
  Status s = OpenSnapshot(inv, &db, &tree, &txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  std::string value;
  s = txn->Get(tree, key, &value);
  const uint64_t lsn = txn->Sequence();
  txn.reset();
  if (s.IsNotFound()) {
    return Fail(inv, kExitNotFound, Status::NotFound("key \"" + Escape(key) + "\""));
  }
  if (!s.ok()) return Fail(inv, kExitError, s);
  if (inv.hex) value = HexEncode(value);
  value.push_back('\n');
  inv.out->write(value.data(), static_cast<std::streamsize>(value.size()));
  inv.out->flush();
  NoteIfLive(inv, db.get(), lsn);
  return kExitOk;
}

int RunCount(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<ReadTxn> txn;
  Status s = OpenSnapshot(inv, &db, &tree, &txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  uint64_t count = 0;
  {
    std::unique_ptr<Cursor> cursor = txn->NewCursor(tree);
    if (inv.from) {
      cursor->Seek(*inv.from);
    } else {
      cursor->SeekToFirst();
    }
    for (; cursor->Valid(); cursor->Next()) {
      if (inv.to && cursor->key() >= *inv.to) break;
      ++count;
    }
    s = cursor->status();
  }
  const uint64_t lsn = txn->Sequence();
  txn.reset();
  if (!s.ok()) return Fail(inv, kExitError, s);
  *inv.out << count << "\n";
  inv.out->flush();
  NoteIfLive(inv, db.get(), lsn);
  return kExitOk;
}

int RunScan(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Tree* tree = nullptr;
  std::unique_ptr<ReadTxn> txn;
  Status s = OpenSnapshot(inv, &db, &tree, &txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  {
    std::unique_ptr<Cursor> cursor = txn->NewCursor(tree);
    s = ScanRange(inv, cursor.get());
  }
  const uint64_t lsn = txn->Sequence();
  txn.reset();
  if (!s.ok()) return Fail(inv, kExitError, s);
  NoteIfLive(inv, db.get(), lsn);
  return kExitOk;
}

}  // namespace sombra::cli
