// sombra-pager-demo PATH: writes a small page file through the pager so that
// sombra-inspect has something to show. Replaced by compare-bench as the
// main demonstration once the B+tree exists.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "env/env.h"
#include "pager/pager.h"

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

  // Ten pages of text, then free three of them so the freelist shows.
  std::vector<uint32_t> pages;
  std::vector<uint8_t> page(p.page_size());
  for (int i = 0; i < 10; ++i) {
    auto page_no = p.AllocatePage();
    if (!page_no.ok()) return Fail(page_no.status());
    std::fill(page.begin(), page.end(), 0);
    pager::InitPageHeader(page.data(), pager::PageKind::kRaw, 0, static_cast<uint64_t>(i + 1));
    std::string text = "Sombra demo page " + std::to_string(*page_no) + ": hello, pages!";
    std::memcpy(page.data() + pager::kPageHeaderSize, text.data(), text.size());
    if (Status s = p.WritePage(*page_no, page.data()); !s.ok()) return Fail(s);
    pages.push_back(*page_no);
  }
  p.SetRoot(pages[0]);
  for (int i : {3, 6, 8}) {
    if (Status s = p.FreePage(pages[i]); !s.ok()) return Fail(s);
  }
  if (Status s = p.Sync(); !s.ok()) return Fail(s);
  std::printf("wrote %zu pages of %u bytes to %s, freed 3; page count %llu, freelist %llu\n",
              pages.size(), p.page_size(), argv[1],
              static_cast<unsigned long long>(p.meta().page_count),
              static_cast<unsigned long long>(p.meta().freelist_count));
  return 0;
}
