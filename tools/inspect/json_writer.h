// inspect/json_writer.h: a minimal streaming JSON writer for sombra-inspect.
//
// Writes one compact JSON value to a std::ostream. Commas are inserted
// automatically; strings are escaped so that the output is valid JSON
// whatever bytes they hold (control characters become \uXXXX and bytes that
// are not part of valid UTF-8 are written as the code point of the same
// value, U+0080 to U+00FF).
//
// Not thread-safe. The caller keeps the nesting balanced (checked by assert).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sombra::inspect {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Inside an object: the key of the next value.
  void Key(std::string_view key);

  void String(std::string_view value);
  void Uint(uint64_t value);
  void Bool(bool value);
  void Null();

  // Key + value shorthands.
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, const char* value) {
    Key(key);
    String(value);
  }
  void Field(std::string_view key, uint64_t value) {
    Key(key);
    Uint(value);
  }
  void BoolField(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }

  // Inside an open array: one {"page": N, "what": "..."} object per
  // element of `problems` (anything with fields page and what).
  template <typename Problems>
  void ProblemObjects(const Problems& problems) {
    for (const auto& p : problems) {
      BeginObject();
      Field("page", uint64_t{p.page});
      Field("what", p.what);
      EndObject();
    }
  }

  // True when every object and array opened has been closed.
  bool Complete() const { return stack_.empty(); }

 private:
  void BeforeValue();

  struct Level {
    bool is_object;
    bool first;
  };
  std::ostream& out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

// `s` as a quoted, escaped JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace sombra::inspect
