// Fuzz target: DB::Open (read-only, then writable: recovery replays the
// log) + Verify + full forward and reverse scans, on an arbitrary page file
// and log (fuzz_util.h: the input holds both).
//
// Invariant: no crash, sanitizer report or hang; every failure is a Status
// with a message; when Verify accepts the database, both scans succeed,
// keys ascend, the reverse scan is the forward scan backwards, and every
// scanned key reads back with Get.
#include <sombra/db.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_util.h"

using namespace sombra;

namespace {

void CheckError(const Status& s, const char* what) {
  if (!s.ok() && s.message().empty()) fuzz::Fail(std::string(what) + ": error without a message");
}

void CheckDatabase(DB* db) {
  Status v = db->Verify();
  CheckError(v, "Verify");
  std::unique_ptr<ReadTxn> txn;
  Status s = db->BeginRead(&txn);
  CheckError(s, "BeginRead");
  if (!s.ok()) return;
  std::vector<std::pair<std::string, std::string>> forward, reverse;
  auto c = txn->NewCursor();
  for (c->SeekToFirst(); c->Valid() && forward.size() < 100000; c->Next()) {
    forward.emplace_back(std::string(c->key()), std::string(c->value()));
  }
  Status fs = c->status();
  CheckError(fs, "forward scan");
  auto r = txn->NewCursor();
  for (r->SeekToLast(); r->Valid() && reverse.size() < 100000; r->Prev()) {
    reverse.emplace_back(std::string(r->key()), std::string(r->value()));
  }
  Status rs = r->status();
  CheckError(rs, "reverse scan");
  if (!v.ok()) return;  // a clean error: nothing more is promised
  if (!fs.ok() || !rs.ok()) fuzz::Fail("Verify accepted a database whose scan fails");
  for (size_t i = 1; i < forward.size(); ++i) {
    if (!(forward[i - 1].first < forward[i].first)) fuzz::Fail("scan keys do not ascend");
  }
  if (forward.size() != reverse.size()) fuzz::Fail("forward and reverse scans differ in length");
  for (size_t i = 0; i < forward.size(); ++i) {
    if (forward[i] != reverse[reverse.size() - 1 - i]) fuzz::Fail("reverse scan differs");
    std::string value;
    Status g = txn->Get(forward[i].first, &value);
    if (!g.ok() || value != forward[i].second) fuzz::Fail("a scanned key does not read back");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::FilePair files = fuzz::Split(data, size);
  const std::string path = fuzz::LayOut(files);
  for (bool read_only : {true, false}) {
    Options options;
    options.read_only = read_only;
    options.create_if_missing = false;
    options.durability = Durability::kOff;  // no fdatasync per run
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, path, &db);
    CheckError(s, read_only ? "Open (read-only)" : "Open");
    if (s.ok()) CheckDatabase(db.get());
  }
  return 0;
}
