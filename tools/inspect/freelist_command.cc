// sombra-inspect FILE freelist: the chain of free pages from the head in the
// database's state (after the log), each page with its link, checked
// against the freelist count (docs/format/file.md, "Free page").
//
// A link is followed only when it is in [2, page count) and not yet seen,
// and a page only when it is a valid free page: so a broken chain ends the
// walk at the break, which is reported on the page holding the link.
#include <string>
#include <vector>

#include "btree/db_verify.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

using Problem = btree::VerifyProblem;  // a page and what is wrong with it

struct Entry {
  uint32_t page;
  uint32_t next;
  uint64_t lsn;
  bool from_log;
};

std::string Pages(uint64_t n) { return std::to_string(n) + (n == 1 ? " page" : " pages"); }

class FreelistWalker {
 public:
  explicit FreelistWalker(const InspectedFile& db) : db_(db), seen_(db.page_count(), false) {}

  // A non-OK status is an I/O error.
  Status Run() {
    const uint64_t count = db_.page_count();
    uint64_t from = db_.choice().slot;  // who holds the current link
    uint64_t cur = db_.state().freelist_head;
    std::vector<uint8_t> page;
    while (cur != 0) {
      const std::string link = "freelist links to page " + std::to_string(cur);
      if (cur < pager::kFirstDataPage || cur >= count) {
        Add(from, link + ", outside [2, " + std::to_string(count) + ")");
        break;
      }
      if (seen_[cur]) {
        Add(from, link + ", already on the list (cycle)");
        break;
      }
      seen_[cur] = true;
      bool complete = false;
      bool from_log = false;
      SOMBRA_RETURN_IF_ERROR(db_.ReadPage(cur, &page, &complete, &from_log));
      if (!complete) {
        Add(cur, "truncated");
        break;
      }
      const uint32_t page_no = static_cast<uint32_t>(cur);  // < page count <= 2^32
      Status s =
          pager::VerifyPage(page.data(), db_.page_size(), page_no, db_.meta().salt, db_.path());
      if (!s.ok()) {
        Add(cur, StripWhere(s.message(), cur, db_.path()));
        break;
      }
      const uint8_t kind = page[pager::kHeaderKindOffset];
      if (kind != static_cast<uint8_t>(pager::PageKind::kFree)) {
        Add(cur, std::string("on the freelist but is a ") + pager::PageKindName(kind) + " page");
        break;
      }
      const uint32_t next = DecodeFixed32(page.data() + pager::kFreeNextOffset);
      entries_.push_back(
          {page_no, next, DecodeFixed64(page.data() + pager::kHeaderLsnOffset), from_log});
      from = cur;
      cur = next;
    }
    const uint64_t counted = db_.state().freelist_count;
    if (problems_.empty() && entries_.size() != counted) {
      Add(db_.choice().slot, "freelist holds " + Pages(entries_.size()) +
                                 ", but the meta page counts " + std::to_string(counted));
    }
    return Status::OK();
  }

  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  void Add(uint64_t page, std::string what) { problems_.push_back({page, std::move(what)}); }

  const InspectedFile& db_;
  std::vector<bool> seen_;
  std::vector<Entry> entries_;
  std::vector<Problem> problems_;
};

std::string Summary(const FreelistWalker& w, uint64_t counted) {
  const size_t n = w.problems().size();
  if (n == 0) return "freelist holds " + Pages(w.entries().size()) + ", as counted: OK";
  return std::to_string(n) + (n == 1 ? " problem" : " problems") + ", walked " +
         Pages(w.entries().size()) + ", counted " + std::to_string(counted);
}

}  // namespace

int RunFreelist(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  FreelistWalker w(db);
  Status s = w.Run();
  if (!s.ok()) return PrintError(err, s.message());
  const uint64_t counted = db.state().freelist_count;
  if (flags.json) {
    JsonWriter json(out);
    json.BeginObject();
    json.Field("command", "freelist");
    json.Field("file", db.path());
    json.BoolField("live", db.live());
    json.Field("head", uint64_t{db.state().freelist_head});
    json.Field("count", counted);
    json.Key("chain");
    json.BeginArray();
    for (const Entry& e : w.entries()) {
      json.BeginObject();
      json.Field("page", uint64_t{e.page});
      json.Field("next", uint64_t{e.next});
      json.Field("lsn", e.lsn);
      json.Field("source", e.from_log ? "log" : "file");
      json.EndObject();
    }
    json.EndArray();
    json.Field("length", uint64_t{w.entries().size()});
    json.BoolField("ok", w.problems().empty());
    json.Key("problems");
    json.BeginArray();
    json.ProblemObjects(w.problems());
    json.EndArray();
    json.Field("summary", Summary(w, counted));
    json.EndObject();
    out << '\n';
  } else {
    out << "freelist of " << db.path() << '\n';
    PrintField(out, "head", std::to_string(db.state().freelist_head));
    PrintField(out, "count", std::to_string(counted));
    for (const Entry& e : w.entries()) {
      out << "  page " << e.page << ": next "
          << (e.next == 0 ? std::string("0 (end)") : std::to_string(e.next)) << ", lsn " << e.lsn
          << (e.from_log ? ", from the log" : "") << '\n';
    }
    for (const Problem& p : w.problems()) out << "page " << p.page << ": " << p.what << '\n';
    out << Summary(w, counted) << '\n';
  }
  return w.problems().empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
