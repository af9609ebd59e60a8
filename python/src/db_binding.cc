// python/src/db_binding.cc: sombra.open(), sombra.destroy() and sombra.DB
// (docs/python.md). Every call that can block (open, close, begin of a
// write transaction, the one-operation writes, tree creation and drop,
// checkpoint, verify, backup) runs with the GIL released.
#include <memory>
#include <string>
#include <vector>

#include "bytes_arg.h"
#include "errors.h"
#include "options.h"
#include "stats.h"
#include "tree.h"
#include "txn.h"

namespace sombra::python {
namespace {

using HandlePtr = std::shared_ptr<DbHandle>;

struct DbObject {
  HandlePtr handle;  // null once closed

  // The open database; InvalidArgument once closed.
  const HandlePtr& Open() const {
    if (handle == nullptr) [[unlikely]]
      RaiseInvalid("database is closed");
    return handle;
  }
};

// Runs f() without the GIL, keeping the handle (and so the DB) alive.
template <typename F>
Status Unlocked(HandlePtr h, F&& f) {
  py::gil_scoped_release release;
  return f(*h->db);
}

// Invariant 5 of handles.h: this thread would wait for itself.
void CheckNotWriter(const DbHandle& h, const char* what) {
  if (h.writer_thread != 0 && h.writer_thread == PyThread_get_thread_ident()) {
    Raise(Status::Busy(std::string(what) + " on " + h.path +
                       ": this thread holds the database's write transaction (commit or abort "
                       "it first)"));
  }
}

DbObject OpenDb(py::handle path, const py::kwargs& kwargs) {
  const Options options = OptionsFromKwargs(kwargs);
  auto h = std::make_shared<DbHandle>();
  h->path = PathArg(path);
  Status s;
  {
    py::gil_scoped_release release;
    s = DB::Open(options, h->path, &h->db);
  }
  Check(s);
  h->default_tree = h->db->DefaultTree();
  return DbObject{std::move(h)};
}

void Close(DbObject& self) {
  if (self.handle == nullptr) return;
  HandlePtr h = std::move(self.handle);
  // Each End erases its transaction from the set.
  while (!h->open_txns.empty()) (*h->open_txns.begin())->Abort();
  h.reset();  // the last reference destroys the DB without the GIL
}

py::object Begin(DbObject& self, bool write) {
  HandlePtr h = self.Open();
  if (!write) {
    auto pin = std::make_shared<ReadPin>();
    pin->db = h;
    Check(h->db->BeginRead(&pin->txn));
    return py::cast(std::make_shared<ReadTxnObject>(h, std::move(pin)));
  }
  CheckNotWriter(*h, "begin(write=True)");
  std::unique_ptr<WriteTxn> txn;
  Check(Unlocked(h, [&](DB& db) { return db.BeginWrite(&txn); }));
  return py::cast(std::make_shared<WriteTxnObject>(h, std::move(txn), PyThread_get_thread_ident()));
}

py::object DbGet(DbObject& self, py::handle key, py::handle default_) {
  const HandlePtr& h = self.Open();
  BytesArg k(key, "key");
  std::string value;
  const Status s = h->db->Get(k.get(), &value);
  if (s.IsNotFound()) return py::reinterpret_borrow<py::object>(default_);
  Check(s);
  return ToBytes(value);
}

void DbPut(DbObject& self, py::handle key, py::handle value) {
  const HandlePtr& h = self.Open();
  CheckNotWriter(*h, "put");
  BytesArg k(key, "key");
  BytesArg v(value, "value");
  Check(Unlocked(h, [&](DB& db) { return db.Put(k.get(), v.get()); }));
}

void DbDelete(DbObject& self, py::handle key) {
  const HandlePtr& h = self.Open();
  CheckNotWriter(*h, "delete");
  BytesArg k(key, "key");
  Check(Unlocked(h, [&](DB& db) { return db.Delete(k.get()); }));
}

TreeObject OpenTree(DbObject& self, py::handle name) {
  const HandlePtr& h = self.Open();
  const std::string n = NameArg(name);
  Tree* tree = nullptr;
  Check(Unlocked(h, [&](DB& db) { return db.OpenTree(n, &tree); }));
  return TreeObject{h, tree};
}

py::list Trees(DbObject& self) {
  std::vector<std::string> names;
  Check(self.Open()->db->ListTrees(&names));
  py::list out;
  for (const std::string& n : names) out.append(NameToStr(n));
  return out;
}

void DropTree(DbObject& self, py::handle name) {
  const HandlePtr& h = self.Open();
  std::string n;
  if (py::isinstance<TreeObject>(name)) {
    const TreeObject& t = name.cast<const TreeObject&>();
    if (t.db.owner_before(h) || h.owner_before(t.db)) {
      RaiseInvalid("drop_tree: the tree belongs to another database than " + h->path);
    }
    n = t.tree->name();
  } else {
    n = NameArg(name);
  }
  Check(Unlocked(h, [&](DB& db) { return db.DropTree(n); }));
}

py::dict Backup(DbObject& self, py::handle dest) {
  const HandlePtr& h = self.Open();
  const std::string d = PathArg(dest);
  BackupStats stats;
  Check(Unlocked(h, [&](DB& db) { return db.Backup(d, BackupOptions(), &stats); }));
  return BackupStatsToDict(stats);
}

py::dict Compact(DbObject& self) {
  const HandlePtr& h = self.Open();
  CompactStats stats;
  Check(Unlocked(h, [&](DB& db) { return db.Compact(&stats); }));
  return CompactStatsToDict(stats);
}

py::str Path(const DbHandle& h) {
  PyObject* s =
      PyUnicode_DecodeFSDefaultAndSize(h.path.data(), static_cast<Py_ssize_t>(h.path.size()));
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

void BindDbMethods(py::class_<DbObject>& c) {
  const auto none = py::none();
  c.def("begin", &Begin, py::arg("write") = false,
        "A ReadTxn (a snapshot), or with write=True the WriteTxn (waits for the writer).")
      .def("get", &DbGet, py::arg("key"), py::arg("default") = none,
           "One-operation read of the latest committed value.")
      .def("put", &DbPut, py::arg("key"), py::arg("value"), "One-operation, durable write.")
      .def("delete", &DbDelete, py::arg("key"), "One-operation, durable delete.")
      .def("tree", &OpenTree, py::arg("name"),
           "The named tree (str or bytes, 1 to 255 bytes), created in its own durable "
           "transaction when missing.")
      .def("trees", &Trees, "Names of the named trees, sorted (the default tree not listed).")
      .def("drop_tree", &DropTree, py::arg("name"),
           "Drops the tree (a name or a Tree) in one durable transaction; NotFound if absent.")
      .def(
          "checkpoint",
          [](DbObject& self) {
            Check(Unlocked(self.Open(), [](DB& db) { return db.Checkpoint(); }));
          },
          "Writes committed pages to the page file and restarts the log.")
      .def(
          "verify",
          [](DbObject& self) { Check(Unlocked(self.Open(), [](DB& db) { return db.Verify(); })); },
          "Checks every page and the tree; raises Corruption naming the first problem.")
      .def("backup", &Backup, py::arg("dest"),
           "A consistent, compacted, verified copy at dest (which must not exist); returns "
           "{pages, bytes, sequence, seconds}.")
      .def("compact", &Compact,
           "Moves live pages down into free pages and shrinks the file, a step at a time "
           "(writers commit between steps); returns {steps, pages_moved, pages_rewritten, "
           "pages_given_back, file_bytes_before, file_bytes_after, seconds}.")
      .def(
          "stats", [](DbObject& self) { return StatsToDict(self.Open()->db->GetStats()); },
          "Every counter by name (include/sombra/stats.h).");
}

void BindDbProperties(py::class_<DbObject>& c) {
  c.def_property_readonly("page_size", [](DbObject& self) { return self.Open()->db->page_size(); })
      .def_property_readonly("max_key_size",
                             [](DbObject& self) { return self.Open()->db->MaxKeySize(); })
      .def_property_readonly("path", [](DbObject& self) { return Path(*self.Open()); })
      .def_property_readonly("closed", [](DbObject& self) { return self.handle == nullptr; })
      .def("close", &Close,
           "Ends every open transaction of this DB (aborting a write), then closes "
           "(checkpoints) once no view pins it.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](DbObject& self, py::handle, py::handle, py::handle) {
             Close(self);
             return false;
           })
      .def("__repr__", [](DbObject& self) {
        return Text(self.handle == nullptr ? std::string("<sombra.DB (closed)>")
                                           : "<sombra.DB " + self.handle->path + ">");
      });
}

}  // namespace

void BindDb(py::module_& m) {
  py::class_<DbObject> c(m, "DB", "An open database (sombra.open()).");
  BindDbMethods(c);
  BindDbProperties(c);
  m.def("open", &OpenDb, py::arg("path"),
        "Opens (creating when missing, by default) the database at path. Keyword arguments "
        "are sombra::Options fields: create_if_missing, error_if_exists, read_only, page_size, "
        "durability, wal_checkpoint_bytes, wal_compression, verify_checksums, cache_bytes, "
        "busy_timeout_ms, salvage_wal.");
  m.def(
      "destroy",
      [](py::handle path) {
        const std::string p = PathArg(path);
        Status s;
        {
          py::gil_scoped_release release;
          s = DestroyDB(p);
        }
        Check(s);
      },
      py::arg("path"), "Deletes the database at path (it must not be open); NotFound if none.");
}

}  // namespace sombra::python
