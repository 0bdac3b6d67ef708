// Rows into a table the way COPY FROM puts them there: the table access method's multi-insert,
// then each index, without the executor's cost per row. Only for plain tables without triggers,
// row security, partitions or CHECK constraints (bulk_insertable() says; else use SQL), inserted
// as the current user, who needs INSERT on the table. Everything here may ereport: use under
// pg_guard.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "executor/executor.h"
}

namespace geoetl::pg {

bool bulk_insertable(Oid relid);

class BulkInsert {
 public:
  // `columns` names the values of a row, in the order rows give them.
  BulkInsert(Oid relid, const char* const* columns, int ncolumns);
  BulkInsert(const BulkInsert&) = delete;
  BulkInsert& operator=(const BulkInsert&) = delete;

  // The next row: set values()[i] and nulls()[i] for every column i, then add().
  Datum* values() { return values_; }
  bool* nulls() { return nulls_; }
  // Memory for the row's by-reference values (freed once the row is in the table).
  MemoryContext row_memory() const { return row_memory_; }
  void add();
  // Puts the rows added so far into the table (add() does when 1,000 wait).
  void flush();
  // Flushes and closes; must be called (destructors never call PostgreSQL).
  void finish();

 private:
  static constexpr int kBuffered = 1000;
  Relation rel_;
  EState* estate_;
  ResultRelInfo* result_;
  BulkInsertState bistate_;
  TupleTableSlot* slots_[kBuffered];
  int used_ = 0;
  int ncolumns_;
  AttrNumber* attnums_;
  Datum* values_;
  bool* nulls_;
  MemoryContext row_memory_;
};

}  // namespace geoetl::pg
