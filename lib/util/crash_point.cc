#include "util/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sombra {
namespace {

struct Armed {
  const char* name = nullptr;
  std::atomic<long> remaining{0};
};

Armed& Point() {
  static Armed* armed = [] {
    auto* a = new Armed();
    a->name = std::getenv("SOMBRA_CRASH_POINT");
    const char* after = std::getenv("SOMBRA_CRASH_AFTER");
    a->remaining = after != nullptr ? std::strtol(after, nullptr, 10) : 1;
    return a;
  }();
  return *armed;
}

}  // namespace

void ArmCrashPoint(const char* name, long after) {
  static std::string armed_name;  // outlives every reader of a.name
  Armed& a = Point();
  armed_name = name;
  a.name = armed_name.c_str();
  a.remaining = after;
}

void CrashPoint(const char* name) {
  Armed& a = Point();
  if (a.name == nullptr || std::strcmp(a.name, name) != 0) return;
  if (a.remaining.fetch_sub(1) <= 1) {
    kill(getpid(), SIGKILL);
    _exit(137);  // not reached
  }
}

}  // namespace sombra
