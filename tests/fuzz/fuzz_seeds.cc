// fuzz_seeds: writes the seed corpora of the fuzz targets (docs/fuzzing.md).
//
//   fuzz_seeds OUT_DIR     OUT_DIR/{leaf_page,internal_page,db_open,inspect,
//                          wal_recovery}/ and OUT_DIR/wal_base.db
//
// The seeds are committed under tests/fuzz/corpus; run this again only
// when a format changes (scripts/fuzz.sh --seeds).
#include <sombra/db.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "pager/format.h"

using namespace sombra;
namespace fs = std::filesystem;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The two-file encoding of fuzz_util.h.
std::string Pair(const std::string& db, const std::string& wal) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((db.size() >> (8 * i)) & 0xff);
  return out + db + wal;
}

// Drops the preallocated zeros at the end of a file, keeping `keep` zero
// bytes after the last byte that is not 0, rounded up to `unit` (4096: page
// files stay whole pages).
std::string StripZeroTail(std::string bytes, size_t keep, size_t unit) {
  size_t end = bytes.find_last_not_of('\0');
  end = end == std::string::npos ? 0 : end + 1 + keep;
  end = (end + unit - 1) / unit * unit;
  if (end < bytes.size()) bytes.resize(end);
  return bytes;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "fuzz_seeds: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  const std::string path = (fs::temp_directory_path() / "sombra-fuzz-seeds.db").string();
  (void)DestroyDB(path);
  std::string crash_db, crash_wal;
  {
    Options options;
    options.durability = Durability::kFull;
    std::unique_ptr<DB> db;
    Check(DB::Open(options, path, &db), "open");
    std::unique_ptr<WriteTxn> txn;
    Check(db->BeginWrite(&txn), "begin");
    for (int i = 0; i < 300; ++i) {
      Check(txn->Put("key" + std::to_string(i * 7919 % 1000), std::string(i % 40, 'v')), "put");
    }
    Check(txn->Commit(), "commit");
    Check(db->Checkpoint(), "checkpoint");
    // Six transactions that live only in the log. The last changes every
    // leaf: its page ops form an ops group large enough to be stored
    // lz4-compressed (docs/format/wal.md, "Ops group (type 5)").
    Check(db->Put("key5", std::string(5000, 'o')), "put overflow");
    Check(db->Delete("key7"), "delete");
    Check(db->Put("zz", "last"), "put");
    Check(db->Put("aa", "first"), "put");
    Check(db->Put("key5", "short again"), "put");
    Check(db->BeginWrite(&txn), "begin");
    for (int i = 0; i < 300; i += 3) {
      Check(txn->Put("key" + std::to_string(i * 7919 % 1000), std::string(i % 40, 'w')), "put");
    }
    Check(txn->Commit(), "commit");
    // As a crash would leave them, less the preallocated zeros.
    crash_db = StripZeroTail(ReadAll(path), 0, 4096);
    crash_wal = StripZeroTail(ReadAll(path + "-wal"), 64, 1);
  }
  const std::string clean_db = ReadAll(path);
  const std::string clean_wal = ReadAll(path + "-wal");
  (void)DestroyDB(path);

  Write(out / "wal_base.db", crash_db);
  Write(out / "wal_recovery" / "log-6-transactions", crash_wal);
  Write(out / "wal_recovery" / "log-header-only", clean_wal);
  for (const char* target : {"db_open", "inspect"}) {
    Write(out / target / "crashed-with-log", Pair(crash_db, crash_wal));
    Write(out / target / "closed-cleanly", Pair(clean_db, clean_wal));
  }
  const size_t ps = 4096;
  int leaves = 0, internals = 0;
  for (size_t off = 0; off + ps <= clean_db.size(); off += ps) {
    const std::string page = clean_db.substr(off, ps);
    const auto kind = static_cast<pager::PageKind>(page[pager::kHeaderKindOffset]);
    if (kind == pager::PageKind::kLeaf && leaves < 4) {
      Write(out / "leaf_page" / ("leaf-" + std::to_string(leaves++)), page);
    } else if (kind == pager::PageKind::kInternal && internals < 2) {
      Write(out / "internal_page" / ("internal-" + std::to_string(internals++)), page);
    }
  }
  std::printf("fuzz_seeds: %d leaf and %d internal pages, 2 database pairs, 2 logs in %s\n", leaves,
              internals, out.c_str());
  return leaves > 0 && internals > 0 ? 0 : 1;
}
