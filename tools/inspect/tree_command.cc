// sombra-inspect FILE tree [--tree NAME]: one B+tree of the database (the
// meta page in force, then the log): the default tree, or the named tree
// NAME as the catalog has it at that state. The walk is TreeWalker's
// (tree_walker.h); every other tree - the default tree, the catalog, the
// other named trees - is walked too, uncounted, so that its pages count as
// reached ("other tree pages"), not as pages nothing links to; then the
// freelist.
#include <optional>
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "inspect/tree_walker.h"

namespace sombra::inspect {
namespace {

std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

using Problem = btree::VerifyProblem;  // a page and what is wrong with it

// The tree shown and what the walks found.
struct TreeRun {
  std::optional<std::string> name;  // none: the default tree
  uint32_t root = 0;
  TreeCounts shown;
  TreeCounts others;  // the default tree (when not shown), the catalog, the other named trees
  bool catalog_shown = false;  // the database has a catalog, or a named tree is shown
};

// The shown tree, then every other one, then the freelist. `catalog` is
// how reading the catalog went (its entries in `entries`).
Status WalkAll(const InspectedFile& db, const std::vector<btree::CatalogEntry>& entries,
               const Status& catalog, TreeWalker* w, TreeRun* run) {
  const uint64_t slot = db.choice().slot;
  const pager::TreeState& st = db.state();
  const auto root_label = [](uint32_t root) { return "root page " + std::to_string(root); };
  SOMBRA_RETURN_IF_ERROR(w->WalkTree(run->root, run->name ? st.catalog_root : slot,
                                     root_label(run->root), &run->shown));
  if (run->name) {
    SOMBRA_RETURN_IF_ERROR(w->WalkTree(st.root, slot, root_label(st.root), &run->others));
  }
  const size_t before = w->problems().size();
  SOMBRA_RETURN_IF_ERROR(
      w->WalkTree(st.catalog_root, slot, "catalog " + root_label(st.catalog_root), &run->others));
  // A damaged catalog page is reported by its walk; a bad entry here.
  if (!catalog.ok() && w->problems().size() == before) {
    w->AddProblem(st.catalog_root, catalog.message());
  }
  for (const btree::CatalogEntry& e : entries) {
    if (run->name && e.name == *run->name) continue;
    SOMBRA_RETURN_IF_ERROR(w->WalkTree(
        e.root, st.catalog_root, root_label(e.root) + " of " + TreeLabel(e.name), &run->others));
  }
  return w->WalkFreelist();
}

uint64_t DamagedPages(const TreeWalker& w, const TreeRun& run) {
  return run.shown.damaged_pages + run.others.damaged_pages + w.free_damaged();
}

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

void PrintText(const InspectedFile& db, const TreeWalker& w, const TreeRun& run,
               std::ostream& out) {
  out << (run.name ? TreeLabel(*run.name) : std::string("tree")) << " of " << db.path() << '\n';
  PrintField(out, "meta in force", std::to_string(db.choice().slot));
  if (run.catalog_shown) PrintField(out, "catalog root", std::to_string(db.state().catalog_root));
  PrintField(out, "root", run.root == 0 ? "0 (empty tree)" : std::to_string(run.root));
  const TreeCounts& t = run.shown;
  PrintField(out, "height",
             t.root_damaged ? "unknown (the root is damaged)" : std::to_string(t.height));
  for (auto it = t.levels.rbegin(); it != t.levels.rend(); ++it) {
    out << LevelText(it->first, it->second) << '\n';
    for (const PageLine& p : it->second.lines) out << PageText(p) << '\n';
  }
  out << "totals:\n";
  PrintField(out, "leaf pages", std::to_string(t.leaf_pages));
  PrintField(out, "internal pages", std::to_string(t.internal_pages));
  PrintField(out, "overflow pages", std::to_string(t.overflow_pages));
  PrintField(out, "free pages", std::to_string(w.free_pages()));
  if (run.catalog_shown) PrintField(out, "other tree pages", std::to_string(run.others.pages()));
  PrintField(out, "damaged pages", std::to_string(DamagedPages(w, run)));
  PrintField(out, "pages not reached", std::to_string(w.pages_not_reached()));
  PrintField(out, "records", std::to_string(t.records));
  for (const Problem& p : w.problems()) out << "page " << p.page << ": " << p.what << '\n';
  out << Summary(w.problems().size(), w.pages_reached()) << '\n';
}

void WriteLevels(const TreeCounts& t, bool verbose, JsonWriter* json);

void PrintJson(const InspectedFile& db, const TreeWalker& w, const TreeRun& run, bool verbose,
               std::ostream& out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "tree");
  json.Field("file", db.path());
  json.BoolField("live", db.live());
  json.Field("meta_in_force", uint64_t{db.choice().slot});
  json.Key("tree");
  if (run.name) {
    WriteBytes(*run.name, &json);
  } else {
    json.Null();
  }
  json.Field("catalog_root", uint64_t{db.state().catalog_root});
  json.Field("root", uint64_t{run.root});
  const TreeCounts& t = run.shown;
  json.Key("height");
  if (t.root_damaged) {
    json.Null();
  } else {
    json.Uint(t.height);
  }
  WriteLevels(t, verbose, &json);
  json.Key("totals");
  json.BeginObject();
  json.Field("leaf_pages", t.leaf_pages);
  json.Field("internal_pages", t.internal_pages);
  json.Field("overflow_pages", t.overflow_pages);
  json.Field("free_pages", w.free_pages());
  json.Field("other_tree_pages", run.others.pages());
  json.Field("damaged_pages", DamagedPages(w, run));
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

// One page of --verbose's "page_list".
void WritePageLine(const PageLine& p, JsonWriter* json) {
  json->BeginObject();
  json->Field("page", uint64_t{p.page});
  json->BoolField("damaged", p.damaged);
  if (p.damaged) {
    json->Field("problem", p.what);
  } else {
    json->Field("records", p.records);
    json->Field("used_bytes", p.used);
    json->Field("usable_bytes", p.usable);
    json->Field("fill", FillText(p.used, p.usable));
    if (p.leaf) {
      json->Key("low_fence");
      WriteFence(p.first, json);
      json->Key("high_fence");
      WriteFence(p.last, json);
    } else {
      json->Key("first_separator");
      WriteBytes(p.first, json);
      json->Key("last_separator");
      WriteBytes(p.last, json);
    }
  }
  json->EndObject();
}

// "levels": one object per level, root first (--verbose: its pages too).
void WriteLevels(const TreeCounts& t, bool verbose, JsonWriter* json_out) {
  JsonWriter& json = *json_out;
  json.Key("levels");
  json.BeginArray();
  for (auto it = t.levels.rbegin(); it != t.levels.rend(); ++it) {
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
      for (const PageLine& p : l.lines) WritePageLine(p, &json);
      json.EndArray();
    }
    json.EndObject();
  }
  json.EndArray();
}

}  // namespace

