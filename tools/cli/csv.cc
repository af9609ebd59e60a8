#include "cli/csv.h"

namespace sombra::cli {

namespace {
constexpr int kEof = std::char_traits<char>::eof();
}  // namespace

int CsvReader::Get() {
  if (buf_ == nullptr) return kEof;
  const int c = buf_->sbumpc();
  if (c == kEof) return kEof;
  bytes_++;
  if (c == '\n') line_++;
  return c;
}

int CsvReader::Peek() { return buf_ == nullptr ? kEof : buf_->sgetc(); }

bool CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  // Skip empty lines (LF or CRLF alone).
  for (;;) {
    const int c = Peek();
    if (c == kEof) return false;
    if (c == '\n') {
      Get();
    } else if (c == '\r') {
      Get();
      if (Peek() == '\n') {
        Get();
        continue;
      }
      // A lone CR is data: put it back.
      buf_->sungetc();
      bytes_--;
      break;
    } else {
      break;
    }
  }
  record_line_ = line_;
  fields->emplace_back();
  for (;;) {
    std::string& field = fields->back();
    int c = Get();
    if (c == '"' && field.empty()) {
      const uint64_t start_line = line_;
      for (;;) {
        c = Get();
        if (c == kEof) {
          error_ = "line " + std::to_string(start_line) + ": quoted field is not closed";
          return false;
        }
        if (c == '"') {
          if (Peek() == '"') {
            Get();
            field.push_back('"');
            continue;
          }
          break;
        }
        field.push_back(static_cast<char>(c));
      }
      c = Get();
      if (c == '\r' && Peek() == '\n') c = Get();
      if (c != ',' && c != '\n' && c != kEof) {
        error_ = "line " + std::to_string(line_) +
                 ": a quoted field must be followed by ',' or the end of the line";
        return false;
      }
    } else {
      while (c != ',' && c != '\n' && c != kEof) {
        if (c == '\r' && Peek() == '\n') {
          c = Get();
          break;
        }
        if (c == '"') {
          error_ = "line " + std::to_string(line_) +
                   ": '\"' inside an unquoted field (quote the field and write \"\")";
          return false;
        }
        field.push_back(static_cast<char>(c));
        c = Get();
      }
    }
    if (c != ',') return true;  // end of record: '\n' or EOF
    fields->emplace_back();
  }
}

void AppendCsvField(std::string_view field, std::string* out) {
  const bool quote = field.empty() || field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace sombra::cli
