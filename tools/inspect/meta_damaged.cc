// sombra-inspect FILE meta when the file cannot be opened as a database
// (no valid meta page, or a file shorter than its meta page says): both
// meta pages as stored, each with why it is not valid, read from the file
// alone (docs/tools.md, "meta").
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"

namespace sombra::inspect {
namespace {

struct DamagedSlot {
  uint32_t slot = 0;
  Status status;  // OK when the page is a valid meta page
  RawMeta raw;
};

// Bytes [offset, offset + n) of `file`, zeros past its end.
std::vector<uint8_t> ReadBytes(File* file, uint64_t offset, size_t n) {
  std::vector<uint8_t> buf(n, 0);
  size_t got = 0;
  (void)file->ReadAt(offset, n, reinterpret_cast<char*>(buf.data()), &got);
  return buf;
}

// Slot 0 at offset 0; slot 1 one page further, by slot 0's page size when
// it is a valid one (else by slot 1's own at each size, else 4096).
std::vector<DamagedSlot> ReadSlots(File* file, const std::string& path) {
  std::vector<uint8_t> page0 = ReadBytes(file, 0, pager::kMaxPageSize);
  uint32_t ps = DecodeRawMeta(page0.data()).page_size;
  if (!pager::IsValidPageSize(ps)) {
    ps = pager::kDefaultPageSize;
    for (uint32_t s = pager::kMinPageSize; s <= pager::kMaxPageSize; s *= 2) {
      if (DecodeRawMeta(ReadBytes(file, s, pager::kMetaEndOffset).data()).page_size == s) ps = s;
    }
  }
  std::vector<DamagedSlot> slots;
  for (uint32_t slot : {pager::kMetaPageA, pager::kMetaPageB}) {
    const std::vector<uint8_t> page = ReadBytes(file, uint64_t{slot} * ps, pager::kMaxPageSize);
    DamagedSlot d;
    d.slot = slot;
    d.raw = DecodeRawMeta(page.data());
    Result<pager::Meta> meta = pager::DecodeMeta(page.data(), page.size(), slot, path);
    if (!meta.ok()) d.status = meta.status();
    slots.push_back(std::move(d));
  }
  return slots;
}

}  // namespace

int RunMetaDamaged(const std::string& path, const Status& open_error, const Flags& flags,
                   std::ostream& out, std::ostream& err) {
  auto file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) return PrintError(err, open_error.message());
  const std::vector<DamagedSlot> slots = ReadSlots(file->get(), path);
  if (flags.json) {
    JsonWriter json(out);
    json.BeginObject();
    json.Field("command", "meta");
    json.Field("file", path);
    json.Field("error", open_error.message());
    json.Key("slots");
    json.BeginArray();
    for (const DamagedSlot& d : slots) {
      json.BeginObject();
      json.Field("slot", uint64_t{d.slot});
      json.BoolField("valid", d.status.ok());
      if (!d.status.ok()) json.Field("problem", StripWhere(d.status.message(), d.slot, path));
      WriteRawMeta(d.raw, &json);
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    out << '\n';
    return kExitCheckFailed;
  }
  out << "file: " << path << '\n';
  for (const DamagedSlot& d : slots) {
    out << "meta page " << d.slot << ": ";
    if (d.status.ok()) {
      out << "valid\n";
    } else {
      out << "invalid: " << StripWhere(d.status.message(), d.slot, path) << '\n';
    }
    PrintRawMeta(d.raw, out);
  }
  const bool both_invalid = !slots[0].status.ok() && !slots[1].status.ok();
  out << "in force: none ("
      << (both_invalid ? std::string("neither meta page is valid") : open_error.message()) << ")\n"
      << "`sombra-inspect " << path << " recover OUT` reads the records out of the pages\n";
  return kExitCheckFailed;
}

}  // namespace sombra::inspect
