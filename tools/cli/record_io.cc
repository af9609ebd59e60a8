#include "cli/record_io.h"

#include "cli/escape.h"

namespace sombra::cli {

namespace {

void AppendField(Format format, bool hex, std::string_view field, std::string* out) {
  if (hex) {
    AppendHex(field, out);
  } else if (format == Format::kTsv) {
    AppendEscaped(field, out);
  } else {
    AppendCsvField(field, out);
  }
}

}  // namespace

void AppendRecord(Format format, bool hex, std::string_view key, std::string_view value,
                  bool keys_only, std::string* out) {
  AppendField(format, hex, key, out);
  if (!keys_only) {
    out->push_back(format == Format::kTsv ? '\t' : ',');
    AppendField(format, hex, value, out);
  }
  out->push_back('\n');
}

RecordReader::RecordReader(std::istream& in, Format format, bool hex)
    : in_(in), format_(format), hex_(hex), csv_(in) {}

bool RecordReader::Decode(std::string_view text, const char* what, std::string* out) {
  std::string why;
  bool ok;
  if (hex_) {
    ok = HexDecode(text, out, &why);
  } else if (format_ == Format::kTsv) {
    ok = Unescape(text, out, &why);
  } else {
    out->assign(text);
    ok = true;
  }
  if (!ok) error_ = "line " + std::to_string(line()) + ": " + what + ": " + why;
  return ok;
}

bool RecordReader::Next(std::string* key, std::string* value) {
  if (format_ == Format::kCsv) {
    if (!csv_.Next(&fields_)) {
      error_ = csv_.error();
      return false;
    }
    if (fields_.size() != 2) {
      error_ = "line " + std::to_string(line()) + ": expected 2 comma-separated fields, found " +
               std::to_string(fields_.size());
      return false;
    }
    return Decode(fields_[0], "key", key) && Decode(fields_[1], "value", value);
  }
  for (;;) {
    if (!std::getline(in_, line_text_)) return false;
    line_++;
    bytes_ += line_text_.size() + (in_.eof() ? 0 : 1);
    if (!line_text_.empty() && line_text_.back() == '\r') line_text_.pop_back();
    if (!line_text_.empty()) break;
  }
  const size_t tab = line_text_.find('\t');
  if (tab == std::string::npos) {
    error_ = "line " + std::to_string(line_) + ": expected KEY<TAB>VALUE, found no tab";
    return false;
  }
  if (line_text_.find('\t', tab + 1) != std::string::npos) {
    error_ = "line " + std::to_string(line_) +
             ": more than one tab (a tab inside a field is written \\t)";
    return false;
  }
  const std::string_view text(line_text_);
  return Decode(text.substr(0, tab), "key", key) && Decode(text.substr(tab + 1), "value", value);
}

}  // namespace sombra::cli
