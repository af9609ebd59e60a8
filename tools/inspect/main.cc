// sombra-inspect: see inspect/inspect.h.
#include <iostream>
#include <string>
#include <vector>

#include "inspect/inspect.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return sombra::inspect::RunInspect(args, std::cout, std::cerr);
}
