// inspect_test_util.h: helpers for the sombra-inspect tests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sombra::inspect::test {

struct RunOutput {
  int code = -1;
  std::string out;
  std::string err;
};

// RunInspect with `args`, capturing both streams.
RunOutput Inspect(const std::vector<std::string>& args);

// The small fixed database every golden test uses, page size `page_size`:
//   pages 2..5 written as raw pages, page n with LSN 10*n, "page n" at
//   offset 24 and "0123456789abcdef" in its last 16 bytes; root 2;
//   Sync (checkpoint seq 2, meta page 0); checkpoint LSN 50; pages 3 then
//   5 freed (freelist 5 -> 3); Sync (seq 3, meta page 1).
// The pager is closed on return. Fails the test (ADD_FAILURE) on error.
// Its root is a raw page, not a B+tree page: verify's tree check
// (btree::VerifyTree) reports kFixedDbTreeLine on every verify of it, unless
// page 2 is itself damaged.
constexpr uint64_t kFixedPageCount = 6;
constexpr char kFixedDbTreeLine[] = "page 2: tree: a raw page in the tree\n";
void BuildFixedDb(const std::string& path, uint32_t page_size = 4096);

// Raw file access, bypassing the pager.
std::vector<uint8_t> ReadPageBytes(const std::string& path, uint64_t page_no, uint32_t page_size);
void WritePageBytes(const std::string& path, uint64_t page_no, const std::vector<uint8_t>& page);
void FlipByte(const std::string& path, uint64_t offset);
// The salt of the meta page in force.
uint64_t ReadSalt(const std::string& path);
// Reads page `page_no`, applies `edit`, reseals it with the file's salt (so
// that its checksum is right) and writes it back.
void EditAndReseal(const std::string& path, uint64_t page_no, uint32_t page_size,
                   const std::function<void(uint8_t*)>& edit);
// The checksum stored in the header of page `page_no`.
uint64_t StoredChecksum(const std::string& path, uint64_t page_no, uint32_t page_size);

// `text` with each "{KEY}" replaced by vars.at("KEY").
std::string Fill(std::string text, const std::map<std::string, std::string>& vars);

// The bytes of `v` (little-endian) as a hex dump shows them: "xx xx ... xx"
// and the ascii column characters.
std::string HexBytes(uint64_t v);
std::string AsciiBytes(uint64_t v);

// A strict JSON syntax check (RFC 8259 grammar, one value, optional
// trailing newline). On failure *why says where.
bool IsValidJson(const std::string& text, std::string* why);

// Number of '\n'-terminated lines; text not ending in '\n' counts its last
// partial line too.
int CountLines(const std::string& text);

// Asserts the contract for an input sombra-inspect must refuse: exit 2,
// nothing on stdout, exactly one line "sombra-inspect: ..." on stderr.
// Returns a description of the failure, or "" when it holds.
std::string CheckRefused(const RunOutput& r);

}  // namespace sombra::inspect::test
