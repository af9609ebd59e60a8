// cli/record_io.h: key/value records as text, the format `sombra dump` and
// `sombra scan` write and `sombra load` reads (docs/cli.md).
//
//   tsv (default)  one record per line: KEY <TAB> VALUE <LF>, each field
//                  escaped (cli/escape.h), or hex with --hex. A line holds
//                  exactly one tab; a CR before the LF and empty lines are
//                  ignored.
//   csv            RFC 4180 (cli/csv.h): two fields per record, raw bytes
//                  (quoted when needed), or hex with --hex.
//
// A keys-only record is the key field alone.
//
// Thread safety: a RecordReader belongs to one thread.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/csv.h"

namespace sombra::cli {

enum class Format { kTsv, kCsv };

// Appends one record (with its line end) to *out. `value` is ignored when
// keys_only.
void AppendRecord(Format format, bool hex, std::string_view key, std::string_view value,
                  bool keys_only, std::string* out);

class RecordReader {
 public:
  RecordReader(std::istream& in, Format format, bool hex);

  // Reads the next record. Returns false at the end of the input (error()
  // empty) or on malformed input (error() is "line N: why").
  bool Next(std::string* key, std::string* value);

  const std::string& error() const { return error_; }
  // The line on which the last record returned started (1-based).
  uint64_t line() const { return format_ == Format::kCsv ? csv_.record_line() : line_; }
  uint64_t bytes_read() const { return format_ == Format::kCsv ? csv_.bytes_read() : bytes_; }

 private:
  bool Decode(std::string_view text, const char* what, std::string* out);

  std::istream& in_;
  const Format format_;
  const bool hex_;
  CsvReader csv_;
  std::vector<std::string> fields_;
  std::string line_text_;
  std::string error_;
  uint64_t line_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace sombra::cli
