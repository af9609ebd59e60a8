// VerifyDatabase: the meta slots, every page, the freelist and the tree
// rules, every problem collected with its page.
#include "btree/db_verify.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

// The page a VerifyTree message names: the number after its first "page ";
// false when it names none.
bool NamedPage(const std::string& message, uint64_t* page) {
  for (size_t at = message.find("page "); at != std::string::npos;
       at = message.find("page ", at + 1)) {
    size_t i = at + 5;
    if (i >= message.size() || !std::isdigit(static_cast<unsigned char>(message[i]))) continue;
    uint64_t v = 0;
    for (; i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])); ++i) {
      v = v * 10 + static_cast<uint64_t>(message[i] - '0');
      if (v > (uint64_t{1} << 32)) return false;
    }
    *page = v;
    return true;
  }
  return false;
}

class DatabaseVerifier {
 public:
  explicit DatabaseVerifier(const VerifyTarget& t)
      : t_(t), damaged_(t.state.page_count, false), scratch_(t.page_size) {}

  Result<VerifyReport> Run() {
    CheckMetaSlots();
    SOMBRA_RETURN_IF_ERROR(CheckPages());
    SOMBRA_RETURN_IF_ERROR(WalkFreelist());
    SOMBRA_RETURN_IF_ERROR(CheckTree());
    std::stable_sort(
        report_.problems.begin(), report_.problems.end(),
        [](const VerifyProblem& a, const VerifyProblem& b) { return a.page < b.page; });
    report_.pages = t_.state.page_count;
    return std::move(report_);
  }

 private:
  void Add(uint64_t page, std::string what) {
    if (page < damaged_.size()) damaged_[page] = true;
    report_.problems.push_back({page, std::move(what)});
  }

  // The meta page in force is valid by construction; the other one should
  // be too (a torn or damaged meta write leaves it invalid).
  void CheckMetaSlots() {
    for (uint32_t slot : {pager::kMetaPageA, pager::kMetaPageB}) {
      const Status& s = t_.metas.slot_status[slot];
      if (!s.ok()) Add(slot, pager::StripWhere(s.message(), slot, t_.file));
    }
  }

  // Reads page n: *page is null when the page is missing or damaged (and
  // then reported, unless `report` is false).
  Status Read(uint64_t n, const uint8_t** page, bool report) {
    *page = nullptr;
    Result<const uint8_t*> r = t_.read(static_cast<uint32_t>(n));  // page_count <= 2^32
    if (!r.ok()) {
      if (!r.status().IsCorruption()) return r.status();
      if (report) Add(n, pager::StripWhere(r.status().message(), n, t_.file));
      return Status::OK();
    }
    if (*r == nullptr) {
      if (report) Add(n, "truncated");
      return Status::OK();
    }
    *page = *r;
    return Status::OK();
  }

  Status CheckPages() {
    for (uint64_t n = pager::kFirstDataPage; n < t_.state.page_count; ++n) {
      const uint8_t* page = nullptr;
      SOMBRA_RETURN_IF_ERROR(Read(n, &page, /*report=*/true));
      if (page == nullptr) continue;
      if (!t_.pages_sealed) {
        std::memcpy(scratch_.data(), page, t_.page_size);
        pager::SealPage(scratch_.data(), t_.page_size, t_.salt);
        page = scratch_.data();
      }
      Status s = pager::VerifyPage(page, t_.page_size, static_cast<uint32_t>(n), t_.salt, t_.file);
      if (!s.ok()) {
        Add(n, pager::StripWhere(s.message(), n, t_.file));
      } else if (page[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kMeta)) {
        Add(n, "meta page outside slots 0 and 1");
      }
    }
    return Status::OK();
  }

  // From the head in the state: every link in range, every page on the
  // list a free page, no cycle, and as many pages as counted.
  Status WalkFreelist() {
    const size_t before = report_.problems.size();
    SOMBRA_RETURN_IF_ERROR(WalkFreelistFromHead());
    freelist_broken_ = report_.problems.size() > before;
    return Status::OK();
  }

