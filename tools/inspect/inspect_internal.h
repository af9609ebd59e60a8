// inspect/inspect_internal.h: pieces shared by the sombra-inspect commands.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "env/env.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "sombra/status.h"
#include "util/result.h"

namespace sombra::inspect {

class JsonWriter;

struct Flags {
  bool json = false;
  bool hex = true;  // page: show the hex dump
};

// A database file opened for inspection: read-only, its newest valid meta
// page chosen, and checked to be long enough for the pages that meta counts.
//
// Invariant: page_count() * page_size() <= the file size at open time.
class InspectedFile {
 public:
  // Errors (all meant for a one-line message): NotFound for a missing
  // path; InvalidArgument for a directory, a special file or a file that is
  // not a Sombra database; Corruption when no meta page is valid or the file
  // is shorter than its meta says; NotSupported for a newer format.
  static Result<std::unique_ptr<InspectedFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  const pager::MetaChoice& choice() const { return choice_; }
  const pager::Meta& meta() const { return choice_.meta; }
  uint32_t page_size() const { return choice_.meta.page_size; }
  uint64_t page_count() const { return choice_.meta.page_count; }
  uint64_t file_size() const { return file_size_; }

  // Reads page `page_no` into `buf` (resized to page_size()). Sets *complete
  // to whether the whole page was read (false when the file shrank).
  Status ReadPage(uint64_t page_no, std::vector<uint8_t>* buf, bool* complete) const;

 private:
  InspectedFile(std::string path, std::unique_ptr<File> file, pager::MetaChoice choice,
                uint64_t file_size)
      : path_(std::move(path)),
        file_(std::move(file)),
        choice_(std::move(choice)),
        file_size_(file_size) {}

  std::string path_;
  std::unique_ptr<File> file_;
  pager::MetaChoice choice_;
  uint64_t file_size_;
};

// The fields of a meta page as stored, whether or not the page is valid.
struct RawMeta {
  bool magic_ok = false;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint64_t salt = 0;
  uint64_t page_count = 0;
  uint32_t root = 0;
  uint32_t freelist_head = 0;
  uint64_t freelist_count = 0;
  uint64_t checkpoint_seq = 0;
  uint64_t checkpoint_lsn = 0;
  uint64_t checksum = 0;
};
// REQUIRES: `page` holds at least pager::kMetaEndOffset bytes.
RawMeta DecodeRawMeta(const uint8_t* page);

// Prints the meta fields as "label: value" lines indented by `indent`
// spaces (text) or as keys of the current JSON object.
void PrintRawMeta(const RawMeta& m, std::ostream& out, int indent = 2);
void WriteRawMeta(const RawMeta& m, JsonWriter* json);

// `message` without the leading "page N of FILE: " or "meta page N of
// FILE: " that the pager puts in its errors, when present.
std::string StripWhere(const std::string& message, uint64_t page_no, const std::string& file);

// `indent` spaces, "label:" padded to a fixed column, then the value.
void PrintField(std::ostream& out, std::string_view label, std::string_view value, int indent = 2);

int RunMeta(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
int RunPage(const InspectedFile& db, uint32_t page_no, const Flags& flags, std::ostream& out,
            std::ostream& err);
int RunVerify(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// The write-ahead log `db_path`-wal; db_path need not be a valid page file.
// Exit 1 when recovery would refuse the log (a synced transaction is damaged).
int RunWal(const std::string& db_path, const Flags& flags, std::ostream& out, std::ostream& err);

// Writes "sombra-inspect: <message>" as exactly one line (control
// characters in the message are escaped) and returns kExitError.
int PrintError(std::ostream& err, std::string_view message);

}  // namespace sombra::inspect
