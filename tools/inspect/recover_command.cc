// sombra-inspect FILE recover OUT [--page-size N] [--json]: the records of
// every good leaf page of a damaged database (and of its log's committed
// transactions), newest first, written into a new database OUT
// (docs/tools.md, "recover"). FILE and its log are only read; OUT is made
// through the public API and verified.
#include <filesystem>

#include "btree/catalog.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/recover.h"

namespace sombra::inspect {
namespace {

using recover::CatalogEntry;
using recover::Forest;
using recover::PageSource;
using recover::PageTable;
using recover::TreeKind;
using recover::TreePlan;
using recover::TreeReport;

// The catalog's entries: the records of its leaves, newest first; an entry
// whose value does not decode (or names a page past the file) is skipped.
recover::CatalogReader CatalogReaderOf(const PageSource& src, const PageTable& table,
                                       const Forest& forest) {
  return [&src, &table, &forest](const TreePlan& catalog, std::vector<CatalogEntry>* entries) {
    recover::TreeYield yield;
    const uint64_t pages = table.cls.size();
    return recover::CollectRecords(
        src, table, forest.Leaves(catalog),
        [entries, pages](std::string_view name, std::string_view value) {
          uint32_t root = 0;
          if (btree::CheckTreeName(name).ok() &&
              btree::DecodeCatalogValue(name, value, pages, &root).ok()) {
            entries->push_back({std::string(name), root});
          }
          return Status::OK();
        },
        &yield);
  };
}

// Every record of `tree` into OUT (its records only counted for the
// catalog, which OUT rebuilds itself).
Status RecoverTree(const PageSource& src, const PageTable& table, const Forest& forest,
                   const TreePlan& tree, recover::OutDb* out, TreeReport* report) {
  report->plan = &tree;
  const std::vector<uint32_t> leaves = forest.Leaves(tree);
  report->leaf_pages = leaves.size();
  recover::RecordSink put = [](std::string_view, std::string_view) { return Status::OK(); };
  if (tree.kind != TreeKind::kCatalog) {
    SOMBRA_RETURN_IF_ERROR(out->UseTree(tree.name));
    put = [out](std::string_view key, std::string_view value) { return out->Put(key, value); };
  }
  SOMBRA_RETURN_IF_ERROR(recover::CollectRecords(src, table, leaves, put, &report->yield));
  if (tree.kind != TreeKind::kLostFound && (tree.rooted || !tree.settled || !leaves.empty())) {
    report->lost = report->yield.covered.Gaps();
  }
  return Status::OK();
}

// Every tree into OUT, the catalog last; totals into *r.
Status RecoverTrees(const PageSource& src, const PageTable& table, const Forest& forest,
                    recover::OutDb* out, recover::Report* r) {
  const TreePlan* catalog = nullptr;
  for (const TreePlan& tree : forest.trees) {
    if (tree.kind == TreeKind::kCatalog) {
      catalog = &tree;
      continue;
    }
    r->trees.emplace_back();
    SOMBRA_RETURN_IF_ERROR(RecoverTree(src, table, forest, tree, out, &r->trees.back()));
    ++r->out_trees;
  }
  r->trees.emplace_back();
  SOMBRA_RETURN_IF_ERROR(RecoverTree(src, table, forest, *catalog, out, &r->trees.back()));
  for (const TreeReport& t : r->trees) {
    if (t.plan->kind == TreeKind::kCatalog) continue;
    r->records += t.yield.records;
    r->superseded += t.yield.superseded;
    r->values_lost += t.yield.lost_values.size();
  }
  return Status::OK();
}

// The page size and salt, from FILE and its log opened read-only.
Result<recover::Params> ChooseParams(const std::string& path, const Flags& flags) {
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          Env::Default()->OpenFile(path, OpenMode::kReadOnly));
  Result<std::unique_ptr<File>> wal = Env::Default()->OpenFile(path + "-wal", OpenMode::kReadOnly);
  return recover::ChooseParams(path, file.get(), wal.ok() ? wal->get() : nullptr, flags.page_size);
}

// FILE must be a regular file, OUT must not exist.
std::string CheckPaths(const std::string& path, const std::string& out_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return "no such file: " + path;
  if (st.type() != fs::file_type::regular) return path + " is not a regular file";
  for (const std::string& p : {out_path, out_path + "-wal"}) {
    if (fs::exists(fs::symlink_status(p, ec))) {
      return "recover: " + p + " exists; OUT must be a new database";
    }
  }
  return "";
}

}  // namespace

int RunRecover(const std::string& path, const std::string& out_path, const Flags& flags,
               std::ostream& out, std::ostream& err) {
  if (std::string why = CheckPaths(path, out_path); !why.empty()) return PrintError(err, why);
  Result<recover::Params> params = ChooseParams(path, flags);
  if (!params.ok()) return PrintError(err, params.status().message());
  Result<std::unique_ptr<PageSource>> src = PageSource::Open(path, *params);
  if (!src.ok()) return PrintError(err, src.status().message());
  PageTable table;
  Forest forest;
  Status s = recover::ScanPages(**src, &table);
  if (s.ok()) {
    s = recover::BuildForest(table, (*src)->roots(), CatalogReaderOf(**src, table, forest),
                             &forest);
  }
  if (!s.ok()) return PrintError(err, "recover: reading " + path + ": " + s.message());
  Result<std::unique_ptr<recover::OutDb>> db = recover::OutDb::Create(out_path, params->page_size);
  if (!db.ok()) {
    return PrintError(err, "recover: creating " + out_path + ": " + db.status().message());
  }
  recover::Report report;
  report.file = path;
  report.out = out_path;
  report.params = *params;
  report.src = src->get();
  report.table = &table;
  report.forest = &forest;
  s = RecoverTrees(**src, table, forest, db->get(), &report);
  if (s.ok()) s = (*db)->Finish();
  if (!s.ok()) {
    return PrintError(err, "recover: writing " + out_path + " (left incomplete): " + s.message());
  }
  if (flags.json) {
    recover::WriteReport(report, out);
  } else {
    recover::PrintReport(report, out);
  }
  return report.Complete() ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
