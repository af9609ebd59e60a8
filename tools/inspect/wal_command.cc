// sombra-inspect FILE wal: the write-ahead log FILE-wal, record by record,
// where its valid prefix ends and what recovery would make of it
// (docs/format/wal.md).
//
// The log is read through wal::WalReader (pread only: no map, no lock, no
// write). Beside a writer (its mark held in FILE-shm) a reading that fails
// or looks damaged is read again, and the output says the log is live. The page file FILE need not
// be valid: when its meta page is readable, the report also says whether the log belongs to it and
// which transactions recovery would replay.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "pager/beside_writer.h"
#include "pager/format.h"
#include "util/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal/wal_record.h"

namespace sombra::inspect {
namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

std::string Plural(uint64_t n, const char* one, const char* many) {
  return Num(n) + " " + (n == 1 ? one : many);
}

// NotFound, or InvalidArgument for a directory or a special file (opening a
// FIFO would block); OK for a regular file.
Status CheckRegularFile(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return Status::NotFound("no such file: " + path);
  if (ec) return Status::IOError("cannot stat " + path + ": " + ec.message());
  if (st.type() == fs::file_type::directory) {
    return Status::InvalidArgument(path + " is a directory, not a log file");
  }
  if (st.type() != fs::file_type::regular) {
    return Status::InvalidArgument(path + " is not a regular file");
  }
  return Status::OK();
}

// One valid record, as listed.
struct RecordLine {
  uint64_t index = 0;
  uint64_t offset = 0;
  wal::RecordType type = wal::RecordType::kInvalid;
  uint32_t page_no = 0;   // image, delta
  uint64_t lsn = 0;       // image: page LSN; delta: new LSN; commit: LSN
  uint64_t base_lsn = 0;  // delta
  uint32_t stored = 0;    // payload length as stored
  uint64_t raw = 0;       // image: page size; delta: bytes in its ranges; ops: op bytes
  bool compressed = false;
  uint64_t ranges = 0;  // delta: ranges; ops: ops
  // Page ops from an ops group: the entry's number among the group's
  // entries (0 of 0: a record of its own).
  uint32_t group_entry = 0;
  uint32_t group_entries = 0;
  wal::CommitInfo commit;
  uint64_t checksum = 0;
};

const char* TypeName(wal::RecordType type) {
  switch (type) {
    case wal::RecordType::kPageImage:
      return "image";
    case wal::RecordType::kPageDelta:
      return "delta";
    case wal::RecordType::kCommit:
      return "commit";
    case wal::RecordType::kPageOps:
      return "ops";
    case wal::RecordType::kOpsGroup:
      return "group";
    case wal::RecordType::kInvalid:
      break;
  }
  return "invalid";
}

RecordLine Describe(const wal::Record& rec, uint32_t page_size) {
  RecordLine r;
  r.index = rec.index;
  r.offset = rec.offset;
  r.type = rec.type;
  r.stored = rec.length;
  r.compressed = rec.compressed;
  r.checksum = rec.checksum;
  r.group_entry = rec.group_entry;
  r.group_entries = rec.group_entries;
  switch (rec.type) {
    case wal::RecordType::kPageImage:
      r.page_no = rec.page_no;
      r.lsn = rec.page_lsn;
      r.raw = page_size;
      break;
    case wal::RecordType::kPageDelta:
      r.page_no = rec.page_no;
      r.base_lsn = rec.base_lsn;
      r.lsn = rec.new_lsn;
      r.ranges = rec.ranges.size();
      for (const wal::DeltaRange& range : rec.ranges) r.raw += range.bytes.size();
      break;
    case wal::RecordType::kPageOps:
      r.page_no = rec.page_no;
      r.base_lsn = rec.base_lsn;
      r.lsn = rec.new_lsn;
      r.ranges = wal::CountPageOps(rec.ops);
      r.raw = rec.ops.size();
      break;
    case wal::RecordType::kCommit:
      r.lsn = rec.commit.lsn;
      r.commit = rec.commit;
      break;
    case wal::RecordType::kOpsGroup:  // WalReader::Next returns its entries instead
    case wal::RecordType::kInvalid:
      break;
  }
  return r;
}

// The page file's newest valid meta page, when there is one.
struct PageFileInfo {
  bool readable = false;
  std::string problem;  // why not readable
  pager::Meta meta;
};

PageFileInfo ReadPageFile(const std::string& path) {
  PageFileInfo info;
  Status s = CheckRegularFile(path);
  if (s.ok()) {
    Result<std::unique_ptr<File>> file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
    if (!file.ok()) {
      s = file.status();
    } else {
      Result<pager::MetaChoice> choice = pager::ReadNewestMeta(file->get());
      if (choice.ok()) {
        info.readable = true;
        info.meta = choice->meta;
        return info;
      }
      s = choice.status();
    }
  }
  info.problem = s.message();
  return info;
}

// What recovery would do with the log's committed transactions, simulated
// as pager::Pager::Recover does it (lib/pager/pager_recovery.cc): replay
// every transaction with LSN > the checkpoint LSN, each delta applied on
// the page as the replayed images and deltas left it.
class ReplayCheck {
 public:
  // `file_lsn` (logs of format 8 and 9, whose deltas may apply on the page
  // file's page): the LSN of a page of the page file, nullopt when it does
  // not verify (recovery would take a double-write copy, not checked here).
  ReplayCheck(uint64_t checkpoint_lsn, std::function<std::optional<uint64_t>(uint32_t)> file_lsn)
      : checkpoint_lsn_(checkpoint_lsn), file_lsn_(std::move(file_lsn)) {}

