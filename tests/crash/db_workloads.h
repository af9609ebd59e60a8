// The kill-test workloads through the public API (db_kill_test.cc) and the
// parent's model of them.
//
//   txns   random multi-key transactions over 3000 keys of varying length
//          (values from 16 bytes to 9 KiB, some in overflow pages): puts,
//          deletes, deletes of a range found with a cursor, now and then a
//          large transaction of up to 240 writes, an aborted one, or an
//          explicit checkpoint.
//   bank   32 accounts; each transaction moves money from one account to
//          one, two or three others; the total never changes.
//   group  4 committer threads (group commit), each writing its own keys
//          and now and then one of 16 keys they share.
//   trees  the default tree and 5 named trees ("tree-0" .. "tree-4", which
//          the first child creates with OpenTree, one durable transaction
//          each, before its first write) get the same writes in every
//          transaction over 600 keys (puts, deletes, now and then a
//          DeleteRange or a tail deleted and appended again), with values
//          that differ per tree, and "__seq" in each: after a kill all six
//          trees are at the same transaction, never some of them at the
//          next one.
//
// Every transaction, in every workload, also reads the key "__seq", adds
// one and writes it back: the number is the transaction's id, and since
// transactions commit one at a time it is also its place in commit order.
// Every value written carries the id of the transaction that wrote it. The
// child sends an intent (id and writes) before Commit and an ack after
// Commit returned OK. After a kill the database must hold exactly the
// transactions 1..__seq, in full: every acknowledged one, plus perhaps
// some in flight (at most one per committing thread), never a part of one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kill_harness.h"
#include "sombra/options.h"

namespace sombra::kill_test {

// One write of a transaction, as the child reports it in an intent.
struct DbOp {
  uint32_t key_id = 0;
  bool erase = false;
  uint64_t amount = 0;  // a bank balance; 0 for the other workloads
};

// The key and the value of the workloads: the value starts with the
// writing transaction's id and `amount` (u64 each), then 0 to 9000 bytes
// derived from (txn_id, key_id).
std::string DbKeyName(uint32_t key_id);
std::string DbValue(uint64_t txn_id, uint32_t key_id, uint64_t amount);

std::string EncodeDbOps(const std::vector<DbOp>& ops);
bool DecodeDbOps(std::string_view payload, std::vector<DbOp>* ops);

// Durability full; a 256 KiB log so that automatic checkpoints happen.
Options DbKillOptions();

// "txns", "bank", "group" or "trees"; nullptr otherwise.
std::unique_ptr<KillSubject> MakeDbSubject(const std::string& name);

// The child of every DB subject (a ChildBody for KillChildMain).
void DbChild(const std::string& workload, const std::string& path, Reporter* out, Rng* rng);

}  // namespace sombra::kill_test
