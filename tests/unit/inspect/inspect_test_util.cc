#include "inspect_test_util.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "env/env.h"
#include "inspect/inspect.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "pager/page_file.h"
#include "sombra/options.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace sombra::inspect::test {

RunOutput Inspect(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  RunOutput r;
  r.code = RunInspect(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

void BuildFixedDb(const std::string& path, uint32_t page_size) {
  // Written through PageFile directly so that every field (LSNs, sequence
  // numbers, the freelist) is fixed and the golden text can be exact.
  Options options;
  options.page_size = page_size;
  MetricsRegistry metrics;
  auto opened = pager::PageFile::Open(Env::Default(), path, options, &metrics);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return;
  }
  std::unique_ptr<pager::PageFile> f = std::move(opened).value();
  ASSERT_TRUE(f->EnsureCapacity(kFixedPageCount).ok());
  std::vector<uint8_t> page(page_size);
  for (uint32_t n = 2; n <= 5; ++n) {
    std::fill(page.begin(), page.end(), 0);
    pager::InitPageHeader(page.data(), pager::PageKind::kRaw, n, 10 * n);
    const std::string label = "page " + std::to_string(n);
    std::copy(label.begin(), label.end(), page.begin() + pager::kPageHeaderSize);
    const std::string tail = "0123456789abcdef";
    std::copy(tail.begin(), tail.end(), page.end() - 16);
    ASSERT_TRUE(f->WritePage(n, page.data()).ok());
  }
  ASSERT_TRUE(f->SyncData().ok());
  pager::Meta meta = f->durable_meta();
  meta.page_count = kFixedPageCount;
  meta.root = 2;
  ASSERT_TRUE(f->PublishMeta(meta).ok());
  // Free pages 3 then 5: the freelist is 5 -> 3.
  for (auto [n, next] : {std::pair<uint32_t, uint32_t>{3, 0}, {5, 3}}) {
    std::fill(page.begin(), page.end(), 0);
    pager::InitPageHeader(page.data(), pager::PageKind::kFree, n, 50);
    EncodeFixed32(page.data() + pager::kFreeNextOffset, next);
    ASSERT_TRUE(f->WritePage(n, page.data()).ok());
  }
  ASSERT_TRUE(f->SyncData().ok());
  meta = f->durable_meta();
  meta.freelist_head = 5;
  meta.freelist_count = 2;
  meta.checkpoint_lsn = 50;
  ASSERT_TRUE(f->PublishMeta(meta).ok());
  ASSERT_EQ(f->durable_meta().page_count, kFixedPageCount);
  ASSERT_EQ(f->durable_meta().checkpoint_seq, 3u);
}

std::vector<uint8_t> ReadPageBytes(const std::string& path, uint64_t page_no, uint32_t page_size) {
  std::vector<uint8_t> page(page_size);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(page_no * page_size));
  in.read(reinterpret_cast<char*>(page.data()), page_size);
  if (!in) ADD_FAILURE() << "cannot read page " << page_no << " of " << path;
  return page;
}

void WritePageBytes(const std::string& path, uint64_t page_no, const std::vector<uint8_t>& page) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(page_no * page.size()));
  f.write(reinterpret_cast<const char*>(page.data()), static_cast<std::streamsize>(page.size()));
  if (!f) ADD_FAILURE() << "cannot write page " << page_no << " of " << path;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
  if (!f) ADD_FAILURE() << "cannot flip byte " << offset << " of " << path;
}

uint64_t ReadSalt(const std::string& path) {
  auto file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) {
    ADD_FAILURE() << file.status().ToString();
    return 0;
  }
  auto choice = pager::ReadNewestMeta(file->get());
  if (!choice.ok()) {
    ADD_FAILURE() << choice.status().ToString();
    return 0;
  }
  return choice->meta.salt;
}

