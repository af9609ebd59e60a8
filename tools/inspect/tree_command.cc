// sombra-inspect FILE tree: the B+tree from the root of the database (the
// meta page in force, then the log), level by level (breadth first, children in key order), with
// the overflow chains of its leaves and the freelist.
//
// Every page is read with InspectedFile::ReadPage (the snapshot's page,
// as the file stores it or sealed) and checked with pager::VerifyPage before
// anything in it is used, then decoded by DecodeNode (Parse / Validate).
// A page is reached at most once: a link to a page already reached (a
// cycle, a shared child, a page both in the tree and on the freelist) is
// reported on the page holding the link, and not followed. A damaged page
// is reported and not descended into; the walk goes on with the others.
//
// This is not VerifyTree: it does not check fences against separators,
// sibling links or key order across pages (docs/format/page.md T2-T4).
#include <map>
#include <string>
#include <vector>

#include "btree/db_verify.h"
#include "btree/node_format.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

using Problem = btree::VerifyProblem;  // a page and what is wrong with it

// One page of a level, for --verbose.
struct PageLine {
  uint32_t page = 0;
  bool damaged = false;
  std::string what;  // damaged: why
  bool leaf = false;
  uint64_t records = 0;
  uint64_t used = 0;
  uint64_t usable = 0;
  std::string first;  // leaf: low fence (empty: -infinity); internal: first separator
  std::string last;   // leaf: high fence (empty: +infinity); internal: last separator
};

struct Level {
  uint64_t pages = 0;  // damaged ones included
  uint64_t damaged = 0;
  uint64_t records = 0;
  uint64_t used = 0;    // undamaged pages only
  uint64_t usable = 0;  // undamaged pages only
  std::vector<PageLine> lines;
};

struct Totals {
  uint64_t leaf_pages = 0;
  uint64_t internal_pages = 0;
  uint64_t overflow_pages = 0;
  uint64_t free_pages = 0;
  uint64_t damaged_pages = 0;  // failed their own checks (not counted above)
  uint64_t records = 0;        // in leaves
};

class TreeWalker {
 public:
  TreeWalker(const InspectedFile& db, bool verbose)
      : db_(db), verbose_(verbose), reached_(db.page_count(), false) {}

  // Walks the tree, then the freelist. A non-OK status is an I/O error.
  Status Run() {
    const uint32_t root = db_.state().root;
    if (root != 0) {
      if (!InRange(root)) {
        Add(db_.choice().slot, "root page " + std::to_string(root) + " is outside " + Range());
      } else {
        Reach(root);
        SOMBRA_RETURN_IF_ERROR(WalkTree(root));
      }
    }
    return WalkFreelist();
  }

  const std::vector<Problem>& problems() const { return problems_; }
  const std::map<int, Level>& levels() const { return levels_; }
  const Totals& totals() const { return totals_; }
  bool root_damaged() const { return root_damaged_; }
  // The height: the root's level + 1; 0 for an empty tree or a damaged root.
  uint32_t height() const { return height_; }
  uint64_t pages_reached() const { return reached_count_; }
  uint64_t pages_not_reached() const {
    const uint64_t data_pages =
        db_.page_count() > pager::kFirstDataPage ? db_.page_count() - pager::kFirstDataPage : 0;
    return data_pages - reached_count_;
  }

 private:
  // A problem with a link is reported on the page holding it (Add); a page
  // that fails its own checks is damaged (Damage).
  void Add(uint64_t page, std::string what) { problems_.push_back({page, std::move(what)}); }
  void Damage(uint64_t page, std::string what) {
    ++totals_.damaged_pages;
    Add(page, std::move(what));
  }
  bool InRange(uint64_t page) const {
    return page >= pager::kFirstDataPage && page < db_.page_count();
  }
  std::string Range() const { return "[2, " + std::to_string(db_.page_count()) + ")"; }
  // Marks `page` (in range) reached; false when it already was.
  bool Reach(uint32_t page) {
    if (reached_[page]) return false;
    reached_[page] = true;
    ++reached_count_;
    return true;
  }

  // Reads `page_no` into page_ and checks it; *what says why it is not a
  // valid page ("" when it is).
  Status ReadChecked(uint32_t page_no, std::string* what) {
    bool complete = false;
    SOMBRA_RETURN_IF_ERROR(db_.ReadPage(page_no, &page_, &complete));
    what->clear();
    if (!complete) {
      *what = "truncated";
      return Status::OK();
    }
    Status s =
        pager::VerifyPage(page_.data(), db_.page_size(), page_no, db_.meta().salt, db_.path());
    if (!s.ok()) *what = StripWhere(s.message(), page_no, db_.path());
    return Status::OK();
  }

