// cli/csv.h: RFC 4180 comma-separated values, as `sombra load --format csv`
// reads them and `sombra dump --format csv` writes them.
//
// Reading: fields are separated by ',' and records by LF or CRLF. A field
// that starts with '"' is quoted: it ends at the next lone '"', holds any
// bytes (commas, CR, LF, NUL, 0xFF) and "" stands for one '"'; after its
// closing quote only ',' or the end of the record may follow. An unquoted
// field may not contain '"'. Empty lines are skipped. Field bytes are taken
// as they are: no trimming, no character-set conversion.
//
// Writing: a field is quoted when it is empty or holds ',', '"', CR or LF;
// records end with LF. CsvReader reads back exactly what CsvQuote writes.
//
// Thread safety: a CsvReader belongs to one thread.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace sombra::cli {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : buf_(in.rdbuf()) {}

  // Reads the next record into *fields. Returns false at the end of the
  // input (error() empty) or on malformed input (error() says what and on
  // which line).
  bool Next(std::vector<std::string>* fields);

  const std::string& error() const { return error_; }
  // The line on which the last record returned started (1-based).
  uint64_t record_line() const { return record_line_; }
  uint64_t bytes_read() const { return bytes_; }

 private:
  int Get();
  int Peek();

  std::streambuf* buf_;
  std::string error_;
  uint64_t line_ = 1;
  uint64_t record_line_ = 0;
  uint64_t bytes_ = 0;
};

// Appends `field`, quoted when needed, to *out.
void AppendCsvField(std::string_view field, std::string* out);

}  // namespace sombra::cli
