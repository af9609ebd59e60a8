// python/src/options.h: sombra.open()'s keyword arguments as sombra::Options.
//
// Each keyword is the name of an Options field (include/sombra/options.h):
// create_if_missing, error_if_exists, read_only, wal_compression,
// verify_checksums, salvage_wal (bool); page_size, busy_timeout_ms,
// wal_checkpoint_bytes, cache_bytes (int); durability ("full", "normal",
// "off" or a sombra.Durability). An unknown keyword or a value of the wrong
// type is TypeError; an int out of the field's range is InvalidArgument
// (DB::Open checks the rest, e.g. a page size that is not a power of two).
#pragma once

#include <pybind11/pybind11.h>

#include "sombra/options.h"

namespace sombra::python {

namespace py = pybind11;

Options OptionsFromKwargs(const py::kwargs& kwargs);

// Adds sombra.Durability (FULL, NORMAL, OFF) to `m`.
void BindDurability(py::module_& m);

}  // namespace sombra::python