  // "leaf page 7, offset 36: x" -> "offset 36: x" when it names `page_no`.
  static std::string StripNodePrefix(const std::string& message, uint32_t page_no) {
    for (const char* type : {"leaf page ", "internal page "}) {
      const std::string prefix = type + std::to_string(page_no) + ", ";
      if (message.compare(0, prefix.size(), prefix) == 0) return message.substr(prefix.size());
    }
    return message;
  }

  struct Pending {
    uint32_t page;
    int level;        // expected; -1 for the root
    uint32_t parent;  // 0 for the root
  };

  Status WalkTree(uint32_t root) {
    std::vector<Pending> current = {{root, -1, 0}};
    std::vector<Pending> next;
    while (!current.empty()) {
      next.clear();
      for (const Pending& p : current) SOMBRA_RETURN_IF_ERROR(Visit(p, &next));
      current.swap(next);
    }
    return Status::OK();
  }

  void Damaged(const Pending& p, std::string what) {
    if (p.level < 0) {
      root_damaged_ = true;
    } else {
      Level& l = levels_[p.level];
      ++l.pages;
      ++l.damaged;
      if (verbose_) {
        PageLine line;
        line.page = p.page;
        line.damaged = true;
        line.what = what;
        l.lines.push_back(std::move(line));
      }
    }
    Damage(p.page, std::move(what));
  }

  Status Visit(const Pending& p, std::vector<Pending>* next) {
    std::string what;
    SOMBRA_RETURN_IF_ERROR(ReadChecked(p.page, &what));
    if (!what.empty()) {
      Damaged(p, what);
      return Status::OK();
    }
    const uint8_t kind = page_[pager::kHeaderKindOffset];
    const bool leaf = kind == static_cast<uint8_t>(pager::PageKind::kLeaf);
    if (!leaf && kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
      Damaged(p, std::string("a ") + pager::PageKindName(kind) + " page (" + std::to_string(kind) +
                     ") in the tree, expected leaf or internal");
      return Status::OK();
    }
    const NodeInfo n = DecodeNode(page_.data(), db_.page_size());
    if (!n.layout.ok()) {
      Damaged(p, StripNodePrefix(n.layout.message(), p.page));
      return Status::OK();
    }
    const int level = leaf ? 0 : n.level;  // Parse checked a leaf's level is 0
    if (p.level >= 0 && level != p.level) {
      // Either this page or its parent is wrong; name both.
      Damaged(p, std::string(leaf ? "leaf" : "internal page") + " at level " +
                     std::to_string(level) + ", but its parent, page " + std::to_string(p.parent) +
                     ", is at level " + std::to_string(p.level + 1));
      return Status::OK();
    }
    if (p.level < 0) height_ = static_cast<uint32_t>(level) + 1;

    Level& l = levels_[level];
    ++l.pages;
    l.records += n.records.size();
    l.used += n.used_bytes;
    l.usable += n.usable_bytes;
    if (verbose_) {
      PageLine line;
      line.page = p.page;
      line.leaf = leaf;
      line.records = n.records.size();
      line.used = n.used_bytes;
      line.usable = n.usable_bytes;
      if (leaf) {
        line.first = n.low_fence;
        line.last = n.high_fence;
      } else if (!n.records.empty()) {  // Validate: >= 1 separator
        line.first = n.records.front().key;
        line.last = n.records.back().key;
      }
      l.lines.push_back(std::move(line));
    }

    if (leaf) {
      ++totals_.leaf_pages;
      totals_.records += n.records.size();
      for (size_t i = 0; i < n.records.size(); ++i) {
        const NodeRecord& r = n.records[i];
        if (r.overflow) SOMBRA_RETURN_IF_ERROR(WalkChain(p.page, i, r.first_page, r.value_length));
      }
      return Status::OK();
    }
    ++totals_.internal_pages;
    // Validate checked every child is >= 2; each must also be in the file
    // and reached only once.
    for (size_t i = 0; i <= n.records.size(); ++i) {
      const uint32_t child = i == 0 ? n.right : n.records[i - 1].child;
      const std::string link = "child " + std::to_string(i) + " is page " + std::to_string(child);
      if (!InRange(child)) {
        Add(p.page, link + ", outside " + Range());
      } else if (!Reach(child)) {
        Add(p.page, link + ", already reached (a cycle or a shared page)");
      } else {
        next->push_back({child, level - 1, p.page});
      }
    }
    return Status::OK();
  }

