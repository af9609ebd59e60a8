// sombra-inspect FILE page N: one page decoded, then a hex dump. B+tree
// pages (leaf, internal, overflow) get their body decoded too
// (btree_page.cc).
#include <string>
#include <vector>

#include "inspect/hex_dump.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

// Everything the page command reports, computed once for both outputs.
struct PageReport {
  pager::PageHeader header;
  uint16_t reserved;
  uint64_t computed_checksum;
  Status verify;  // pager::VerifyPage at this position
  bool is_meta;   // a meta slot, or a page whose kind says meta
  Status meta_status;
  RawMeta meta;
  bool is_free;
  uint32_t free_next;
  uint32_t free_nonzero;   // bytes after the link that are not zero
  uint64_t free_position;  // 1-based position on the freelist; 0 when not on it
  bool from_log;
};

// The 1-based position of `page_no` on the freelist from the head in
// db.state(); 0 when the chain does not reach it (or breaks first).
uint64_t FreelistPosition(const InspectedFile& db, uint32_t page_no) {
  std::vector<uint8_t> page;
  uint64_t cur = db.state().freelist_head;
  for (uint64_t pos = 1;
       pos <= db.page_count() && cur >= pager::kFirstDataPage && cur < db.page_count(); ++pos) {
    if (cur == page_no) return pos;
    bool complete = false;
    if (!db.ReadPage(cur, &page, &complete).ok() || !complete) return 0;
    if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kFree)) return 0;
    cur = DecodeFixed32(page.data() + pager::kFreeNextOffset);
  }
  return 0;
}

PageReport Analyse(const InspectedFile& db, uint32_t page_no, const uint8_t* page, bool from_log) {
  PageReport r;
  r.from_log = from_log;
  const uint32_t ps = db.page_size();
  const uint64_t salt = db.meta().salt;
  r.header = pager::DecodePageHeader(page);
  r.reserved = DecodeFixed16(page + pager::kHeaderReservedOffset);
  r.computed_checksum = pager::ComputePageChecksum(page, ps, page_no, salt);
  r.verify = pager::VerifyPage(page, ps, page_no, salt, db.path());
  r.is_meta = page_no < pager::kFirstDataPage ||
              r.header.kind == static_cast<uint8_t>(pager::PageKind::kMeta);
  if (r.is_meta) {
    r.meta_status = page_no < pager::kFirstDataPage
                        ? db.choice().slot_status[page_no]
                        : Status::Corruption("meta page outside slots 0 and 1");
    r.meta = DecodeRawMeta(page);  // page_size >= kMetaEndOffset
  }
  r.is_free = r.header.kind == static_cast<uint8_t>(pager::PageKind::kFree);
  r.free_next = DecodeFixed32(page + pager::kFreeNextOffset);
  r.free_nonzero = 0;
  r.free_position = 0;
  if (r.is_free) {
    for (size_t i = pager::kFreeNextOffset + 4; i < ps; ++i) r.free_nonzero += page[i] != 0;
    r.free_position = FreelistPosition(db, page_no);
  }
  return r;
}

std::string KindText(uint8_t kind) {
  return std::string(pager::PageKindName(kind)) + " (" + std::to_string(kind) + ")";
}

// The flags byte, with the meaning of the one flag a leaf may carry.
std::string FlagsText(uint8_t kind, uint8_t flags) {
  std::string text = std::to_string(flags);
  if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf) &&
      (flags & pager::kLeafFlagNoOverflow) != 0) {
    text += " (no overflow references)";
  }
  return text;
}

