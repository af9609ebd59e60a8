#include "pager/settled_meta.h"

#include <utility>

#include "pager/beside_writer.h"
#include "pager/format.h"

namespace sombra::pager {
namespace {

// Both meta pages as the file stores them now (a page the file ends
// inside, or that cannot be read, is shorter or empty).
void ReadBoth(File* file, uint32_t page_size, MetaPages& out) {
  for (uint32_t slot : {kMetaPageA, kMetaPageB}) {
    out[slot].assign(page_size, 0);
    size_t got = 0;
    if (!file->ReadAt(uint64_t{slot} * page_size, page_size,
                      reinterpret_cast<char*>(out[slot].data()), &got)
             .ok()) {
      got = 0;
    }
    out[slot].resize(got);
  }
}

// One attempt's verdict for RetryBesideWriter: "" when the choice stands
// (both pages valid and unchanged across it), else a description that is
// the same only for the same failure on the same bytes.
std::string Verdict(const Result<MetaChoice>& choice, const MetaPages& before,
                    const MetaPages& after, int* changed) {
  if (before[0] != after[0] || before[1] != after[1]) {
    // A write landed during the reading: never the same twice.
    return "changed under the reading " + std::to_string(++*changed);
  }
  if (!choice.ok()) return choice.status().ToString();
  if (choice->slot_status[0].ok() && choice->slot_status[1].ok()) return "";
  return choice->slot_status[0].ToString() + "; " + choice->slot_status[1].ToString() + "; " +
         std::string(after[0].begin(), after[0].end()) +
         std::string(after[1].begin(), after[1].end());
}

}  // namespace

Result<MetaChoice> ReadSettledMetas(File* file, const std::string& db_path, uint32_t page_size,
                                    MetaPages* pages) {
  Result<MetaChoice> choice = Status::Corruption("meta pages of " + db_path + " not read");
  MetaPages before, after;
  int changed = 0;
  // Only a write of the page file can tear a meta page: a writer that
  // merely holds the database does not make a failure worth retrying.
  RetryBesideWriter(
      db_path,
      [&]() -> std::string {
        ReadBoth(file, page_size, before);
        choice = ReadNewestMeta(file);
        ReadBoth(file, page_size, after);
        return Verdict(choice, before, after, &changed);
      },
      /*writer_counts=*/false);
  if (pages != nullptr) {
    (*pages)[0] = std::move(after[0]);
    (*pages)[1] = std::move(after[1]);
  }
  return choice;
}

}  // namespace sombra::pager
