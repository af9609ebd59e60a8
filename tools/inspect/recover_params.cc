// recover: the page size and salt (docs/tools.md, "recover"). Without the
// salt no page checksum can be checked, so it is looked for wherever a copy
// may have survived: the fields of both meta pages as stored (a damaged
// meta page may still hold them), the log header's copy (as stored), and
// the page size given with --page-size.
#include <algorithm>
#include <cstring>

#include "inspect/inspect_internal.h"
#include "inspect/recover.h"
#include "util/coding.h"
#include "wal/wal_format.h"

namespace sombra::inspect::recover {
namespace {

// Data pages read per page size to score the candidate salts.
constexpr uint64_t kSamplePages = 4096;

template <typename T>
struct Candidate {
  T value;
  std::string from;
};

template <typename T>
void AddCandidate(std::vector<Candidate<T>>* list, T value, const std::string& from) {
  for (const Candidate<T>& c : *list) {
    if (c.value == value) return;
  }
  list->push_back({value, from});
}

// The meta fields stored at `offset`, valid or not; nullopt when the file
// is too short to hold them.
std::optional<RawMeta> RawMetaAt(File* file, uint64_t offset) {
  std::vector<uint8_t> buf(pager::kMetaEndOffset, 0);
  size_t got = 0;
  if (!file->ReadAt(offset, buf.size(), reinterpret_cast<char*>(buf.data()), &got).ok() ||
      got < buf.size()) {
    return std::nullopt;
  }
  return DecodeRawMeta(buf.data());
}

// The log header's page size and database salt as stored (0 when absent).
void WalFields(File* wal, uint32_t* page_size, uint64_t* salt) {
  *page_size = 0;
  *salt = 0;
  if (wal == nullptr) return;
  uint8_t buf[wal::kWalHeaderSize] = {};
  size_t got = 0;
  if (!wal->ReadAt(0, sizeof(buf), reinterpret_cast<char*>(buf), &got).ok() ||
      got < wal::kWalDbSaltOffset + 8) {
    return;
  }
  *page_size = DecodeFixed32(buf + wal::kWalPageSizeOffset);
  *salt = DecodeFixed64(buf + wal::kWalDbSaltOffset);
}

// Page sizes in order: --page-size alone when given; else meta page 0's,
// meta page 1's (read where its own field puts it), the log's; else all.
std::vector<Candidate<uint32_t>> PageSizes(File* file, uint32_t wal_page_size,
                                           std::optional<uint32_t> forced) {
  std::vector<Candidate<uint32_t>> sizes;
  if (forced) {
    sizes.push_back({*forced, "--page-size"});
    return sizes;
  }
  std::optional<RawMeta> m0 = RawMetaAt(file, 0);
  if (m0 && pager::IsValidPageSize(m0->page_size)) {
    AddCandidate(&sizes, m0->page_size, "meta page 0");
  }
  for (uint32_t ps = pager::kMinPageSize; ps <= pager::kMaxPageSize; ps *= 2) {
    std::optional<RawMeta> m1 = RawMetaAt(file, ps);
    if (m1 && m1->page_size == ps) AddCandidate(&sizes, ps, "meta page 1");
  }
  if (pager::IsValidPageSize(wal_page_size)) AddCandidate(&sizes, wal_page_size, "the log header");
  if (sizes.empty()) {
    for (uint32_t ps = pager::kMinPageSize; ps <= pager::kMaxPageSize; ps *= 2) {
      sizes.push_back({ps, "tried"});
    }
  }
  return sizes;
}

// Salts in order: meta page 0's, meta page 1's (read at each candidate page
// size), the log header's.
std::vector<Candidate<uint64_t>> Salts(File* file, uint64_t wal_salt,
                                       const std::vector<Candidate<uint32_t>>& sizes) {
  std::vector<Candidate<uint64_t>> salts;
  std::optional<RawMeta> m0 = RawMetaAt(file, 0);
  if (m0 && m0->salt != 0) AddCandidate(&salts, m0->salt, "meta page 0");
  for (const Candidate<uint32_t>& ps : sizes) {
    std::optional<RawMeta> m1 = RawMetaAt(file, ps.value);
    if (m1 && m1->salt != 0) AddCandidate(&salts, m1->salt, "meta page 1");
  }
  if (wal_salt != 0) AddCandidate(&salts, wal_salt, "the log header");
  return salts;
}

// For each salt, how many of the sampled data pages of `page_size` are
// valid under it (checksum and page number; the rest of VerifyPage does
// not tell salts apart). *sampled: pages read.
std::vector<uint64_t> Score(File* file, uint64_t file_size, uint32_t page_size,
                            const std::vector<Candidate<uint64_t>>& salts, uint64_t* sampled) {
  std::vector<uint64_t> verified(salts.size(), 0);
  const uint64_t pages = file_size / page_size;
  *sampled = 0;
  if (pages <= pager::kFirstDataPage) return verified;
  const uint64_t stride = std::max<uint64_t>(1, (pages - pager::kFirstDataPage) / kSamplePages);
  std::vector<uint8_t> page(page_size);
  for (uint64_t n = pager::kFirstDataPage; n < pages && n <= UINT32_MAX; n += stride) {
    size_t got = 0;
    if (!file->ReadAt(n * page_size, page_size, reinterpret_cast<char*>(page.data()), &got).ok() ||
        got < page_size) {
      break;
    }
    ++*sampled;
    const pager::PageHeader h = pager::DecodePageHeader(page.data());
    if (h.page_no != n) continue;
    for (size_t i = 0; i < salts.size(); ++i) {
      const uint64_t sum = pager::ComputePageChecksum(page.data(), page_size,
                                                      static_cast<uint32_t>(n), salts[i].value);
      if (sum == h.checksum) ++verified[i];
    }
  }
  return verified;
}

}  // namespace

Result<Params> ChooseParams(const std::string& path, File* file, File* wal,
                            std::optional<uint32_t> forced_page_size) {
  SOMBRA_ASSIGN_OR_RETURN(uint64_t file_size, file->Size());
  uint32_t wal_page_size = 0;
  uint64_t wal_salt = 0;
  WalFields(wal, &wal_page_size, &wal_salt);
  const std::vector<Candidate<uint32_t>> sizes = PageSizes(file, wal_page_size, forced_page_size);
  const std::vector<Candidate<uint64_t>> salts = Salts(file, wal_salt, sizes);
  if (salts.empty()) {
    return Status::NotFound("recover: no database salt found: neither meta page of " + path +
                            " nor the log " + path +
                            "-wal holds one, and without it no page checksum can be checked");
  }
  Params best;
  bool have = false;
  for (const Candidate<uint32_t>& ps : sizes) {
    uint64_t sampled = 0;
    const std::vector<uint64_t> verified = Score(file, file_size, ps.value, salts, &sampled);
    for (size_t i = 0; i < salts.size(); ++i) {
      if (have && verified[i] <= best.verified) continue;
      best = Params{ps.value, salts[i].value, ps.from, salts[i].from, sampled, verified[i]};
      have = true;
    }
  }
  if (best.sampled != 0 && best.verified == 0) {
    return Status::NotFound(
        "recover: no database salt found: " + Plural(salts.size(), "candidate", "candidates") +
        " (from the meta pages and the log header) and none makes a page of " + path +
        " valid; without it no page checksum can be checked");
  }
  return best;
}

}  // namespace sombra::inspect::recover
