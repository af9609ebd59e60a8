// recover: the report, as text or one JSON object (docs/tools.md,
// "recover", "Report").
#include <cstdio>

#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "inspect/recover.h"

namespace sombra::inspect::recover {
namespace {

std::string Hex(uint64_t v) { return pager::Hex64(v); }

// "meta page 0, the log header".
std::string RootNames(const std::vector<RootSource>& roots) {
  std::string s;
  for (const RootSource& r : roots) s += (s.empty() ? "" : ", ") + r.name;
  return s.empty() ? "none" : s;
}

std::string MetaText(const Report& r, int slot) {
  const Status& s = r.src->meta_status(slot);
  if (s.ok()) return "valid";
  return "damaged: " + pager::StripWhere(s.message(), static_cast<uint64_t>(slot), r.file);
}

std::string RangeText(const KeyRange& k) {
  return "[" + ShowKey(k.low, "-infinity") + ", " + ShowKey(k.high, "+infinity") + ")";
}

uint64_t CatalogTrees(const Forest& forest) {
  uint64_t n = 0;
  for (const TreePlan& t : forest.trees) n += t.kind == TreeKind::kNamed ? 1 : 0;
  return n;
}

void PrintTree(const Report& r, const TreeReport& t, std::ostream& out) {
  const TreePlan& p = *t.plan;
  const std::string unreadable = Plural(p.unreadable.size(), "page", "pages") + " unreadable, " +
                                 Plural(t.lost.size(), "range", "ranges") + " possibly lost" +
                                 (p.settled || p.root_lost ? "" : " (its root is not known)");
  if (p.kind == TreeKind::kCatalog) {
    out << "catalog: " << Plural(CatalogTrees(*r.forest), "tree", "trees") << ", " << unreadable
        << "\n";
  } else if (p.kind == TreeKind::kLostFound) {
    out << "tree " << ShowBytes(p.name) << ": " << Plural(t.yield.records, "record", "records")
        << " recovered from orphan leaves\n";
  } else {
    out << "tree " << ShowBytes(p.name) << ": " << Plural(t.yield.records, "record", "records")
        << " recovered, " << unreadable << "\n";
  }
  for (const KeyRange& k : t.lost) out << "  possibly lost: " << RangeText(k) << "\n";
  for (const LostValue& v : t.yield.lost_values) {
    out << "  value lost: " << ShowKey(v.key, "") << " (" << v.length
        << " bytes, overflow chain from page " << v.first_page << " broken)\n";
  }
}

void PrintHead(const Report& r, std::ostream& out) {
  out << "recover of " << r.file << " into " << r.out << "\n";
  if (r.src->live()) out << "  (a writer has this database open: read at one snapshot)\n";
  const Params& p = r.params;
  PrintField(out, "page size", std::to_string(p.page_size) + " (" + p.page_size_from + ")");
  PrintField(out, "salt",
             Hex(p.salt) + " (" + p.salt_from + "; " + std::to_string(p.verified) + " of " +
                 std::to_string(p.sampled) + " sampled pages valid)");
  PrintField(out, "read",
             r.src->through_pager() ? "through the pager (a valid meta page)"
                                    : "the page file alone, and the log");
  PrintField(out, "log", r.src->log().note);
  PrintField(out, "meta page 0", MetaText(r, 0));
  PrintField(out, "meta page 1", MetaText(r, 1));
  PrintField(out, "roots from", RootNames(r.src->roots()));
}

void PrintTotals(const Report& r, std::ostream& out) {
  const PageTable& t = *r.table;
  const Forest& f = *r.forest;
  if (t.zeroed + t.damaged.size() != 0) out << "unreadable pages:\n";
  for (uint64_t n = 0; n < t.cls.size(); ++n) {
    if (t.cls[n] == PageClass::kZeroed) out << "  page " << n << ": zeroed\n";
  }
  for (const DamagedPage& d : t.damaged) out << "  page " << d.page << ": " << d.what << "\n";
  out << "totals:\n";
  PrintField(out, "pages read", std::to_string(t.read));
  PrintField(out, "pages from log", std::to_string(t.from_log));
  PrintField(out, "good leaf pages", std::to_string(t.leaves.size()));
  PrintField(out, "unreadable pages",
             std::to_string(t.zeroed + t.damaged.size()) + " (" + std::to_string(t.zeroed) +
                 " zeroed, " + std::to_string(t.damaged.size()) + " damaged)");
  const uint64_t orphans =
      f.attributed_by_links + f.attributed_by_holes + f.attributed_whole + f.lost_found_leaves;
  PrintField(out, "orphan leaves",
             std::to_string(orphans) + " (" + std::to_string(f.attributed_by_links) +
                 " by sibling links, " + std::to_string(f.attributed_by_holes) +
                 " under an unreadable page, " + std::to_string(f.attributed_whole) +
                 " as a whole tree, " + std::to_string(f.lost_found_leaves) + " in lost+found)");
  PrintField(out, "records recovered", std::to_string(r.records));
  PrintField(out, "records dropped", std::to_string(r.superseded) + " (inside a newer leaf)");
  PrintField(out, "values lost", std::to_string(r.values_lost));
  PrintField(out, "out", Plural(r.out_trees, "tree", "trees") + ", verified");
}

void WriteTree(const TreeReport& t, JsonWriter* json) {
  static const char* const kKinds[] = {"default", "catalog", "named", "lost+found"};
  json->BeginObject();
  json->Key("name");
  if (t.plan->kind == TreeKind::kCatalog) {
    json->Null();  // not a tree of OUT
  } else {
    WriteBytes(t.plan->name, json);
  }
  json->Field("kind", kKinds[static_cast<int>(t.plan->kind)]);
  json->Field("records", t.yield.records);
  json->Field("records_dropped", t.yield.superseded);
  json->Field("leaf_pages", t.leaf_pages);
  json->Field("pages_unreadable", uint64_t{t.plan->unreadable.size()});
  json->BoolField("root_known", t.plan->settled || t.plan->root_lost);
  json->Key("ranges_lost");
  json->BeginArray();
  for (const KeyRange& k : t.lost) {
    json->BeginObject();
    json->Key("low");
    WriteFence(k.low, json);
    json->Key("high");
    WriteFence(k.high, json);
    json->EndObject();
  }
  json->EndArray();
  json->Key("values_lost");
  json->BeginArray();
  for (const LostValue& v : t.yield.lost_values) {
    json->BeginObject();
    json->Key("key");
    WriteBytes(v.key, json);
    json->Field("length", v.length);
    json->Field("first_page", uint64_t{v.first_page});
    json->EndObject();
  }
  json->EndArray();
  json->EndObject();
}

void WriteHead(const Report& r, JsonWriter* json) {
  json->Field("command", "recover");
  json->Field("file", r.file);
  json->BoolField("live", r.src->live());
  json->Field("out", r.out);
  json->Field("page_size", uint64_t{r.params.page_size});
  json->Field("page_size_from", r.params.page_size_from);
  json->Field("salt", Hex(r.params.salt));
  json->Field("salt_from", r.params.salt_from);
  json->Field("sampled_pages", r.params.sampled);
  json->Field("sampled_valid", r.params.verified);
  json->BoolField("through_pager", r.src->through_pager());
  json->Key("log");
  json->BeginObject();
  json->Field("note", r.src->log().note);
  json->Field("transactions", r.src->log().transactions);
  json->BoolField("damaged", r.src->log().damaged);
  json->Field("records_not_applied", r.src->log().not_applied);
  json->EndObject();
  json->Key("meta_pages");
  json->BeginArray();
  for (int slot = 0; slot < 2; ++slot) json->String(MetaText(r, slot));
  json->EndArray();
  json->Key("roots_from");
  json->BeginArray();
  for (const RootSource& s : r.src->roots()) json->String(s.name);
  json->EndArray();
}

void WriteTotals(const Report& r, JsonWriter* json) {
  const PageTable& t = *r.table;
  const Forest& f = *r.forest;
  json->Field("pages_read", t.read);
  json->Field("pages_from_log", t.from_log);
  json->Field("good_leaf_pages", uint64_t{t.leaves.size()});
  json->Field("unreadable_pages", t.zeroed + t.damaged.size());
  json->Field("zeroed_pages", t.zeroed);
  json->Field("damaged_pages", uint64_t{t.damaged.size()});
  json->Key("unreadable");
  json->BeginArray();
  for (uint64_t n = 0; n < t.cls.size(); ++n) {
    if (t.cls[n] != PageClass::kZeroed) continue;
    json->BeginObject();
    json->Field("page", n);
    json->Field("what", "zeroed");
    json->EndObject();
  }
  json->ProblemObjects(t.damaged);
  json->EndArray();
  json->Field("orphans_by_links", f.attributed_by_links);
  json->Field("orphans_by_holes", f.attributed_by_holes);
  json->Field("orphans_whole_tree", f.attributed_whole);
  json->Field("orphans_lost_found", f.lost_found_leaves);
  json->Field("records_recovered", r.records);
  json->Field("records_dropped", r.superseded);
  json->Field("values_lost", r.values_lost);
  json->Field("out_trees", r.out_trees);
  json->BoolField("verified", true);
  json->BoolField("ok", r.Complete());
  json->Field("summary", r.Summary());
}

}  // namespace

bool Report::Complete() const {
  if (table->zeroed != 0 || !table->damaged.empty() || values_lost != 0) return false;
  if (!src->meta_status(0).ok() || !src->meta_status(1).ok()) return false;
  if (src->log().damaged || src->log().not_applied != 0) return false;
  if (forest->lost_found_leaves != 0) return false;
  for (const TreeReport& t : trees) {
    if (!t.lost.empty()) return false;
  }
  return true;
}

std::string Report::Summary() const {
  std::string s = "recovered " + Plural(records, "record", "records") + " into " +
                  Plural(out_trees, "tree", "trees");
  if (Complete()) return s + ": OK";
  uint64_t ranges = 0;
  for (const TreeReport& t : trees) ranges += t.lost.size();
  std::vector<std::string> parts;
  const uint64_t unreadable = table->zeroed + table->damaged.size();
  if (unreadable != 0) parts.push_back(Plural(unreadable, "unreadable page", "unreadable pages"));
  if (ranges != 0) parts.push_back(Plural(ranges, "key range", "key ranges") + " possibly lost");
  if (values_lost != 0) parts.push_back(Plural(values_lost, "value", "values") + " lost");
  if (forest->lost_found_leaves != 0) {
    parts.push_back(Plural(forest->lost_found_leaves, "orphan leaf", "orphan leaves") +
                    " in lost+found");
  }
  if (!src->meta_status(0).ok() || !src->meta_status(1).ok()) parts.push_back("damaged meta page");
  if (src->log().damaged || src->log().not_applied != 0) parts.push_back("damaged log");
  s += "; ";
  for (size_t i = 0; i < parts.size(); ++i) s += (i == 0 ? "" : ", ") + parts[i];
  return s;
}

void PrintReport(const Report& r, std::ostream& out) {
  PrintHead(r, out);
  for (const TreeReport& t : r.trees) PrintTree(r, t, out);
  PrintTotals(r, out);
  out << r.Summary() << "\n";
}

void WriteReport(const Report& r, std::ostream& out) {
  JsonWriter json(out);
  json.BeginObject();
  WriteHead(r, &json);
  json.Key("trees");
  json.BeginArray();
  for (const TreeReport& t : r.trees) WriteTree(t, &json);
  json.EndArray();
  WriteTotals(r, &json);
  json.EndObject();
  out << "\n";
}

std::string ShowKey(std::string_view key, const char* infinity) {
  if (key.empty() && infinity[0] != '\0') return infinity;
  std::string out = "\"";
  for (char c : key) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u > 0x7e || c == '"') {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace sombra::inspect::recover