  // The overflow chain of record `index` of leaf `leaf` (docs/format/page.md
  // O1-O5): problems with a link go to the page holding it, problems of a
  // page to that page.
  Status WalkChain(uint32_t leaf, size_t index, uint32_t first, uint64_t value_len) {
    const uint32_t capacity = db_.page_size() - static_cast<uint32_t>(btree::kOverflowDataOffset);
    const uint64_t max_pages = value_len / capacity + 1;
    uint64_t from = leaf;
    std::string link = "record " + std::to_string(index) + " links to overflow page ";
    uint32_t page_no = first;
    uint64_t total = 0;
    for (uint64_t k = 0;; ++k) {
      if (!InRange(page_no)) {
        Add(from, link + std::to_string(page_no) + ", outside " + Range());
        return Status::OK();
      }
      if (k >= max_pages) {
        Add(from, link + std::to_string(page_no) + ", but the chain of " +
                      std::to_string(value_len) + " bytes needs only " + std::to_string(max_pages) +
                      " pages");
        return Status::OK();
      }
      if (!Reach(page_no)) {
        Add(from, link + std::to_string(page_no) + ", already reached (a cycle or a shared page)");
        return Status::OK();
      }
      std::string what;
      SOMBRA_RETURN_IF_ERROR(ReadChecked(page_no, &what));
      if (what.empty()) {
        const uint8_t kind = page_[pager::kHeaderKindOffset];
        if (kind != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
          what = std::string("a ") + pager::PageKindName(kind) + " page (" + std::to_string(kind) +
                 ") in an overflow chain";
        }
      }
      const uint32_t used = DecodeFixed32(page_.data() + btree::kOverflowUsedOffset);
      const uint32_t next = DecodeFixed32(page_.data() + btree::kOverflowNextOffset);
      if (what.empty() && used > capacity) {
        what = std::to_string(used) + " bytes used, more than the capacity " +
               std::to_string(capacity);
      }
      if (!what.empty()) {
        Damage(page_no, what);
        return Status::OK();
      }
      ++totals_.overflow_pages;
      total += used;
      if (total > value_len || (next == 0 && total != value_len)) {
        Add(page_no, "the overflow chain from page " + std::to_string(first) + " holds " +
                         (next == 0 ? "" : "at least ") + std::to_string(total) + " bytes, " +
                         "the value has " + std::to_string(value_len));
        return Status::OK();
      }
      if (next == 0) return Status::OK();
      from = page_no;
      link = "links to overflow page ";
      page_no = next;
    }
  }

  Status WalkFreelist() {
    uint64_t from = db_.choice().slot;
    uint32_t cur = db_.state().freelist_head;
    uint64_t length = 0;
    while (cur != 0) {
      const std::string link = "freelist links to page " + std::to_string(cur);
      if (!InRange(cur)) {
        Add(from, link + ", outside " + Range());
        return Status::OK();
      }
      if (!Reach(cur)) {
        Add(from, link + ", already reached (a cycle, or a page of the tree)");
        return Status::OK();
      }
      std::string what;
      SOMBRA_RETURN_IF_ERROR(ReadChecked(cur, &what));
      if (what.empty() &&
          page_[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kFree)) {
        what = std::string("on the freelist but is a ") +
               pager::PageKindName(page_[pager::kHeaderKindOffset]) + " page";
      }
      if (!what.empty()) {
        Damage(cur, what);
        return Status::OK();
      }
      ++length;
      ++totals_.free_pages;
      from = cur;
      cur = DecodeFixed32(page_.data() + pager::kFreeNextOffset);
    }
    if (length != db_.state().freelist_count) {
      Add(db_.choice().slot, "freelist holds " + Count(length, "page", "pages") +
                                 ", but the meta page counts " +
                                 std::to_string(db_.state().freelist_count));
    }
    return Status::OK();
  }

  const InspectedFile& db_;
  const bool verbose_;
  std::vector<bool> reached_;
  uint64_t reached_count_ = 0;
  std::vector<uint8_t> page_;
  std::vector<Problem> problems_;
  std::map<int, Level> levels_;
  Totals totals_;
  uint32_t height_ = 0;
  bool root_damaged_ = false;
};

std::string Summary(size_t problems, uint64_t reached) {
  const std::string walked = "walked " + Count(reached, "page", "pages");
  if (problems == 0) return walked + ": OK";
  return Count(problems, "problem", "problems") + ", " + walked;
}

std::string LevelText(int level, const Level& l) {
  std::string s = "level " + std::to_string(level) + ": " + Count(l.pages, "page", "pages");
  if (l.damaged != 0) s += " (" + std::to_string(l.damaged) + " damaged)";
  s += ", " + Count(l.records, "record", "records") + ", fill " + FillText(l.used, l.usable);
  return s;
}

