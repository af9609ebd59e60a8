// sombra-inspect FILE meta: both meta pages and which one is in force.
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"

namespace sombra::inspect {
namespace {

struct SlotReport {
  uint32_t slot;
  Status status;  // why the slot is not valid; OK when it is
  RawMeta raw;
};

}  // namespace

int RunMeta(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  std::vector<SlotReport> slots;
  std::vector<uint8_t> page;
  for (uint32_t slot : {pager::kMetaPageA, pager::kMetaPageB}) {
    bool complete = false;
    Status s = db.ReadPage(slot, &page, &complete);
    if (!s.ok()) return PrintError(err, s.message());
    SlotReport r{slot, db.choice().slot_status[slot], {}};
    // Both meta pages lie within page_count >= 2 pages, which Open checked
    // are in the file; page_size >= kMetaEndOffset.
    r.raw = DecodeRawMeta(page.data());
    slots.push_back(std::move(r));
  }

  const uint32_t in_force = db.choice().slot;
  if (flags.json) {
    JsonWriter json(out);
    json.BeginObject();
    json.Field("command", "meta");
    json.Field("file", db.path());
    json.BoolField("live", db.live());
    json.Field("page_size", uint64_t{db.page_size()});
    json.Field("in_force", uint64_t{in_force});
    json.Field("checkpoint_seq", db.meta().checkpoint_seq);
    json.Key("slots");
    json.BeginArray();
    for (const SlotReport& r : slots) {
      json.BeginObject();
      json.Field("slot", uint64_t{r.slot});
      json.BoolField("valid", r.status.ok());
      if (!r.status.ok()) json.Field("problem", StripWhere(r.status.message(), r.slot, db.path()));
      WriteRawMeta(r.raw, &json);
      json.EndObject();
    }
    json.EndArray();
    const pager::TreeState& st = db.state();
    json.Key("after_log");
    json.BeginObject();
    json.Field("log_transactions", db.log_transactions());
    json.Field("lsn", st.lsn);
    json.Field("root", uint64_t{st.root});
    json.Field("page_count", st.page_count);
    json.Field("freelist_head", uint64_t{st.freelist_head});
    json.Field("freelist_count", st.freelist_count);
    json.Field("catalog_root", uint64_t{st.catalog_root});
    if (!db.log_note().empty()) json.Field("log_note", db.log_note());
    json.EndObject();
    json.EndObject();
    out << '\n';
    return kExitOk;
  }

  out << "file: " << db.path() << '\n';
  for (const SlotReport& r : slots) {
    out << "meta page " << r.slot << ": ";
    if (r.status.ok()) {
      out << "valid\n";
    } else {
      out << "invalid: " << StripWhere(r.status.message(), r.slot, db.path()) << '\n';
    }
    PrintRawMeta(r.raw, out);
  }
  out << "in force: meta page " << in_force << " (checkpoint seq " << db.meta().checkpoint_seq
      << ")\n";
  const pager::TreeState& st = db.state();
  if (db.log_transactions() == 0) {
    out << "log: no committed transaction to replay\n";
  } else {
    out << "log: " << db.log_transactions()
        << (db.log_transactions() == 1 ? " transaction" : " transactions")
        << " replayed in memory: lsn " << st.lsn << ", root " << st.root << ", page count "
        << st.page_count << ", freelist head " << st.freelist_head << ", freelist count "
        << st.freelist_count << ", catalog root " << st.catalog_root << '\n';
  }
  if (!db.log_note().empty()) out << "log: " << db.log_note() << '\n';
  return kExitOk;
}

}  // namespace sombra::inspect