  Status WalkFreelistFromHead() {
    const pager::TreeState& st = t_.state;
    const uint64_t count = st.page_count;
    std::vector<bool> seen(count, false);
    uint64_t from = t_.metas.slot;  // who holds the current link
    uint64_t cur = st.freelist_head;
    uint64_t length = 0;
    while (cur != 0) {
      const std::string link = "freelist links to page " + std::to_string(cur);
      if (cur < pager::kFirstDataPage || cur >= count) {
        Add(from, link + ", outside [2, " + std::to_string(count) + ")");
        return Status::OK();
      }
      if (seen[cur]) {
        Add(from, link + ", already on the list (cycle)");
        return Status::OK();
      }
      seen[cur] = true;
      ++length;
      if (damaged_[cur]) return Status::OK();  // reported; its link is not trustworthy
      const uint8_t* page = nullptr;
      SOMBRA_RETURN_IF_ERROR(Read(cur, &page, /*report=*/false));
      if (page == nullptr) return Status::OK();  // the file changed under us
      const uint8_t kind = page[pager::kHeaderKindOffset];
      if (kind != static_cast<uint8_t>(pager::PageKind::kFree)) {
        Add(cur, std::string("on the freelist but is a ") + pager::PageKindName(kind) + " page");
        return Status::OK();
      }
      from = cur;
      cur = DecodeFixed32(page + pager::kFreeNextOffset);
    }
    if (length != st.freelist_count) {
      Add(t_.metas.slot, "freelist holds " + std::to_string(length) +
                             (length == 1 ? " page" : " pages") + ", but the meta page counts " +
                             std::to_string(st.freelist_count));
    }
    return Status::OK();
  }

  // VerifyTree stops at its first problem; that one is reported on the
  // page it names, unless that page is already reported (the damaged page
  // is the cause; the tree rule it then breaks is not repeated).
  Status CheckTree() {
    if (t_.tree == nullptr) return Status::OK();
    Status s = VerifyTree(*t_.tree);
    if (s.ok()) return Status::OK();
    uint64_t page = 0;
    std::string what = s.message();
    if (NamedPage(what, &page)) {
      what = pager::StripWhere(what, page, t_.file);
      const std::string prefix = "page " + std::to_string(page) + ": ";
      if (what.compare(0, prefix.size(), prefix) == 0) what = what.substr(prefix.size());
    }
    for (const VerifyProblem& p : report_.problems) {
      if (p.page == page) return Status::OK();
    }
    // The walk checks the freelist after the tree: its complaint about a
    // freelist the walk above found broken says the same again.
    if (freelist_broken_ && what.find("freelist") != std::string::npos) return Status::OK();
    // Besides damage: a page past the end of the file (InvalidArgument), or
    // newer than a read-only snapshot (Busy: a writer's checkpoint, or a
    // meta page in force older than the pages). Anything else is an error.
    if (!s.IsCorruption() && !s.IsInvalidArgument() && !s.IsBusy()) return s;
    Add(page, "tree: " + what);
    return Status::OK();
  }

  const VerifyTarget& t_;
  std::vector<bool> damaged_;
  std::vector<uint8_t> scratch_;
  bool freelist_broken_ = false;  // WalkFreelist reported a problem
  VerifyReport report_;
};

}  // namespace

Result<VerifyReport> VerifyDatabase(const VerifyTarget& target) {
  return DatabaseVerifier(target).Run();
}

Result<VerifyReport> VerifyDatabase(const pager::Snapshot& snap, const pager::MetaChoice& metas,
                                    const std::string& file) {
  VerifyTarget t;
  t.file = file;
  t.metas = metas;
  t.state = snap.state();
  t.page_size = snap.page_size();
  t.salt = metas.meta.salt;
  t.read = [&snap](uint32_t page_no) -> Result<const uint8_t*> {
    Result<const uint8_t*> r = snap.Read(page_no);
    // Past the end of the mapped file: the file is shorter than its pages.
    if (!r.ok() && r.status().IsInvalidArgument()) return static_cast<const uint8_t*>(nullptr);
    return r;
  };
  t.pages_sealed = false;
  t.tree = &snap;
  return VerifyDatabase(t);
}

std::string DescribeProblem(const VerifyProblem& problem, const std::string& file) {
  return std::string(problem.page < pager::kFirstDataPage ? "meta page " : "page ") +
         std::to_string(problem.page) + " of " + file + ": " + problem.what;
}

}  // namespace sombra::btree
