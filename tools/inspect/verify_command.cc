// sombra-inspect FILE verify: every page in [0, page_count) and the
// freelist, checked against the database's state after the log; then the
// tree rules, by btree::VerifyTree over a snapshot (what DB::Verify runs);
// and the log, which must not hold a damaged committed transaction.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

struct Problem {
  uint64_t page;
  std::string what;
  bool log = false;  // a problem of the log, not of a page
};

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

class Verifier {
 public:
  explicit Verifier(const InspectedFile& db) : db_(db), damaged_(db.page_count(), false) {}

  // Runs every check; the problems found are in problems().
  Status Run() {
    CheckMetaSlots();
    SOMBRA_RETURN_IF_ERROR(CheckPages());
    SOMBRA_RETURN_IF_ERROR(WalkFreelist());
    CheckTree();
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return a.log != b.log ? b.log : a.page < b.page;
    });
    if (!db_.log_note().empty()) problems_.push_back({0, db_.log_note(), true});
    return Status::OK();
  }

  const std::vector<Problem>& problems() const { return problems_; }

 private:
  void Add(uint64_t page, std::string what) {
    if (page < damaged_.size()) damaged_[page] = true;
    problems_.push_back({page, std::move(what)});
  }

  // The meta page in force is valid by construction; the other one should
  // be too (a torn or damaged meta write leaves it invalid).
  void CheckMetaSlots() {
    for (uint32_t slot : {pager::kMetaPageA, pager::kMetaPageB}) {
      const Status& s = db_.choice().slot_status[slot];
      if (!s.ok()) Add(slot, StripWhere(s.message(), slot, db_.path()));
    }
  }

  Status CheckPages() {
    std::vector<uint8_t> page;
    for (uint64_t n = pager::kFirstDataPage; n < db_.page_count(); ++n) {
      bool complete = false;
      SOMBRA_RETURN_IF_ERROR(db_.ReadPage(n, &page, &complete));
      if (!complete) {
        Add(n, "truncated");
        continue;
      }
      const uint32_t page_no = static_cast<uint32_t>(n);  // page_count <= 2^32
      Status s =
          pager::VerifyPage(page.data(), db_.page_size(), page_no, db_.meta().salt, db_.path());
      if (!s.ok()) {
        Add(n, StripWhere(s.message(), n, db_.path()));
      } else if (page[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kMeta)) {
        Add(n, "meta page outside slots 0 and 1");
      }
    }
    return Status::OK();
  }

  // btree::VerifyTree over the database's snapshot: levels, fences against
  // separators, sibling links, overflow chains, every page reachable once
  // or free. It stops at the first problem; that one is reported on the
  // page it names.
  void CheckTree() {
    const pager::Snapshot* snap = db_.snapshot();
    if (snap == nullptr) return;  // the log could not be replayed: no tree view
    Status s = btree::VerifyTree(*snap);
    if (s.ok()) return;
    uint64_t page = 0;
    std::string what = s.message();
    if (NamedPage(what, &page)) {
      what = StripWhere(what, page, db_.path());
      const std::string prefix = "page " + std::to_string(page) + ": ";
      if (what.compare(0, prefix.size(), prefix) == 0) what = what.substr(prefix.size());
    }
    // A page reported damaged on its own is the cause; the tree rule it
    // then breaks is not repeated.
    for (const Problem& p : problems_) {
      if (p.page == page) return;
    }
    Add(page, "tree: " + what);
  }

  // From the head in the database's state: every link in range, every
  // page on the list a free page, no cycle, and as many pages as counted.
  Status WalkFreelist() {
    const pager::TreeState& meta = db_.state();
    const uint64_t count = db_.page_count();
    std::vector<bool> seen(count, false);
    std::vector<uint8_t> page;
    uint64_t from = db_.choice().slot;  // who holds the current link
    uint64_t cur = meta.freelist_head;
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
      bool complete = false;
      SOMBRA_RETURN_IF_ERROR(db_.ReadPage(cur, &page, &complete));
      if (!complete) return Status::OK();  // the file shrank under us
      const uint8_t kind = page[pager::kHeaderKindOffset];
      if (kind != static_cast<uint8_t>(pager::PageKind::kFree)) {
        Add(cur, std::string("on the freelist but is a ") + pager::PageKindName(kind) + " page");
        return Status::OK();
      }
      from = cur;
      cur = DecodeFixed32(page.data() + pager::kFreeNextOffset);
    }
    if (length != meta.freelist_count) {
      Add(db_.choice().slot,
          "freelist holds " + std::to_string(length) + (length == 1 ? " page" : " pages") +
              ", but the meta page counts " + std::to_string(meta.freelist_count));
    }
    return Status::OK();
  }

  const InspectedFile& db_;
  std::vector<bool> damaged_;
  std::vector<Problem> problems_;
};

std::string Summary(size_t problems, uint64_t pages) {
  const std::string p = std::to_string(pages) + (pages == 1 ? " page" : " pages");
  if (problems == 0) return "verified " + p + ": OK";
  return std::to_string(problems) + (problems == 1 ? " problem in " : " problems in ") + p;
}

}  // namespace

int RunVerify(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  Verifier v(db);
  Status s = v.Run();
  if (!s.ok()) return PrintError(err, s.message());
  const std::vector<Problem>& problems = v.problems();
  if (flags.json) {
    JsonWriter json(out);
    json.BeginObject();
    json.Field("command", "verify");
    json.Field("file", db.path());
    json.Field("meta_in_force", uint64_t{db.choice().slot});
    json.Field("pages", db.page_count());
    json.BoolField("ok", problems.empty());
    json.Key("problems");
    json.BeginArray();
    for (const Problem& p : problems) {
      json.BeginObject();
      if (p.log) {
        json.Field("log", db.path() + "-wal");
      } else {
        json.Field("page", p.page);
      }
      json.Field("what", p.what);
      json.EndObject();
    }
    json.EndArray();
    json.Field("summary", Summary(problems.size(), db.page_count()));
    json.EndObject();
    out << '\n';
  } else {
    for (const Problem& p : problems) {
      if (p.log) {
        out << "log " << db.path() << "-wal: " << p.what << '\n';
      } else {
        out << "page " << p.page << ": " << p.what << '\n';
      }
    }
    out << Summary(problems.size(), db.page_count()) << '\n';
  }
  return problems.empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
