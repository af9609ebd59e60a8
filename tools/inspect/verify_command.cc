// sombra-inspect FILE verify: btree::VerifyDatabase (what DB::Verify and
// `sombra verify` run) over the database's state after the log, then the
// log, which must not hold a damaged committed transaction. This file only
// feeds it the pages and prints its report.
#include <string>
#include <vector>

#include "btree/db_verify.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"

namespace sombra::inspect {
namespace {

// The database's state after the log: pages as InspectedFile::ReadPage
// gives them (from the file; a page from the log sealed as the checkpoint
// will write it), the tree rules over its snapshot. Without a snapshot (the
// log could not be replayed) the pages of the file are still checked.
Result<btree::VerifyReport> VerifyInspected(const InspectedFile& db) {
  std::vector<uint8_t> buf;
  btree::VerifyTarget t;
  t.file = db.path();
  t.metas = db.choice();
  t.state = db.state();
  t.page_size = db.page_size();
  t.salt = db.meta().salt;
  t.read = [&db, &buf](uint32_t page_no) -> Result<const uint8_t*> {
    bool complete = false;
    SOMBRA_RETURN_IF_ERROR(db.ReadPage(page_no, &buf, &complete));
    if (!complete) return static_cast<const uint8_t*>(nullptr);
    return static_cast<const uint8_t*>(buf.data());
  };
  t.pages_sealed = true;
  t.tree = db.snapshot();
  return btree::VerifyDatabase(t);
}

std::string Summary(size_t problems, uint64_t pages) {
  const std::string p = std::to_string(pages) + (pages == 1 ? " page" : " pages");
  if (problems == 0) return "verified " + p + ": OK";
  return std::to_string(problems) + (problems == 1 ? " problem in " : " problems in ") + p;
}

}  // namespace

int RunVerify(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  Result<btree::VerifyReport> report = VerifyInspected(db);
  if (!report.ok()) return PrintError(err, report.status().message());
  const std::vector<btree::VerifyProblem>& problems = report->problems;
  const bool log_note = !db.log_note().empty();  // printed after the pages' problems
  const size_t count = problems.size() + (log_note ? 1 : 0);
  if (flags.json) {
    JsonWriter json(out);
    json.BeginObject();
    json.Field("command", "verify");
    json.Field("file", db.path());
    json.BoolField("live", db.live());
    json.Field("meta_in_force", uint64_t{db.choice().slot});
    json.Field("pages", db.page_count());
    json.BoolField("ok", count == 0);
    json.Key("problems");
    json.BeginArray();
    json.ProblemObjects(problems);
    if (log_note) {
      json.BeginObject();
      json.Field("log", db.path() + "-wal");
      json.Field("what", db.log_note());
      json.EndObject();
    }
    json.EndArray();
    json.Field("summary", Summary(count, db.page_count()));
    json.EndObject();
    out << '\n';
  } else {
    for (const btree::VerifyProblem& p : problems) {
      out << "page " << p.page << ": " << p.what << '\n';
    }
    if (log_note) out << "log " << db.path() << "-wal: " << db.log_note() << '\n';
    out << Summary(count, db.page_count()) << '\n';
  }
  return count == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
