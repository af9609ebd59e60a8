// sombra-inspect FILE catalog: the catalog of named trees at the state the
// inspector reads (the meta page in force, then the log): the catalog
// tree itself, then each entry - name, root page, and its tree's height,
// pages (leaf, internal, overflow) and records, from one TreeWalker walk
// (tree_walker.h), so a page shared by two trees is reported.
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "inspect/tree_walker.h"

namespace sombra::inspect {
namespace {

struct Entry {
  std::string name;
  uint32_t root = 0;
  TreeCounts counts;
};

struct CatalogReport {
  TreeCounts catalog;  // the catalog tree's own pages
  std::vector<Entry> entries;
};

std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string HeightText(const TreeCounts& t) {
  return t.root_damaged ? "unknown (the root is damaged)" : std::to_string(t.height);
}

std::string EntryText(const Entry& e) {
  std::string s = TreeLabel(e.name) + ": root " + std::to_string(e.root);
  if (e.root == 0) return s + " (empty tree)";
  s += ", height " + HeightText(e.counts) + ", " + Count(e.counts.pages(), "page", "pages") + ", " +
       Count(e.counts.records, "record", "records");
  if (e.counts.damaged_pages != 0) s += ", " + std::to_string(e.counts.damaged_pages) + " damaged";
  return s;
}

std::string Summary(const TreeWalker& w, size_t trees) {
  const std::string walked =
      Count(trees, "tree", "trees") + ", walked " + Count(w.pages_reached(), "page", "pages");
  if (w.problems().empty()) return walked + ": OK";
  return Count(w.problems().size(), "problem", "problems") + ", " + walked;
}

// Reads the catalog, then walks it and every tree it names.
Status Walk(const InspectedFile& db, TreeWalker* w, CatalogReport* r) {
  const uint32_t root = db.state().catalog_root;
  std::vector<btree::CatalogEntry> entries;
  const Status catalog = ReadInspectedCatalog(db, &entries);
  if (!catalog.ok() && !catalog.IsCorruption()) return catalog;
  SOMBRA_RETURN_IF_ERROR(w->WalkTree(root, db.choice().slot,
                                     "catalog root page " + std::to_string(root), &r->catalog));
  // A damaged catalog page is reported by the walk; a bad entry here.
  if (!catalog.ok() && w->problems().empty()) w->AddProblem(root, catalog.message());
  for (const btree::CatalogEntry& e : entries) {
    Entry entry{e.name, e.root, {}};
    SOMBRA_RETURN_IF_ERROR(w->WalkTree(
        e.root, root, "root page " + std::to_string(e.root) + " of " + TreeLabel(e.name),
        &entry.counts));
    r->entries.push_back(std::move(entry));
  }
  return Status::OK();
}

void PrintText(const InspectedFile& db, const TreeWalker& w, const CatalogReport& r,
               std::ostream& out) {
  out << "catalog of " << db.path() << '\n';
  const uint32_t root = db.state().catalog_root;
  PrintField(out, "catalog root", root == 0 ? "0 (no named trees)" : std::to_string(root));
  PrintField(out, "height", HeightText(r.catalog));
  PrintField(out, "pages", std::to_string(r.catalog.pages()));
  PrintField(out, "trees", std::to_string(r.entries.size()));
  for (const Entry& e : r.entries) out << EntryText(e) << '\n';
  for (const btree::VerifyProblem& p : w.problems()) {
    out << "page " << p.page << ": " << p.what << '\n';
  }
  out << Summary(w, r.entries.size()) << '\n';
}

void WriteCounts(const TreeCounts& t, JsonWriter* json) {
  json->Key("height");
  if (t.root_damaged) {
    json->Null();
  } else {
    json->Uint(t.height);
  }
  json->Field("pages", t.pages());
  json->Field("leaf_pages", t.leaf_pages);
  json->Field("internal_pages", t.internal_pages);
  json->Field("overflow_pages", t.overflow_pages);
  json->Field("damaged_pages", t.damaged_pages);
  json->Field("records", t.records);
}

void PrintJson(const InspectedFile& db, const TreeWalker& w, const CatalogReport& r,
               std::ostream& out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "catalog");
  json.Field("file", db.path());
  json.BoolField("live", db.live());
  json.Field("catalog_root", uint64_t{db.state().catalog_root});
  WriteCounts(r.catalog, &json);
  json.Key("trees");
  json.BeginArray();
  for (const Entry& e : r.entries) {
    json.BeginObject();
    json.Key("name");
    WriteBytes(e.name, &json);
    json.Field("root", uint64_t{e.root});
    WriteCounts(e.counts, &json);
    json.EndObject();
  }
  json.EndArray();
  json.BoolField("ok", w.problems().empty());
  json.Key("problems");
  json.BeginArray();
  json.ProblemObjects(w.problems());
  json.EndArray();
  json.Field("summary", Summary(w, r.entries.size()));
  json.EndObject();
  out << '\n';
}

}  // namespace

int RunCatalog(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  TreeWalker w(db, /*verbose=*/false);
  CatalogReport report;
  Status s = Walk(db, &w, &report);
  if (!s.ok()) return PrintError(err, s.message());
  if (flags.json) {
    PrintJson(db, w, report, out);
  } else {
    PrintText(db, w, report, out);
  }
  return w.problems().empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
