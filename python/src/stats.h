// python/src/stats.h: sombra::Stats and BackupStats as dicts.
#pragma once

#include <pybind11/pybind11.h>

#include "sombra/db.h"

namespace sombra::python {

namespace py = pybind11;

// Every counter of Stats::all by name, then the named fields of Stats
// (include/sombra/stats.h); commits_per_fsync and the timer averages are
// floats, the rest ints.
py::dict StatsToDict(const Stats& s);

// {"pages", "bytes", "sequence", "seconds"}.
py::dict BackupStatsToDict(const BackupStats& s);
py::dict CompactStatsToDict(const CompactStats& s);

}  // namespace sombra::python
