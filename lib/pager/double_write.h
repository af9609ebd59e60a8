// pager/double_write.h: the double-write file `<db>-dwb`
// (docs/format/dwb.md), the checkpoint's guard against torn pages.
//
// Before a checkpoint overwrites pages of the page file in place, it copies
// them, as the page file holds them, here, one after the other behind a
// header listing them, and syncs this file. A crash during the in-place
// writes can leave any of them new, old or torn in the page file, but each
// has a whole copy of its state at the checkpoint LSN the log starts from:
// recovery puts them back and replays the log on them. So the log need not
// hold a whole image of every page changed since a checkpoint (log formats
// 8 and 9 let a page's first record be a delta or page ops on the page
// file's page).
//
// Thread safety: one writer (the Pager's checkpoint, writer slot held);
// a reader (recovery) owns its DoubleWriteBatch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "env/env.h"
#include "sombra/status.h"
#include "util/result.h"

namespace sombra::pager {

constexpr char kDwbMagic[8] = {'S', 'O', 'M', 'B', 'R', 'D', 'W', 'B'};
constexpr uint32_t kDwbFormatVersion = 1;
constexpr size_t kDwbHeaderSize = 64;  // then the page list, 4 bytes a page

// The fields of a double-write header.
struct DwbHeader {
  uint32_t page_size = 0;
  uint64_t db_salt = 0;
  uint64_t from_lsn = 0;  // the page file's checkpoint LSN: the copies' state
  uint64_t to_lsn = 0;    // the checkpoint LSN the checkpoint brings the file to
  std::vector<uint32_t> pages;
};

// Where image i lies: after the header and page list, rounded up to a page.
uint64_t DwbImagesOffset(uint32_t page_size, size_t page_count);

// Writes one batch: header, page list and `pages.size()` copies, copy i
// filled into `out` by `fill(i, out)`; fdatasync when `sync`. `file` is the
// open double-write file (kept open by the Pager).
Status WriteDoubleWrite(File* file, const DwbHeader& header,
                        const std::function<Status(size_t i, uint8_t* out)>& fill, bool sync);

// A batch read back by recovery: the header, and images on demand.
class DoubleWriteBatch {
 public:
  // Reads the header at `path`. NotFound when the file is missing;
  // Corruption (with why) when its header or page list fails a check:
  // the batch was torn while written, so no page was overwritten in
  // place after it (a caller treats it as no batch).
  static Result<std::unique_ptr<DoubleWriteBatch>> Open(Env* env, const std::string& path,
                                                        uint32_t page_size, uint64_t db_salt);

  const DwbHeader& header() const { return header_; }
  // OK when every copy is as written (the header's checksum of them):
  // the batch was written whole. Corruption otherwise (cut short: its
  // checkpoint never wrote a page in place); IOError.
  Status CheckCopies() const;
  // Copies the copy of `page_no` into `out` (page_size bytes) when the
  // batch lists it; false otherwise or when it cannot be read. It is not
  // verified here (the caller checks checksum and LSN).
  bool Read(uint32_t page_no, uint8_t* out) const;
  // The copy of `page_no` at LSN `lsn`, verified as a page of `db_path`
  // (its checksum, page number and LSN): a page is identified by page
  // number and LSN, so such a copy is that page whatever batch holds it.
  bool ReadAtLsn(uint32_t page_no, uint64_t lsn, const std::string& db_path, uint8_t* out) const;

 private:
  DoubleWriteBatch() = default;
  std::unique_ptr<File> file_;
  DwbHeader header_;
  uint64_t copies_checksum_ = 0;
  std::unordered_map<uint32_t, size_t> index_;  // page -> image number
};

}  // namespace sombra::pager
