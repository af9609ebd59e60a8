// recover: every data page as the database has it, and where the roots
// are named (docs/tools.md, "recover", "What it reads").
#include <algorithm>
#include <cstring>

#include "inspect/inspect_internal.h"
#include "inspect/recover.h"
#include "util/coding.h"

namespace sombra::inspect::recover {
namespace {

uint64_t PageLsn(const uint8_t* page) { return DecodeFixed64(page + pager::kHeaderLsnOffset); }

// Reads page `page_no` of `file` into *buf (page_size bytes, zeros past the
// end).
Status ReadFilePage(File* file, uint32_t page_no, uint32_t page_size, std::vector<uint8_t>* buf) {
  buf->assign(page_size, 0);
  size_t got = 0;
  return file->ReadAt(uint64_t{page_no} * page_size, page_size,
                      reinterpret_cast<char*>(buf->data()), &got);
}

}  // namespace

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

PageSource::~PageSource() = default;

Result<std::unique_ptr<PageSource>> PageSource::Open(const std::string& path,
                                                     const Params& params) {
  std::unique_ptr<PageSource> src(new PageSource(path, params));
  Result<std::unique_ptr<InspectedFile>> db = InspectedFile::Open(path);
  if (db.ok() && (*db)->snapshot() != nullptr && (*db)->page_size() == params.page_size &&
      (*db)->meta().salt == params.salt) {
    SOMBRA_RETURN_IF_ERROR(src->OpenThroughPager(std::move(db).value()));
  } else {
    SOMBRA_RETURN_IF_ERROR(src->OpenAlone());
  }
  return src;
}

Status PageSource::OpenThroughPager(std::unique_ptr<InspectedFile> db) {
  db_ = std::move(db);
  file_pages_ = db_->file_size() / page_size();
  const pager::TreeState& st = db_->state();
  pages_ = std::max<uint64_t>(file_pages_, st.page_count);
  // The meta page in force (or the log header's copy of it) after the log.
  roots_.push_back({"the pager's state (LSN " + std::to_string(st.lsn) + ")", st.root,
                    st.catalog_root, st.page_count, st.lsn});
  log_.transactions = db_->log_transactions();
  log_.damaged = db_->log_damaged();
  log_.note = !db_->log_note().empty()
                  ? db_->log_note()
                  : Plural(log_.transactions, "committed transaction", "committed transactions") +
                        " replayed by the pager";
  for (int slot = 0; slot < 2; ++slot) meta_status_[slot] = db_->choice().slot_status[slot];
  AddMetaSources();
  return Status::OK();
}

Status PageSource::OpenAlone() {
  SOMBRA_ASSIGN_OR_RETURN(file_, Env::Default()->OpenFile(path_, OpenMode::kReadOnly));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t size, file_->Size());
  file_pages_ = size / page_size();
  pages_ = file_pages_;
  SOMBRA_RETURN_IF_ERROR(ReadLog());
  for (const auto& [page_no, bytes] : log_pages_) {
    pages_ = std::max<uint64_t>(pages_, uint64_t{page_no} + 1);
  }
  CheckMetas();
  AddMetaSources();
  return Status::OK();
}

void PageSource::CheckMetas() {
  std::vector<uint8_t> buf;
  for (uint32_t slot = 0; slot < 2; ++slot) {
    size_t got = 0;
    buf.assign(page_size(), 0);
    Status s = file_->ReadAt(uint64_t{slot} * page_size(), page_size(),
                             reinterpret_cast<char*>(buf.data()), &got);
    if (s.ok()) s = pager::DecodeMeta(buf.data(), got, slot, path_).status();
    meta_status_[slot] = s;
  }
}

// Each meta page whose stored salt is the chosen one: the valid ones
// (newest first), then the damaged ones whose fields still fit.
void PageSource::AddMetaSources() {
  std::vector<std::pair<RawMeta, uint32_t>> metas;
  std::vector<uint8_t> buf;
  for (uint32_t slot = 0; slot < 2; ++slot) {
    bool complete = false;
    const Status s = db_ != nullptr ? db_->ReadPage(slot, &buf, &complete)
                                    : ReadFilePage(file_.get(), slot, page_size(), &buf);
    if (s.ok()) metas.emplace_back(DecodeRawMeta(buf.data()), slot);
  }
  std::sort(metas.begin(), metas.end(), [this](const auto& a, const auto& b) {
    const bool va = meta_status_[a.second].ok();
    const bool vb = meta_status_[b.second].ok();
    if (va != vb) return va;
    return a.first.checkpoint_seq > b.first.checkpoint_seq;
  });
  for (const auto& [m, slot] : metas) {
    // A damaged meta page is trusted when its salt is this database's (its
    // page size field may be what was damaged) and its fields fit.
    const bool valid = meta_status_[slot].ok();
    if (m.salt != salt() || (valid && m.page_size != page_size())) continue;
    if (!valid && (m.root >= pages_ || m.catalog_root >= pages_ || m.page_count > pages_)) continue;
    const RootSource source{"meta page " + std::to_string(slot) + (valid ? "" : " (damaged)"),
                            m.root, m.catalog_root, m.page_count, m.checkpoint_lsn};
    const bool known = std::any_of(roots_.begin(), roots_.end(), [&source](const RootSource& r) {
      return r.root == source.root && r.catalog_root == source.catalog_root &&
             r.page_count == source.page_count && r.lsn == source.lsn;
    });
    if (!known) roots_.push_back(source);
  }
}

uint64_t PageSource::known_page_count() const {
  uint64_t n = 0;
  for (const RootSource& r : roots_) n = std::max(n, r.page_count);
  return std::min(n, pages_);
}

bool PageSource::live() const { return db_ != nullptr && db_->live(); }

Status PageSource::Read(uint32_t page_no, std::vector<uint8_t>* buf, bool* from_log) const {
  if (from_log != nullptr) *from_log = false;
  if (db_ != nullptr) {
    bool complete = false;
    return db_->ReadPage(page_no, buf, &complete, from_log);
  }
  SOMBRA_RETURN_IF_ERROR(ReadFilePage(file_.get(), page_no, page_size(), buf));
  auto it = log_pages_.find(page_no);
  if (it == log_pages_.end()) return Status::OK();
  const uint8_t* logged = reinterpret_cast<const uint8_t*>(it->second.data());
  // The file's page stands when it is valid and at least as new.
  if (pager::VerifyPage(buf->data(), page_size(), page_no, salt(), path_).ok() &&
      PageLsn(buf->data()) >= PageLsn(logged)) {
    return Status::OK();
  }
  buf->assign(logged, logged + page_size());
  if (from_log != nullptr) *from_log = true;
  return Status::OK();
}

}  // namespace sombra::inspect::recover
