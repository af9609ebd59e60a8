// Helpers shared by the DB tests (tests/unit/db): opening, whole-database
// dumps through a cursor, raw file inspection and patching.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sombra/db.h"
#include "testutil/patch_file.h"
#include "testutil/temp_dir.h"
#include "wal/wal_format.h"

namespace sombra::dbtest {

using KV = std::map<std::string, std::string>;

// Options for tests that do not test durability: no fdatasync.
inline Options FastOptions(uint32_t page_size = 4096) {
  Options o;
  o.page_size = page_size;
  o.durability = Durability::kOff;
  return o;
}

inline std::string DurabilityName(Durability d) {
  switch (d) {
    case Durability::kFull:
      return "Full";
    case Durability::kNormal:
      return "Normal";
    case Durability::kOff:
      return "Off";
  }
  return "Unknown";
}

inline std::unique_ptr<DB> OpenOrDie(const Options& o, const std::string& path) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path, &db);
  EXPECT_TRUE(s.ok()) << "Open " << path << ": " << s.ToString();
  return db;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// An existing key of `m` half of the time (the first at or after a random
// key), else a random one: the model tests' key choice. `random_key`
// draws from the caller's distribution and generator.
template <class Rng, class RandomKeyFn>
std::string PickKey(Rng& rng, const KV& m, RandomKeyFn random_key) {
  if (!m.empty() && rng() % 2 == 0) {
    auto it = m.lower_bound(random_key());
    if (it == m.end()) it = m.begin();
    return it->first;
  }
  return random_key();
}

// Every (key, value) a cursor yields from SeekToFirst; the cursor's status
// must stay OK.
inline KV Dump(Cursor* c) {
  KV out;
  std::string prev;
  bool first = true;
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    std::string k(c->key());
    if (!first) {
      EXPECT_LT(prev, k) << "cursor order";
    }
    first = false;
    prev = k;
    out.emplace(std::move(k), std::string(c->value()));
  }
  EXPECT_TRUE(c->status().ok()) << c->status().ToString();
  return out;
}

// The same, walking backwards from SeekToLast.
inline KV DumpReverse(Cursor* c) {
  KV out;
  std::string prev;
  bool first = true;
  for (c->SeekToLast(); c->Valid(); c->Prev()) {
    std::string k(c->key());
    if (!first) {
      EXPECT_GT(prev, k) << "reverse cursor order";
    }
    first = false;
    prev = k;
    out.emplace(std::move(k), std::string(c->value()));
  }
  EXPECT_TRUE(c->status().ok()) << c->status().ToString();
  return out;
}

inline KV DumpDb(DB* db) {
  std::unique_ptr<ReadTxn> r;
  Status s = db->BeginRead(&r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  auto c = r->NewCursor();
  return Dump(c.get());
}

// A short description of the first difference between two maps ("" if
// equal), so that failures do not print megabytes.
inline std::string DiffKV(const KV& got, const KV& want) {
  auto g = got.begin();
  auto w = want.begin();
  auto show = [](const std::string& s) {
    std::string out;
    for (unsigned char ch : s.substr(0, 40)) {
      char buf[8];
      if (ch >= 0x20 && ch < 0x7f) {
        out += static_cast<char>(ch);
      } else {
        std::snprintf(buf, sizeof(buf), "\\x%02x", ch);
        out += buf;
      }
    }
    if (s.size() > 40) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
  };
  for (; g != got.end() && w != want.end(); ++g, ++w) {
    if (g->first != w->first) {
      return "key mismatch: got '" + show(g->first) + "', want '" + show(w->first) + "'";
    }
    if (g->second != w->second) {
      return "value mismatch at key '" + show(g->first) + "': got " +
             std::to_string(g->second.size()) + " bytes '" + show(g->second) + "', want " +
             std::to_string(w->second.size()) + " bytes '" + show(w->second) + "'";
    }
  }
  if (g != got.end()) return "extra key '" + show(g->first) + "'";
  if (w != want.end()) return "missing key '" + show(w->first) + "'";
  return "";
}

// Bytes, size and modification time of a file (or "absent").
struct FileImage {
  bool exists = false;
  std::string bytes;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileImage& o) const {
    return exists == o.exists && bytes == o.bytes && size == o.size && mtime_ns == o.mtime_ns;
  }
};

inline FileImage ImageOf(const std::string& path) {
  FileImage img;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return img;
  img.exists = true;
  img.size = st.st_size;
  img.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  img.bytes = sombra::test::ReadFileOrDie(path);
  return img;
}

inline bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

inline uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

using ::sombra::test::PatchFile;

inline void FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0x5a) {
  std::string all = sombra::test::ReadFileOrDie(path);
  ASSERT_LT(offset, all.size()) << path;
  std::string b(1, static_cast<char>(static_cast<uint8_t>(all[offset]) ^ mask));
  PatchFile(path, offset, b);
}

inline uint32_t Le32(const std::string& s, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[off + i]);
  return v;
}
inline uint16_t Le16(const std::string& s, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[off]) |
                               (static_cast<uint8_t>(s[off + 1]) << 8));
}
inline uint64_t Le64(const std::string& s, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[off + i]);
  return v;
}

// docs/format/file.md: the meta page in force (higher checkpoint sequence of
// pages 0 and 1, both assumed valid), as (checkpoint sequence, LSN).
struct MetaInfo {
  uint64_t checkpoint_seq = 0;
  uint64_t checkpoint_lsn = 0;
  uint64_t page_count = 0;
  uint32_t page_size = 0;
};
inline MetaInfo ReadMeta(const std::string& file_bytes, uint32_t page_size) {
  MetaInfo best;
  for (uint32_t slot = 0; slot < 2; ++slot) {
    size_t base = size_t{slot} * page_size;
    if (file_bytes.size() < base + 88) break;
    if (file_bytes.compare(base + 24, 8, "SOMBRADB") != 0) continue;
    MetaInfo m;
    m.page_size = Le32(file_bytes, base + 36);
    m.page_count = Le64(file_bytes, base + 48);
    m.checkpoint_seq = Le64(file_bytes, base + 72);
    m.checkpoint_lsn = Le64(file_bytes, base + 80);
    if (m.checkpoint_seq >= best.checkpoint_seq) best = m;
  }
  return best;
}

// Records of the current WAL generation (docs/format/wal.md): offset, type
// and payload length of each, walking from the first record until a zero
// type.
struct WalRecord {
  uint64_t offset;
  uint8_t type;
  uint32_t length;
};
inline std::vector<WalRecord> WalRecords(const std::string& wal) {
  std::vector<WalRecord> out;
  uint64_t off = wal::kWalHeaderSize;
  while (off + 16 <= wal.size()) {
    uint8_t type = static_cast<uint8_t>(wal[off]);
    if (type < 1 || type > wal::kMaxRecordType) break;
    uint32_t len = Le32(wal, off + 4);
    if (off + 16 + len > wal.size()) break;
    out.push_back({off, type, len});
    off += 16 + len;
  }
  return out;
}

// A key of `len` bytes built from `n` (distinct for distinct n when len >= 8).
inline std::string NumKey(uint64_t n, size_t len = 8) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08llu", static_cast<unsigned long long>(n));
  std::string k(buf);
  if (k.size() < len) k.append(len - k.size(), '.');
  return k;
}

// A value of `len` bytes whose content depends on `seed`.
inline std::string FillValue(size_t len, uint64_t seed) {
  std::string v(len, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < len; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v[i] = static_cast<char>(x);
  }
  return v;
}

}  // namespace sombra::dbtest