std::string PageText(const PageLine& p) {
  std::string s = "  page " + std::to_string(p.page) + ": ";
  if (p.damaged) return s + "damaged: " + p.what;
  s += Count(p.records, "record", "records") + ", fill " + FillText(p.used, p.usable);
  if (p.leaf) {
    s += ", fences [" + (p.first.empty() ? std::string("-infinity") : ShowBytes(p.first)) + ", " +
         (p.last.empty() ? std::string("+infinity") : ShowBytes(p.last)) + ")";
  } else {
    s += ", separators " + ShowBytes(p.first) + " .. " + ShowBytes(p.last);
  }
  return s;
}

void PrintText(const InspectedFile& db, const TreeWalker& w, std::ostream& out) {
  out << "tree of " << db.path() << '\n';
  PrintField(out, "meta in force", std::to_string(db.choice().slot));
  const uint32_t root = db.state().root;
  PrintField(out, "root", root == 0 ? "0 (empty tree)" : std::to_string(root));
  PrintField(out, "height",
             w.root_damaged() ? "unknown (the root is damaged)" : std::to_string(w.height()));
  const auto& levels = w.levels();
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    out << LevelText(it->first, it->second) << '\n';
    for (const PageLine& p : it->second.lines) out << PageText(p) << '\n';
  }
  const Totals& t = w.totals();
  out << "totals:\n";
  PrintField(out, "leaf pages", std::to_string(t.leaf_pages));
  PrintField(out, "internal pages", std::to_string(t.internal_pages));
  PrintField(out, "overflow pages", std::to_string(t.overflow_pages));
  PrintField(out, "free pages", std::to_string(t.free_pages));
  PrintField(out, "damaged pages", std::to_string(t.damaged_pages));
  PrintField(out, "pages not reached", std::to_string(w.pages_not_reached()));
  PrintField(out, "records", std::to_string(t.records));
  for (const Problem& p : w.problems()) out << "page " << p.page << ": " << p.what << '\n';
  out << Summary(w.problems().size(), w.pages_reached()) << '\n';
}

void PrintJson(const InspectedFile& db, const TreeWalker& w, bool verbose, std::ostream& out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "tree");
  json.Field("file", db.path());
  json.BoolField("live", db.live());
  json.Field("meta_in_force", uint64_t{db.choice().slot});
  json.Field("root", uint64_t{db.state().root});
  json.Key("height");
  if (w.root_damaged()) {
    json.Null();
  } else {
    json.Uint(w.height());
  }
  json.Key("levels");
  json.BeginArray();
  const auto& levels = w.levels();
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    const Level& l = it->second;
    json.BeginObject();
    json.Field("level", static_cast<uint64_t>(it->first));
    json.Field("pages", l.pages);
    json.Field("damaged", l.damaged);
    json.Field("records", l.records);
    json.Field("used_bytes", l.used);
    json.Field("usable_bytes", l.usable);
    json.Field("fill", FillText(l.used, l.usable));
    if (verbose) {
      json.Key("page_list");
      json.BeginArray();
      for (const PageLine& p : l.lines) {
        json.BeginObject();
        json.Field("page", uint64_t{p.page});
        json.BoolField("damaged", p.damaged);
        if (p.damaged) {
          json.Field("problem", p.what);
        } else {
          json.Field("records", p.records);
          json.Field("used_bytes", p.used);
          json.Field("usable_bytes", p.usable);
          json.Field("fill", FillText(p.used, p.usable));
          if (p.leaf) {
            json.Key("low_fence");
            WriteFence(p.first, &json);
            json.Key("high_fence");
            WriteFence(p.last, &json);
          } else {
            json.Key("first_separator");
            WriteBytes(p.first, &json);
            json.Key("last_separator");
            WriteBytes(p.last, &json);
          }
        }
        json.EndObject();
      }
      json.EndArray();
    }
    json.EndObject();
  }
  json.EndArray();
  const Totals& t = w.totals();
  json.Key("totals");
  json.BeginObject();
  json.Field("leaf_pages", t.leaf_pages);
  json.Field("internal_pages", t.internal_pages);
  json.Field("overflow_pages", t.overflow_pages);
  json.Field("free_pages", t.free_pages);
  json.Field("damaged_pages", t.damaged_pages);
  json.Field("pages_not_reached", w.pages_not_reached());
  json.Field("records", t.records);
  json.EndObject();
  json.BoolField("ok", w.problems().empty());
  json.Key("problems");
  json.BeginArray();
  json.ProblemObjects(w.problems());
  json.EndArray();
  json.Field("summary", Summary(w.problems().size(), w.pages_reached()));
  json.EndObject();
  out << '\n';
}

}  // namespace

int RunTree(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  TreeWalker w(db, flags.verbose);
  Status s = w.Run();
  if (!s.ok()) return PrintError(err, s.message());
  if (flags.json) {
    PrintJson(db, w, flags.verbose, out);
  } else {
    PrintText(db, w, out);
  }
  return w.problems().empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
