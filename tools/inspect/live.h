// inspect/live.h: what sombra-inspect and the read commands of sombra
// share about a database a writer in another process has open
// (header-only; both tools include it). docs/tools.md and docs/cli.md,
// "Live databases".
//
// The library does the reading beside a writer: a read-only open reads
// the log again when the writer changes it under the reading, a
// snapshot never changes (docs/design/readers.md), and DB::Verify and
// sombra-inspect read the meta pages until they settle
// (pager/settled_meta.h). What is left here is the tools' own business:
// whether to print the "live" note.
//
// Thread safety: the functions keep no state.
#pragma once

#include <string>

#include "env/reader_table.h"
#include "pager/beside_writer.h"
#include "pager/pager.h"

namespace sombra::live {

// A writer had the database at `db_path` open while `pager` (may be null)
// read it: the pager saw one at open or when it caught up with the log,
// or one holds the writer's mark now.
inline bool SawWriter(const pager::Pager* pager, const std::string& db_path) {
  if (pager != nullptr && pager->saw_live_writer()) return true;
  const ReaderTable* table = pager != nullptr ? pager->reader_table() : nullptr;
  return table != nullptr ? table->WriterAlive() : pager::WriterHoldsMark(db_path);
}

}  // namespace sombra::live
