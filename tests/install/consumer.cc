// A program outside the repository: compiles against the installed public
// header <sombra/db.h> only and uses the database end to end.
#include <sombra/db.h>

#include <cstdio>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "consumer.db";
  (void)sombra::DestroyDB(path);
  std::unique_ptr<sombra::DB> db;
  sombra::Status s = sombra::DB::Open(sombra::Options(), path, &db);
  if (s.ok()) s = db->Put("key", "value");
  std::string value;
  if (s.ok()) s = db->Get("key", &value);
  if (!s.ok() || value != "value" || !db->Get("absent", &value).IsNotFound()) {
    std::printf("consumer: unexpected behaviour: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<sombra::ReadTxn> snap;
  if (!db->BeginRead(&snap).ok()) return 1;
  std::unique_ptr<sombra::Cursor> it = snap->NewCursor();
  it->SeekToFirst();
  if (!it->Valid() || it->key() != "key") {
    std::puts("consumer: cursor did not find the key");
    return 1;
  }
  it.reset();
  snap.reset();
  db.reset();
  (void)sombra::DestroyDB(path);
  std::puts("consumer: ok");
  return 0;
}
