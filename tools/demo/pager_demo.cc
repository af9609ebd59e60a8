// sombra-pager-demo PATH: writes a small database through pager
// transactions so that sombra-inspect has something to show. Replaced by
// compare-bench as the main demonstration once the B+tree exists.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "env/env.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"

using sombra::Env;
using sombra::Options;
using sombra::Status;
namespace pager = sombra::pager;

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "sombra-pager-demo: %s\n", s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sombra-pager-demo PATH\n");
    return 2;
  }
  auto opened = pager::Pager::Open(Env::Default(), argv[1], Options());
  if (!opened.ok()) return Fail(opened.status());
  pager::Pager& p = **opened;

  // One transaction writes ten pages of text; a second frees three of them
  // and edits one in place (logged as a small delta).
  std::vector<uint32_t> pages;
  {
    auto txn = p.BeginWrite();
    if (!txn.ok()) return Fail(txn.status());
    for (int i = 0; i < 10; ++i) {
      uint8_t* page = nullptr;
      auto page_no = (*txn)->Allocate(pager::PageKind::kRaw, &page);
      if (!page_no.ok()) return Fail(page_no.status());
      std::string text = "Sombra demo page " + std::to_string(*page_no) + ": hello, pages!";
      std::memcpy(page + pager::kPageHeaderSize, text.data(), text.size());
      pages.push_back(*page_no);
    }
    (*txn)->SetRoot(pages[0]);
    if (Status s = (*txn)->Commit(); !s.ok()) return Fail(s);
  }
  {
    auto txn = p.BeginWrite();
    if (!txn.ok()) return Fail(txn.status());
    for (int i : {3, 6, 8}) {
      if (Status s = (*txn)->Free(pages[i]); !s.ok()) return Fail(s);
    }
    auto page = (*txn)->Write(pages[0]);
    if (!page.ok()) return Fail(page.status());
    std::memcpy(*page + 200, "edited in place", 15);
    (*txn)->NoteWrite(pages[0], 200, 15);
    if (Status s = (*txn)->Commit(); !s.ok()) return Fail(s);
  }
  const uint64_t wal_bytes = p.wal_bytes();
  pager::TreeState state = p.published();
  std::printf(
      "committed 2 transactions (LSN %llu): %zu pages of %u bytes, 3 freed; "
      "%llu bytes of log\n",
      static_cast<unsigned long long>(state.lsn), pages.size(), p.page_size(),
      static_cast<unsigned long long>(wal_bytes));
  return 0;  // closing checkpoints the log into the page file
}
