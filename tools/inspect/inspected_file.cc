#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "env/reader_table.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "inspect/live.h"
#include "pager/settled_meta.h"
#include "util/coding.h"

namespace sombra::inspect {
Result<std::unique_ptr<InspectedFile>> InspectedFile::Open(const std::string& path) {
  // Classify the path first: opening a FIFO would block, and a directory
  // opens fine but fails on the first read with a less helpful message.
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    return Status::NotFound("no such file: " + path);
  }
  if (ec) return Status::IOError("cannot stat " + path + ": " + ec.message());
  if (st.type() == fs::file_type::directory) {
    return Status::InvalidArgument(path + " is a directory, not a database file");
  }
  if (st.type() != fs::file_type::regular) {
    return Status::InvalidArgument(path + " is not a regular file");
  }

  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          Env::Default()->OpenFile(path, OpenMode::kReadOnly));
  SOMBRA_ASSIGN_OR_RETURN(pager::MetaChoice choice, pager::ReadNewestMeta(file.get()));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t file_size, file->Size());
  // DecodeMeta bounds page_count by 2^32 and page_size by 64 KiB: no overflow.
  const uint64_t needed = choice.meta.page_count * choice.meta.page_size;
  if (file_size < needed) {
    return Status::Corruption(path + " is truncated: " + std::to_string(file_size) +
                              " bytes, but meta page " + std::to_string(choice.slot) + " counts " +
                              std::to_string(choice.meta.page_count) + " pages of " +
                              std::to_string(choice.meta.page_size) + " bytes");
  }
  std::unique_ptr<InspectedFile> db(
      new InspectedFile(path, std::move(file), std::move(choice), file_size));
  db->ReplayLog();
  db->live_ = live::SawWriter(db->pager_.get(), path);
  db->SettleMetas();
  return db;
}

std::string InspectedFile::LiveNote() const {
  return "live: a writer has this database open; read at LSN " + std::to_string(state_.lsn) +
         " (snapshot)";
}

void InspectedFile::SettleMetas() {
  pager::MetaPages pages;
  Result<pager::MetaChoice> choice =
      pager::ReadSettledMetas(file_.get(), path_, page_size(), &pages);
  // Kept only when it chose the same page size (a database is never
  // re-created under its readers; the pager would have refused it).
  if (choice.ok() && choice->meta.page_size == page_size()) choice_ = std::move(choice).value();
  meta_pages_[0] = std::move(pages[0]);
  meta_pages_[1] = std::move(pages[1]);
  if (snapshot_ == nullptr) {
    state_ = pager::StateOfMeta(choice_.meta);
  }
}

InspectedFile::InspectedFile(std::string path, std::unique_ptr<File> file, pager::MetaChoice choice,
                             uint64_t file_size)
    : path_(std::move(path)),
      file_(std::move(file)),
      choice_(std::move(choice)),
      file_size_(file_size) {
  state_ = pager::StateOfMeta(choice_.meta);
}

InspectedFile::~InspectedFile() {
  snapshot_.reset();  // before the pager it reads from
  pager_.reset();
}

void InspectedFile::ReplayLog() {
  // Read-only: no lock file, no checkpoint, the log replayed into memory
  // only. Checksums are checked by the commands themselves, which report a
  // damaged page instead of failing the read.
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  options.verify_checksums = false;
  pager::PagerOptions pager_options;
  // Beside a writer the log may be restarted or truncated under the
  // reading: the pager reads it again itself (docs/design/readers.md), as
  // for any read-only DB::Open, so a failure here is the database's.
  Result<std::unique_ptr<pager::Pager>> opened =
      pager::Pager::Open(Env::Default(), path_, options, pager_options);
  if (!opened.ok() && opened.status().IsCorruption()) {
    // A damaged committed transaction: show the valid prefix, as salvage
    // would keep it (a read-only salvage writes nothing either).
    const std::string why = opened.status().message();
    pager_options.salvage_wal = true;
    opened = pager::Pager::Open(Env::Default(), path_, options, pager_options);
    if (opened.ok()) {
      log_damaged_ = true;
      log_note_ = why + "; showing the valid prefix of the log";
    }
  }
  if (!opened.ok()) {
    log_note_ = "log not replayed: " + opened.status().message();
    return;
  }
  pager_ = std::move(opened).value();
  snapshot_ = pager_->BeginRead();
  state_ = snapshot_->state();
  log_transactions_ = pager_->recovery().transactions_replayed;
}