  void Add(const RecordLine& r) {
    if (r.type != wal::RecordType::kCommit) {
      txn_.push_back(&r);
      return;
    }
    if (r.lsn > checkpoint_lsn_) {
      ++replayed_;
      if (!first_) first_ = r.lsn;
      last_ = r.lsn;
      for (const RecordLine* p : txn_) Apply(*p, r.lsn);
    } else {
      ++skipped_;
    }
    txn_.clear();
  }

  uint64_t replayed() const { return replayed_; }
  uint64_t skipped() const { return skipped_; }
  std::optional<uint64_t> first() const { return first_; }
  uint64_t last() const { return last_; }
  // The first delta recovery could not apply (it would report Corruption).
  const std::string& problem() const { return problem_; }

 private:
  void Apply(const RecordLine& r, uint64_t txn_lsn) {
    if (!problem_.empty()) return;  // recovery stops at the first
    if (r.type == wal::RecordType::kPageImage) {
      page_lsn_[r.page_no] = r.lsn;
      return;
    }
    const std::string where = "record " + Num(r.index) + " at offset " + Num(r.offset) +
                              ": delta for page " + Num(r.page_no) + " in transaction " +
                              Num(txn_lsn);
    auto it = page_lsn_.find(r.page_no);
    if (it == page_lsn_.end() && file_lsn_) {
      const std::optional<uint64_t> lsn = file_lsn_(r.page_no);
      it = page_lsn_.emplace(r.page_no, lsn.value_or(r.base_lsn)).first;
    }
    if (it == page_lsn_.end()) {
      problem_ = where + " has no page image since the checkpoint";
    } else if (file_lsn_ && it->second >= r.lsn) {
      // The page file has it (a checkpoint that did not complete).
    } else if (it->second != r.base_lsn) {
      problem_ =
          where + " applies on LSN " + Num(r.base_lsn) + ", the page has LSN " + Num(it->second);
    } else {
      it->second = r.lsn;
    }
  }

  const uint64_t checkpoint_lsn_;
  const std::function<std::optional<uint64_t>(uint32_t)> file_lsn_;
  std::vector<const RecordLine*> txn_;
  std::map<uint32_t, uint64_t> page_lsn_;
  uint64_t replayed_ = 0;
  uint64_t skipped_ = 0;
  std::optional<uint64_t> first_;
  uint64_t last_ = 0;
  std::string problem_;
};

// Everything the wal command reports, computed once for both outputs.
struct WalReport {
  bool live = false;  // a writer holds the database (FILE-shm)
  std::string db_path;
  std::string wal_path;
  uint64_t file_size = 0;
  wal::WalHeader header;
  PageFileInfo page_file;
  std::vector<RecordLine> records;
  uint64_t commits = 0;

