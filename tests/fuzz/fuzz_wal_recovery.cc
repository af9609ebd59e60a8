// Fuzz target: the write-ahead log reader, through recovery. The page file
// is a fixed small database (wal_base.db); the input is its log.
//
// Invariant: as fuzz_db_open (no crash, errors with messages, a database
// Verify accepts scans consistently); in addition, the log file is never
// changed by a read-only open.
#include <sombra/db.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "fuzz_util.h"

using namespace sombra;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The page file beside the seed logs (tests/fuzz/corpus/wal_base.db,
// made by fuzz_seeds): 300 keys checkpointed, six transactions in its log.
const std::string& BasePageFile() {
  static const std::string bytes = [] {
    std::string out = ReadAll(SOMBRA_FUZZ_WAL_BASE);
    if (out.empty()) fuzz::Fail("cannot read " SOMBRA_FUZZ_WAL_BASE);
    return out;
  }();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& base = BasePageFile();
  const std::string log(reinterpret_cast<const char*>(data), size);
  const std::string path = fuzz::LayOut(fuzz::FilePair{base, log});
  for (bool read_only : {true, false}) {
    Options options;
    options.read_only = read_only;
    options.create_if_missing = false;
    options.durability = Durability::kOff;
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, path, &db);
    if (!s.ok() && s.message().empty()) fuzz::Fail("Open: error without a message");
    if (read_only && ReadAll(path + "-wal") != log) fuzz::Fail("a read-only open changed the log");
    if (!s.ok()) continue;
    Status v = db->Verify();
    if (!v.ok() && v.message().empty()) fuzz::Fail("Verify: error without a message");
    std::unique_ptr<ReadTxn> txn;
    if (!db->BeginRead(&txn).ok()) continue;
    auto c = txn->NewCursor();
    std::string previous;
    bool first = true;
    for (c->SeekToFirst(); c->Valid(); c->Next()) {
      std::string key(c->key());
      if (v.ok() && !first && !(previous < key)) fuzz::Fail("scan keys do not ascend");
      previous = std::move(key);
      first = false;
    }
    if (v.ok() && !c->status().ok()) fuzz::Fail("Verify accepted a database whose scan fails");
  }
  return 0;
}
