// Compiles against the installed public headers only.
#include <sombra/options.h>
#include <sombra/status.h>

#include <cstdio>

int main() {
  sombra::Options options;
  sombra::Status s = sombra::Status::NotFound("consumer");
  if (!s.IsNotFound() || s.ToString() != "NotFound: consumer" || options.page_size != 4096) {
    std::puts("consumer: unexpected behaviour");
    return 1;
  }
  std::puts("consumer: ok");
  return 0;
}