  wal::StopReason stop_reason = wal::StopReason::kNone;
  uint64_t stop_offset = 0;
  uint64_t stop_record = 0;
  std::string stop_detail;
  uint64_t stop_txn_lsn = 0;
  uint64_t valid_end = 0;
  uint64_t committed_end = 0;
  uint64_t last_commit_lsn = 0;
  bool probed = false;
  wal::WalReader::ProbeResult probe;
  std::string corruption;  // StopAsCorruption() when the probe found the damage durable

  // Recovery, when the page file's meta is readable.
  bool salt_matches = false;
  bool page_size_matches = false;
  bool log_used = false;  // the log belongs to the page file
  uint64_t replayed = 0;
  uint64_t skipped = 0;
  std::optional<uint64_t> replay_first;
  uint64_t replay_last = 0;
  std::string replay_problem;
  std::string gap;  // transactions missing between the page file and the log

  uint64_t discarded() const { return valid_end - committed_end; }
  bool end_stop() const {
    return stop_reason == wal::StopReason::kEndOfLog || stop_reason == wal::StopReason::kTruncated;
  }
  bool damaged() const { return probed && probe.stop_was_durable; }
  // Recovery of the page file would refuse to open it (when it uses the log).
  bool recovery_refuses() const { return log_used && (damaged() || !replay_problem.empty()); }
  // Exit 1: a synced transaction is damaged (whichever page file the log
  // is next to), or recovery would refuse the log.
  bool failed() const { return damaged() || recovery_refuses(); }
};

// Reads the log. A status that is not OK is the one-line error (exit 2).
Status Analyse(const std::string& db_path, WalReport* r) {
  r->db_path = db_path;
  r->wal_path = db_path + "-wal";
  SOMBRA_RETURN_IF_ERROR(CheckRegularFile(r->wal_path));
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          Env::Default()->OpenFile(r->wal_path, OpenMode::kReadOnly));
  wal::WalReader reader(file.get());
  SOMBRA_RETURN_IF_ERROR(reader.Open());
  r->header = reader.header();
  r->file_size = reader.file_size();

  wal::Record rec;
  while (reader.Next(&rec)) {
    r->records.push_back(Describe(rec, r->header.page_size));
    if (rec.type == wal::RecordType::kCommit) ++r->commits;
  }
  if (reader.stop_reason() == wal::StopReason::kIOError) return reader.status();
  r->stop_reason = reader.stop_reason();
  r->stop_offset = reader.stop_offset();
  r->stop_record = reader.stop_record_index();
  r->stop_detail = reader.stop_detail();
  r->stop_txn_lsn = reader.stop_txn_lsn();
  r->valid_end = reader.valid_end_offset();
  r->committed_end = reader.committed_end_offset();
  r->last_commit_lsn = reader.last_commit_lsn();
  // The same probe as recovery's (a zeroed record header in the middle of
  // the log, or a cut one, may hide later commits); shown for an end stop
  // only when it found records.
  SOMBRA_ASSIGN_OR_RETURN(r->probe, reader.ProbePastStop());
  r->probed = !r->end_stop() || r->probe.records_found > 0;
  if (r->probe.stop_was_durable) r->corruption = reader.StopAsCorruption().message();

