// capi/c_options.cc: sombra_options, field for field sombra::Options.
//
// sombra_options_init copies a default-constructed sombra::Options, so the
// C defaults are the C++ ones by construction; ToCppOptions maps back.
#include <cstring>
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

sombra_durability ToC(Durability d) {
  switch (d) {
    case Durability::kFull:
      return SOMBRA_DURABILITY_FULL;
    case Durability::kNormal:
      return SOMBRA_DURABILITY_NORMAL;
    case Durability::kOff:
      return SOMBRA_DURABILITY_OFF;
  }
  return SOMBRA_DURABILITY_FULL;
}

}  // namespace

Status ToCppOptions(const sombra_options* in, Options* out) {
  *out = Options();
  if (in == nullptr) return Status::OK();
  out->create_if_missing = in->create_if_missing != 0;
  out->error_if_exists = in->error_if_exists != 0;
  out->read_only = in->read_only != 0;
  out->page_size = in->page_size;
  // Read as the int a C caller stored: any value may be there, and a C++
  // load of an enum outside its range is undefined.
  static_assert(sizeof(in->durability) == sizeof(int));
  int durability = 0;
  std::memcpy(&durability, &in->durability, sizeof(durability));
  switch (durability) {
    case SOMBRA_DURABILITY_FULL:
      out->durability = Durability::kFull;
      break;
    case SOMBRA_DURABILITY_NORMAL:
      out->durability = Durability::kNormal;
      break;
    case SOMBRA_DURABILITY_OFF:
      out->durability = Durability::kOff;
      break;
    default:
      return Status::InvalidArgument("unknown durability " + std::to_string(durability) +
                                     " (SOMBRA_DURABILITY_FULL, _NORMAL or _OFF)");
  }
  out->wal_checkpoint_bytes = in->wal_checkpoint_bytes;
  out->wal_compression = in->wal_compression != 0;
  out->verify_checksums = in->verify_checksums != 0;
  out->busy_timeout_ms = in->busy_timeout_ms;
  out->salvage_wal = in->salvage_wal != 0;
  return Status::OK();
}

}  // namespace sombra::capi

extern "C" void sombra_options_init(sombra_options* options) {
  if (options == nullptr) return;
  const sombra::Options d;
  options->create_if_missing = d.create_if_missing;
  options->error_if_exists = d.error_if_exists;
  options->read_only = d.read_only;
  options->page_size = d.page_size;
  options->durability = sombra::capi::ToC(d.durability);
  options->wal_checkpoint_bytes = d.wal_checkpoint_bytes;
  options->wal_compression = d.wal_compression;
  options->verify_checksums = d.verify_checksums;
  options->busy_timeout_ms = d.busy_timeout_ms;
  options->salvage_wal = d.salvage_wal;
}