Status InspectedFile::ReadPage(uint64_t page_no, std::vector<uint8_t>* buf, bool* complete,
                               bool* from_log) const {
  const uint32_t ps = page_size();
  if (from_log != nullptr) *from_log = false;
  if (page_no < pager::kFirstDataPage) {
    // As choice() was made from them: a writer's checkpoint may rewrite
    // them at any time.
    const std::vector<uint8_t>& meta = meta_pages_[page_no];
    buf->assign(ps, 0);
    std::memcpy(buf->data(), meta.data(), std::min<size_t>(meta.size(), ps));
    *complete = meta.size() == ps;
    return Status::OK();
  }
  buf->assign(ps, 0);
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(
      file_->ReadAt(page_no * ps, ps, reinterpret_cast<char*>(buf->data()), &got));
  *complete = got == ps;
  if (snapshot_ == nullptr || page_no >= state_.page_count) return Status::OK();
  // The snapshot's page: a version from the log, else the file's page
  // through the pager's map, which no writer elsewhere rewrites while the
  // snapshot is registered. The pread above may have raced with a
  // checkpoint writing a page the snapshot has from the log; it stands
  // only when it holds the snapshot's page as the file stores it.
  Result<const uint8_t*> view = snapshot_->Read(static_cast<uint32_t>(page_no));
  if (!view.ok()) return Status::OK();  // past the mapped file: the file's bytes stand
  const uint8_t* p = *view;
  if (*complete && std::memcmp(p, buf->data(), ps) == 0) return Status::OK();
  std::vector<uint8_t> sealed(p, p + ps);
  pager::SealPage(sealed.data(), ps, meta().salt);
  if (*complete && sealed == *buf) return Status::OK();  // the file holds this version
  *buf = std::move(sealed);
  *complete = true;
  if (from_log != nullptr) *from_log = true;
  return Status::OK();
}

RawMeta DecodeRawMeta(const uint8_t* page) {
  RawMeta m;
  m.magic_ok = pager::HasMetaMagic(page, pager::kMetaEndOffset);
  m.version = DecodeFixed32(page + pager::kMetaVersionOffset);
  m.page_size = DecodeFixed32(page + pager::kMetaPageSizeOffset);
  m.salt = DecodeFixed64(page + pager::kMetaSaltOffset);
  m.page_count = DecodeFixed64(page + pager::kMetaPageCountOffset);
  m.root = DecodeFixed32(page + pager::kMetaRootOffset);
  m.freelist_head = DecodeFixed32(page + pager::kMetaFreelistHeadOffset);
  m.freelist_count = DecodeFixed64(page + pager::kMetaFreelistCountOffset);
  m.checkpoint_seq = DecodeFixed64(page + pager::kMetaCheckpointSeqOffset);
  m.checkpoint_lsn = DecodeFixed64(page + pager::kMetaCheckpointLsnOffset);
  m.catalog_root = DecodeFixed32(page + pager::kMetaCatalogRootOffset);
  m.checksum = DecodeFixed64(page + pager::kHeaderChecksumOffset);
  return m;
}

void PrintRawMeta(const RawMeta& m, std::ostream& out, int indent) {
  PrintField(out, "magic", m.magic_ok ? "ok" : "bad", indent);
  PrintField(out, "format version", std::to_string(m.version), indent);
  PrintField(out, "page size", std::to_string(m.page_size), indent);
  PrintField(out, "salt", pager::Hex64(m.salt), indent);
  PrintField(out, "page count", std::to_string(m.page_count), indent);
  PrintField(out, "root", std::to_string(m.root), indent);
  PrintField(out, "freelist head", std::to_string(m.freelist_head), indent);
  PrintField(out, "freelist count", std::to_string(m.freelist_count), indent);
  PrintField(out, "checkpoint seq", std::to_string(m.checkpoint_seq), indent);
  PrintField(out, "checkpoint lsn", std::to_string(m.checkpoint_lsn), indent);
  PrintField(out, "catalog root", std::to_string(m.catalog_root), indent);
  PrintField(out, "checksum", pager::Hex64(m.checksum), indent);
}

void WriteRawMeta(const RawMeta& m, JsonWriter* json) {
  json->BoolField("magic_ok", m.magic_ok);
  json->Field("format_version", uint64_t{m.version});
  json->Field("page_size", uint64_t{m.page_size});
  json->Field("salt", pager::Hex64(m.salt));
  json->Field("page_count", m.page_count);
  json->Field("root", uint64_t{m.root});
  json->Field("freelist_head", uint64_t{m.freelist_head});
  json->Field("freelist_count", m.freelist_count);
  json->Field("checkpoint_seq", m.checkpoint_seq);
  json->Field("checkpoint_lsn", m.checkpoint_lsn);
  json->Field("catalog_root", uint64_t{m.catalog_root});
  json->Field("checksum", pager::Hex64(m.checksum));
}

void PrintField(std::ostream& out, std::string_view label, std::string_view value, int indent) {
  constexpr size_t kColumn = 21;
  std::string line(static_cast<size_t>(indent), ' ');
  line.append(label);
  line += ':';
  line.append(line.size() < kColumn ? kColumn - line.size() : 1, ' ');
  line.append(value);
  line += '\n';
  out << line;
}

int PrintError(std::ostream& err, std::string_view message) {
  std::string line = "sombra-inspect: ";
  for (char c : message) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      line += buf;
    } else {
      line += c;
    }
  }
  line += '\n';
  err << line << std::flush;
  return kExitError;
}

}  // namespace sombra::inspect