  r->page_file = ReadPageFile(db_path);
  if (r->page_file.readable) {
    const pager::Meta& meta = r->page_file.meta;
    r->salt_matches = meta.salt == r->header.db_salt;
    r->page_size_matches = meta.page_size == r->header.page_size;
    r->log_used = r->salt_matches && r->page_size_matches;
  }
  if (r->log_used) {
    const uint64_t checkpoint_lsn = r->page_file.meta.checkpoint_lsn;
    std::unique_ptr<File> page_file;
    if (auto f = Env::Default()->OpenFile(db_path, OpenMode::kReadOnly); f.ok()) {
      page_file = std::move(*f);
    }
    std::function<std::optional<uint64_t>(uint32_t)> file_lsn;
    if (wal::AllowsFileBases(r->header.version) && page_file != nullptr) {
      file_lsn = [&](uint32_t page_no) -> std::optional<uint64_t> {
        const pager::Meta& meta = r->page_file.meta;
        std::string page(meta.page_size, '\0');
        size_t got = 0;
        const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
        if (!page_file->ReadAt(uint64_t{page_no} * meta.page_size, page.size(), page.data(), &got)
                 .ok() ||
            got != page.size() ||
            !pager::VerifyPage(p, meta.page_size, page_no, meta.salt, db_path).ok()) {
          return std::nullopt;
        }
        return DecodeFixed64(p + pager::kHeaderLsnOffset);
      };
    }
    ReplayCheck replay(checkpoint_lsn, std::move(file_lsn));
    for (const RecordLine& line : r->records) replay.Add(line);
    r->replayed = replay.replayed();
    r->skipped = replay.skipped();
    r->replay_first = replay.first();
    r->replay_last = replay.last();
    r->replay_problem = replay.problem();
    // A log restarted at a checkpoint starts at its LSN + 1; a crash before
    // the restart leaves an older log (start LSN lower). A higher start LSN
    // means the page file lacks transactions the log no longer holds.
    if (r->commits > 0 && r->header.start_lsn > checkpoint_lsn + 1) {
      const uint64_t first = checkpoint_lsn + 1;
      const uint64_t last = r->header.start_lsn - 1;
      r->gap = "the log starts at LSN " + Num(r->header.start_lsn) +
               ", but the page file's checkpoint LSN is " + Num(checkpoint_lsn) + ": " +
               (first == last ? "transaction " + Num(first) + " is"
                              : "transactions " + Num(first) + " to " + Num(last) + " are") +
               " in neither";
    }
  }
  return Status::OK();
}

std::string LsnText(const RecordLine& r) {
  if (r.type == wal::RecordType::kPageDelta || r.type == wal::RecordType::kPageOps) {
    return Num(r.base_lsn) + "->" + Num(r.lsn);
  }
  return Num(r.lsn);
}

// `trees`: the log's format carries the catalog root (formats 6 and 7).
std::string CommitText(const wal::CommitInfo& c, bool trees) {
  return "txn " + Num(c.txn_id) + ", root " + Num(c.root) + ", page count " + Num(c.page_count) +
         ", freelist head " + Num(c.freelist_head) + ", freelist count " + Num(c.freelist_count) +
         ", durable lsn " + Num(c.durable_lsn) + ", records " + Num(c.record_count) +
         (trees ? ", catalog root " + Num(c.catalog_root) : std::string());
}

// How the log ends, judged on the log alone.
std::string LogVerdict(const WalReport& r) {
  if (r.damaged()) {
    return "damaged: a commit written after transaction " + Num(r.stop_txn_lsn) +
           " was synced follows the bad record (durable lsn " + Num(*r.probe.max_durable_lsn) +
           " >= " + Num(r.stop_txn_lsn) + ")";
  }
  if (r.stop_reason == wal::StopReason::kEndOfLog && r.discarded() == 0) {
    return "clean: the log ends after its last commit";
  }
  if (r.end_stop()) return "torn tail: the records after the last commit are dropped";
  return "torn tail: no later commit shows the bad record's transaction was synced";
}

// What recovery would do, when the page file says.
std::string RecoveryVerdict(const WalReport& r) {
  if (!r.page_file.readable) return "unknown: the page file's meta is not readable";
  if (!r.log_used) {
    return std::string("ignores the log: its ") + (r.salt_matches ? "page size" : "database salt") +
           " is not the page file's";
  }
  if (r.damaged()) return "refuses to open: Corruption: " + r.corruption;
  if (!r.replay_problem.empty()) return "refuses to open: Corruption: " + r.replay_problem;
  if (r.replayed == 0) return "replays nothing";
  return "replays " + Plural(r.replayed, "transaction", "transactions");
}

std::string ReplayText(const WalReport& r) {
  if (!r.replay_first) return "none";
  const std::string lsns = *r.replay_first == r.replay_last
                               ? Num(r.replay_last)
                               : Num(*r.replay_first) + " to " + Num(r.replay_last);
  return "lsn " + lsns + " (" + Plural(r.replayed, "transaction", "transactions") + ")";
}