void EditAndReseal(const std::string& path, uint64_t page_no, uint32_t page_size,
                   const std::function<void(uint8_t*)>& edit) {
  const uint64_t salt = ReadSalt(path);
  std::vector<uint8_t> page = ReadPageBytes(path, page_no, page_size);
  edit(page.data());
  pager::SealPage(page.data(), page_size, salt);
  WritePageBytes(path, page_no, page);
}

uint64_t StoredChecksum(const std::string& path, uint64_t page_no, uint32_t page_size) {
  std::vector<uint8_t> page = ReadPageBytes(path, page_no, page_size);
  return DecodeFixed64(page.data() + pager::kHeaderChecksumOffset);
}

std::string Fill(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string pattern = "{" + key + "}";
    for (size_t at = text.find(pattern); at != std::string::npos;
         at = text.find(pattern, at + value.size())) {
      text.replace(at, pattern.size(), value);
    }
  }
  return text;
}

std::string HexBytes(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>((v >> (8 * i)) & 0xFF));
    if (i > 0) s += ' ';
    s += buf;
  }
  return s;
}

std::string AsciiBytes(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) {
    const unsigned b = (v >> (8 * i)) & 0xFF;
    s += (b >= 0x20 && b < 0x7F) ? static_cast<char>(b) : '.';
  }
  return s;
}

namespace {

class JsonChecker {
 public:
  explicit JsonChecker(const std::string& s) : s_(s) {}

  bool Check(std::string* why) {
    bool ok = Value(0) && (SkipSpace(), pos_ == s_.size());
    if (!ok && why != nullptr) {
      *why = (error_.empty() ? std::string("trailing characters") : error_) + " at offset " +
             std::to_string(pos_);
    }
    return ok;
  }

 private:
  bool Fail(const char* what) {
    if (error_.empty()) error_ = what;
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return Fail("bad literal");
    pos_ += w.size();
    return true;
  }
  bool String() {
    if (!Eat('"')) return Fail("expected string");
    while (pos_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return Fail("raw control character in string");
      if (c == '\\') {
        if (pos_ >= s_.size()) return Fail("unterminated escape");
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_++]))) {
              return Fail("bad \\u escape");
            }
          }
        } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
          return Fail("bad escape");
        }
      }
    }
    return Fail("unterminated string");
  }
  bool Number() {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    size_t digits = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      ++pos_;
      ++digits;
    }
    if (digits == 0) return Fail("bad number");
    if (digits > 1 && s_[pos_ - digits] == '0') return Fail("leading zero");
    if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      return Fail("unexpected fraction or exponent");  // the inspector writes integers
    }
    return pos_ > start;
  }
  bool Value(int depth) {
    if (depth > 64) return Fail("too deep");
    SkipSpace();
    if (pos_ >= s_.size()) return Fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      if (Eat('}')) return true;
      do {
        if (!String()) return false;
        if (!Eat(':')) return Fail("expected ':'");
        if (!Value(depth + 1)) return false;
      } while (Eat(','));
      return Eat('}') || Fail("expected '}'");
    }
    if (c == '[') {
      ++pos_;
      if (Eat(']')) return true;
      do {
        if (!Value(depth + 1)) return false;
      } while (Eat(','));
      return Eat(']') || Fail("expected ']'");
    }
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return Number();
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

bool IsValidJson(const std::string& text, std::string* why) { return JsonChecker(text).Check(why); }

int CountLines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  if (!text.empty() && text.back() != '\n') ++lines;
  return lines;
}

std::string CheckRefused(const RunOutput& r) {
  std::string why;
  if (r.code != kExitError) why += "exit code " + std::to_string(r.code) + ", want 2; ";
  if (!r.out.empty()) why += "stdout not empty: " + r.out + "; ";
  if (CountLines(r.err) != 1 || r.err.back() != '\n') {
    why += "stderr is not exactly one line: [" + r.err + "]; ";
  }
  if (r.err.rfind("sombra-inspect: ", 0) != 0) why += "stderr lacks the prefix: " + r.err;
  return why;
}

}  // namespace sombra::inspect::test