void PrintText(const InspectedFile& db, uint32_t page_no, const uint8_t* page, const PageReport& r,
               const Flags& flags, std::ostream& out) {
  const uint64_t ps = db.page_size();
  out << "page " << page_no << " of " << db.path() << '\n';
  PrintField(out, "file offset", std::to_string(page_no * ps));
  PrintField(out, "page size", std::to_string(ps));
  PrintField(out, "kind", KindText(r.header.kind));
  PrintField(out, "flags", FlagsText(r.header.kind, r.header.flags));
  PrintField(out, "reserved", std::to_string(r.reserved));
  PrintField(out, "page no", std::to_string(r.header.page_no));
  PrintField(out, "lsn", std::to_string(r.header.lsn));
  if (r.from_log) PrintField(out, "source", "log (committed, not yet checkpointed)");
  PrintField(out, "stored checksum", pager::Hex64(r.header.checksum));
  PrintField(out, "computed checksum", pager::Hex64(r.computed_checksum));
  PrintField(out, "checksum", r.header.checksum == r.computed_checksum ? "ok" : "mismatch");
  PrintField(out, "valid",
             r.verify.ok() ? "yes" : "no: " + StripWhere(r.verify.message(), page_no, db.path()));
  if (r.is_meta) {
    PrintField(out, "meta",
               r.meta_status.ok()
                   ? "valid"
                   : "invalid: " + StripWhere(r.meta_status.message(), page_no, db.path()));
    PrintRawMeta(r.meta, out, 4);
  }
  if (r.is_free) {
    PrintField(out, "free next",
               r.free_next == 0 ? "0 (end of the freelist)" : std::to_string(r.free_next));
    PrintField(out, "on the freelist",
               r.free_position == 0 ? "no (not reached from the head)"
                                    : "position " + std::to_string(r.free_position) + " of " +
                                          std::to_string(db.state().freelist_count));
    PrintField(out, "free body",
               r.free_nonzero == 0 ? "zero" : std::to_string(r.free_nonzero) + " bytes not zero");
  }
  if (!r.is_meta) PrintBtreePage(page, db.page_size(), out);
  if (flags.hex) {
    for (const std::string& line : HexDumpLines(page, ps)) out << line << '\n';
  }
}

void PrintJson(const InspectedFile& db, uint32_t page_no, const uint8_t* page, const PageReport& r,
               const Flags& flags, std::ostream& out) {
  const uint64_t ps = db.page_size();
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "page");
  json.Field("file", db.path());
  json.BoolField("live", db.live());
  json.Field("page", uint64_t{page_no});
  json.Field("file_offset", page_no * ps);
  json.Field("page_size", ps);
  json.Field("kind", uint64_t{r.header.kind});
  json.Field("kind_name", pager::PageKindName(r.header.kind));
  json.Field("flags", uint64_t{r.header.flags});
  json.Field("reserved", uint64_t{r.reserved});
  json.Field("page_no", uint64_t{r.header.page_no});
  json.Field("lsn", r.header.lsn);
  json.Field("source", r.from_log ? "log" : "file");
  json.Field("stored_checksum", pager::Hex64(r.header.checksum));
  json.Field("computed_checksum", pager::Hex64(r.computed_checksum));
  json.BoolField("checksum_ok", r.header.checksum == r.computed_checksum);
  json.BoolField("valid", r.verify.ok());
  if (!r.verify.ok()) json.Field("problem", StripWhere(r.verify.message(), page_no, db.path()));
  if (r.is_meta) {
    json.Key("meta");
    json.BeginObject();
    json.BoolField("valid", r.meta_status.ok());
    if (!r.meta_status.ok()) {
      json.Field("problem", StripWhere(r.meta_status.message(), page_no, db.path()));
    }
    WriteRawMeta(r.meta, &json);
    json.EndObject();
  }
  if (r.is_free) {
    json.Field("free_next", uint64_t{r.free_next});
    json.Field("freelist_position", r.free_position);
    json.Field("free_body_nonzero_bytes", uint64_t{r.free_nonzero});
  }
  if (!r.is_meta) WriteBtreePage(page, db.page_size(), &json);
  if (flags.hex) {
    json.Key("hex_dump");
    json.BeginArray();
    for (const std::string& line : HexDumpLines(page, ps)) json.String(line);
    json.EndArray();
  }
  json.EndObject();
  out << '\n';
}

}  // namespace

int RunPage(const InspectedFile& db, uint32_t page_no, const Flags& flags, std::ostream& out,
            std::ostream& err) {
  // The caller checked page_no < page_count; a page past the file's end
  // comes from the log or is reported truncated.
  std::vector<uint8_t> page;
  bool complete = false;
  bool from_log = false;
  Status s = db.ReadPage(page_no, &page, &complete, &from_log);
  if (!s.ok()) return PrintError(err, s.message());
  if (!complete) return PrintError(err, "page " + std::to_string(page_no) + ": truncated");
  const PageReport r = Analyse(db, page_no, page.data(), from_log);
  if (flags.json) {
    PrintJson(db, page_no, page.data(), r, flags, out);
  } else {
    PrintText(db, page_no, page.data(), r, flags, out);
  }
  return kExitOk;
}

}  // namespace sombra::inspect