// The evidence ProbePastStop gathered, in one line.
std::string ProbeText(const wal::WalReader::ProbeResult& p) {
  std::string text = Plural(p.records_found, "valid record", "valid records") + " and " +
                     Plural(p.commits_found, "commit", "commits") + " past the stop";
  if (p.first_commit_lsn) text += "; first commit lsn " + Num(*p.first_commit_lsn);
  if (p.max_durable_lsn) text += ", highest durable lsn " + Num(*p.max_durable_lsn);
  return text;
}

std::string MatchText(bool matches) { return matches ? "matches the log" : "differs from the log"; }

void PrintRecords(const std::vector<RecordLine>& records, bool trees, std::ostream& out) {
  if (records.empty()) {
    out << "records: none\n";
    return;
  }
  out << "records:\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"#", "offset", "type", "page", "lsn", "stored", "raw", "comp", "ranges", "checksum"});
  for (const RecordLine& r : records) {
    const bool commit = r.type == wal::RecordType::kCommit;
    const bool delta = r.type == wal::RecordType::kPageDelta || r.type == wal::RecordType::kPageOps;
    // An ops group's entries share its number (shown as number.entry),
    // offset and stored length (shown on the first).
    const bool grouped = r.group_entries > 0;
    rows.push_back({grouped ? Num(r.index) + "." + Num(r.group_entry) : Num(r.index), Num(r.offset),
                    TypeName(r.type), commit ? "-" : Num(r.page_no), LsnText(r),
                    grouped && r.group_entry > 0 ? "-" : Num(r.stored), commit ? "-" : Num(r.raw),
                    r.compressed ? "lz4" : "-", delta ? Num(r.ranges) : "-",
                    wal::Hex64(r.checksum) + " ok"});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (size_t n = 0; n < rows.size(); ++n) {
    std::string line = "  ";
    for (size_t i = 0; i < rows[n].size(); ++i) {
      line += rows[n][i];
      if (i + 1 < rows[n].size()) line.append(width[i] - rows[n][i].size() + 2, ' ');
    }
    if (n > 0 && records[n - 1].type == wal::RecordType::kCommit) {
      line += "  " + CommitText(records[n - 1].commit, trees);
    }
    out << line << '\n';
  }
}

// The header's copy of the meta page the generation starts from.
std::string BaseText(const wal::WalHeader& h) {
  if (!h.has_base()) return "none (format 1)";
  const wal::WalBase& b = h.base;
  std::string text = "seq " + Num(b.checkpoint_seq) + ", root " + Num(b.root) + ", page count " +
                     Num(b.page_count) + ", freelist " + Num(b.freelist_head) + "/" +
                     Num(b.freelist_count);
  if (wal::HasCatalogRoot(h.version)) text += ", catalog root " + Num(b.catalog_root);
  return text;
}

void PrintText(const WalReport& r, std::ostream& out) {
  const wal::WalHeader& h = r.header;
  out << "wal: " << r.wal_path << '\n';
  PrintField(out, "file size", Num(r.file_size));
  PrintField(out, "format version", Num(h.version));
  PrintField(out, "page size", Num(h.page_size));
  PrintField(out, "salt", wal::Hex64(h.salt));
  PrintField(out, "generation", Num(h.generation));
  PrintField(out, "database salt", wal::Hex64(h.db_salt));
  PrintField(out, "start lsn", Num(h.start_lsn));
  PrintField(out, "base meta", BaseText(h));

  out << "page file: " << r.db_path << '\n';
  if (r.page_file.readable) {
    const pager::Meta& m = r.page_file.meta;
    PrintField(out, "salt", wal::Hex64(m.salt) + " (" + MatchText(r.salt_matches) + ")");
    PrintField(out, "page size", Num(m.page_size) + " (" + MatchText(r.page_size_matches) + ")");
    PrintField(out, "checkpoint lsn", Num(m.checkpoint_lsn));
  } else {
    PrintField(out, "meta", "not readable: " + r.page_file.problem);
  }

  PrintRecords(r.records, wal::HasCatalogRoot(h.version), out);

  out << "stop:\n";
  PrintField(out, "reason", wal::StopReasonName(r.stop_reason));
  PrintField(out, "offset", Num(r.stop_offset));
  PrintField(out, "record", Num(r.stop_record));
  PrintField(out, "detail", r.stop_detail);
  PrintField(out, "committed end", Num(r.committed_end));
  PrintField(out, "discarded bytes", Num(r.discarded()));
  if (r.probed) PrintField(out, "probe", ProbeText(r.probe));
  PrintField(out, "verdict", LogVerdict(r));
  out << "recovery:\n";
  if (r.log_used) {
    PrintField(out, "replays", ReplayText(r));
    PrintField(out, "skips",
               r.skipped == 0
                   ? "none"
                   : Plural(r.skipped, "transaction", "transactions") + " (lsn <= checkpoint lsn)");
    if (!r.gap.empty()) PrintField(out, "warning", r.gap);
  }
  PrintField(out, "verdict", RecoveryVerdict(r));
}

// "header": the log header, with its base meta (format 2 on).
void WriteHeaderJson(const wal::WalHeader& h, JsonWriter* json) {
  json->Key("header");
  json->BeginObject();
  json->Field("format_version", uint64_t{h.version});
  json->Field("page_size", uint64_t{h.page_size});
  json->Field("salt", wal::Hex64(h.salt));
  json->Field("generation", h.generation);
  json->Field("db_salt", wal::Hex64(h.db_salt));
  json->Field("start_lsn", h.start_lsn);
  if (h.has_base()) {
    json->Key("base_meta");
    json->BeginObject();
    json->Field("checkpoint_seq", h.base.checkpoint_seq);
    json->Field("root", uint64_t{h.base.root});
    json->Field("page_count", h.base.page_count);
    json->Field("freelist_head", uint64_t{h.base.freelist_head});
    json->Field("freelist_count", h.base.freelist_count);
    if (wal::HasCatalogRoot(h.version)) json->Field("catalog_root", uint64_t{h.base.catalog_root});
    json->EndObject();
  }
  json->EndObject();
}

// One record of "records"; `trees`: the format carries the catalog root.
void WriteRecordJson(const RecordLine& rec, bool trees, JsonWriter* json) {
  json->BeginObject();
  json->Field("index", rec.index);
  json->Field("offset", rec.offset);
  json->Field("type", TypeName(rec.type));
  if (rec.type != wal::RecordType::kCommit) json->Field("page", uint64_t{rec.page_no});
  const bool ops = rec.type == wal::RecordType::kPageOps;
  if (rec.type == wal::RecordType::kPageDelta || ops) json->Field("base_lsn", rec.base_lsn);
  json->Field("lsn", rec.lsn);
  json->Field("stored_length", uint64_t{rec.stored});
  if (rec.type != wal::RecordType::kCommit) json->Field("raw_length", rec.raw);
  json->Field("compression", rec.compressed ? "lz4" : "none");
  if (rec.type == wal::RecordType::kPageDelta) json->Field("ranges", rec.ranges);
  if (ops) json->Field("ops", rec.ranges);
  if (rec.group_entries > 0) {
    json->Field("group_entry", uint64_t{rec.group_entry});
    json->Field("group_entries", uint64_t{rec.group_entries});
  }
  if (rec.type == wal::RecordType::kCommit) {
    const wal::CommitInfo& c = rec.commit;
    json->Field("txn_id", c.txn_id);
    json->Field("root", uint64_t{c.root});
    json->Field("page_count", c.page_count);
    json->Field("freelist_head", uint64_t{c.freelist_head});
    json->Field("freelist_count", c.freelist_count);
    json->Field("durable_lsn", c.durable_lsn);
    json->Field("record_count", uint64_t{c.record_count});
    if (trees) json->Field("catalog_root", uint64_t{c.catalog_root});
  }
  json->Field("checksum", wal::Hex64(rec.checksum));
  json->BoolField("checksum_ok", true);
  json->EndObject();
}

void PrintJson(const WalReport& r, std::ostream& out) {
  const wal::WalHeader& h = r.header;
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "wal");
  json.Field("file", r.db_path);
  json.BoolField("live", r.live);
  json.Field("wal", r.wal_path);
  json.Field("file_size", r.file_size);
  WriteHeaderJson(h, &json);

  json.Key("page_file");
  json.BeginObject();
  json.BoolField("readable", r.page_file.readable);
  if (r.page_file.readable) {
    const pager::Meta& m = r.page_file.meta;
    json.Field("salt", wal::Hex64(m.salt));
    json.BoolField("salt_matches", r.salt_matches);
    json.Field("page_size", uint64_t{m.page_size});
    json.BoolField("page_size_matches", r.page_size_matches);
    json.Field("checkpoint_lsn", m.checkpoint_lsn);
  } else {
    json.Field("problem", r.page_file.problem);
  }
  json.EndObject();

  json.Key("records");
  json.BeginArray();
  for (const RecordLine& rec : r.records) {
    WriteRecordJson(rec, wal::HasCatalogRoot(h.version), &json);
  }
  json.EndArray();

  json.Key("stop");
  json.BeginObject();
  json.Field("reason", wal::StopReasonName(r.stop_reason));
  json.Field("offset", r.stop_offset);
  json.Field("record", r.stop_record);
  json.Field("detail", r.stop_detail);
  json.Field("txn_lsn", r.stop_txn_lsn);
  json.Field("valid_end_offset", r.valid_end);
  json.Field("committed_end_offset", r.committed_end);
  json.Field("discarded_bytes", r.discarded());
  json.Field("last_commit_lsn", r.last_commit_lsn);
  if (r.probed) {
    const wal::WalReader::ProbeResult& p = r.probe;
    json.Key("probe");
    json.BeginObject();
    json.Field("records_found", p.records_found);
    json.Field("commits_found", p.commits_found);
    json.Key("first_commit_lsn");
    p.first_commit_lsn ? json.Uint(*p.first_commit_lsn) : json.Null();
    json.Key("max_durable_lsn");
    p.max_durable_lsn ? json.Uint(*p.max_durable_lsn) : json.Null();
    json.BoolField("stop_was_durable", p.stop_was_durable);
    json.EndObject();
  }
  json.Field("verdict", LogVerdict(r));
  json.EndObject();

  json.Key("recovery");
  json.BeginObject();
  json.Key("log_used");
  r.page_file.readable ? json.Bool(r.log_used) : json.Null();
  if (r.log_used) {
    json.Field("replayed_transactions", r.replayed);
    json.Key("replay_first_lsn");
    r.replay_first ? json.Uint(*r.replay_first) : json.Null();
    json.Key("replay_last_lsn");
    r.replay_first ? json.Uint(r.replay_last) : json.Null();
    json.Field("skipped_transactions", r.skipped);
    if (!r.replay_problem.empty()) json.Field("replay_problem", r.replay_problem);
    if (!r.gap.empty()) json.Field("warning", r.gap);
  }
  json.Key("refuses");
  r.page_file.readable ? json.Bool(r.recovery_refuses()) : json.Null();
  json.Field("verdict", RecoveryVerdict(r));
  json.EndObject();
  json.EndObject();
  out << '\n';
}

}  // namespace

int RunWal(const std::string& db_path, const Flags& flags, std::ostream& out, std::ostream& err) {
  // Beside a writer the log grows, and is restarted (truncated to its
  // header, or replaced) at its checkpoints: a reading that raced with that
  // may fail (a short read) or look damaged. It is read again, while a
  // writer holds the database or until it reads the same twice.
  WalReport report;
  Status s;
  pager::RetryBesideWriter(db_path, [&]() -> std::string {
    report = WalReport{};
    s = Analyse(db_path, &report);
    if (!s.ok()) return s.IsIOError() || s.IsCorruption() || s.IsBusy() ? s.ToString() : "";
    if (!report.failed()) return "";
    return LogVerdict(report) + "; " + RecoveryVerdict(report) + " at offset " +
           Num(report.stop_offset);
  });
  if (!s.ok()) return PrintError(err, s.message());
  report.live = pager::WriterHoldsMark(db_path);
  if (flags.json) {
    PrintJson(report, out);
  } else {
    if (report.live) {
      out << "live: a writer has this database open; read the log up to LSN "
          << report.last_commit_lsn << '\n';
    }
    PrintText(report, out);
  }
  return report.failed() ? kExitCheckFailed : kExitOk;
}

}  // namespace sombra::inspect