int RunTree(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  std::vector<btree::CatalogEntry> entries;
  const Status catalog = ReadInspectedCatalog(db, &entries);
  if (!catalog.ok() && !catalog.IsCorruption()) return PrintError(err, catalog.message());
  TreeRun run;
  run.name = flags.tree;
  run.root = db.state().root;
  run.catalog_shown = db.state().catalog_root != 0 || run.name.has_value();
  if (run.name) {
    if (!catalog.ok()) {
      PrintError(err, "tree: cannot look " + TreeLabel(*run.name) + " up: " + catalog.message());
      return kExitCheckFailed;
    }
    const btree::CatalogEntry* entry = nullptr;
    for (const btree::CatalogEntry& e : entries) {
      if (e.name == *run.name) entry = &e;
    }
    if (entry == nullptr) {
      return PrintError(err, "tree: no tree named " + ShowBytes(*run.name) + " in " + db.path() +
                                 " (the catalog command lists them)");
    }
    run.root = entry->root;
  }
  TreeWalker w(db, flags.verbose);
  Status s = WalkAll(db, entries, catalog, &w, &run);
  if (!s.ok()) return PrintError(err, s.message());
  if (flags.json) {
    PrintJson(db, w, run, flags.verbose, out);
  } else {
    PrintText(db, w, run, out);
  }
  return w.problems().empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
