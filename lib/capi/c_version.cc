// capi/c_version.cc: the versions and the key and value limits of
// <sombra/c.h>, each taken from its C++ definition.
#include "capi/c_handles.h"
#include "sombra/limits.h"
#include "sombra/version.h"

static_assert(SOMBRA_MIN_KEY_SIZE == sombra::kMinKeySize);
static_assert(SOMBRA_MAX_VALUE_SIZE == sombra::kMaxValueSize);

extern "C" {

int sombra_c_abi_version(void) { return SOMBRA_C_ABI_VERSION; }

const char* sombra_version_string(void) { return sombra::kVersion; }

size_t sombra_max_key_size(uint32_t page_size) { return sombra::MaxKeySize(page_size); }

}  // extern "C"
