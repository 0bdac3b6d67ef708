#include "bulk_insert.h"

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
}

namespace geoetl::pg {

bool bulk_insertable(Oid relid) {
  Relation rel = table_open(relid, AccessShareLock);
  const TupleConstr* constr = RelationGetDescr(rel)->constr;
  const bool plain =
      rel->rd_rel->relkind == RELKIND_RELATION && rel->trigdesc == nullptr &&
      (constr == nullptr || (constr->num_check == 0 && !constr->has_generated_stored)) &&
      check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
  table_close(rel, AccessShareLock);
  return plain;
}

BulkInsert::BulkInsert(Oid relid, const char* const* columns, int ncolumns) : ncolumns_(ncolumns) {
  PreventCommandIfReadOnly("geoetl's bulk insert");  // as COPY FROM and INSERT are refused
  PreventCommandIfParallelMode("geoetl's bulk insert");
  const AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
  if (acl != ACLCHECK_OK) aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
  rel_ = table_open(relid, RowExclusiveLock);
  estate_ = CreateExecutorState();
  result_ = makeNode(ResultRelInfo);
  InitResultRelInfo(result_, rel_, 1, nullptr, 0);
  ExecOpenIndices(result_, false);
  bistate_ = GetBulkInsertState();
  for (TupleTableSlot*& slot : slots_) slot = table_slot_create(rel_, nullptr);
  attnums_ = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * ncolumns));
  for (int i = 0; i < ncolumns; i++) {
    attnums_[i] = attnameAttNum(rel_, columns[i], false);
    if (attnums_[i] <= 0)
      elog(ERROR, "geoetl: %s has no column %s", RelationGetRelationName(rel_), columns[i]);
  }
  values_ = static_cast<Datum*>(palloc0(sizeof(Datum) * ncolumns));
  nulls_ = static_cast<bool*>(palloc0(sizeof(bool) * ncolumns));
  row_memory_ =
      AllocSetContextCreate(CurrentMemoryContext, "geoetl bulk rows", ALLOCSET_DEFAULT_SIZES);
}

void BulkInsert::add() {
  TupleTableSlot* slot = slots_[used_];
  ExecClearTuple(slot);
  const TupleDesc desc = RelationGetDescr(rel_);
  for (int a = 0; a < desc->natts; a++) slot->tts_isnull[a] = true;
  for (int i = 0; i < ncolumns_; i++) {
    slot->tts_values[attnums_[i] - 1] = values_[i];
    slot->tts_isnull[attnums_[i] - 1] = nulls_[i];
  }
  for (int a = 0; a < desc->natts; a++) {  // what ExecConstraints checks (there is no CHECK)
    const Form_pg_attribute att = TupleDescAttr(desc, a);
    if (att->attnotnull && !att->attisdropped && slot->tts_isnull[a])
      ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                      errmsg("null value in column \"%s\" of relation \"%s\" violates not-null "
                             "constraint",
                             NameStr(att->attname), RelationGetRelationName(rel_))));
  }
  ExecStoreVirtualTuple(slot);
  if (++used_ == kBuffered) flush();
}

void BulkInsert::flush() {
  if (used_ == 0) return;
  MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate_));
  table_multi_insert(rel_, slots_, used_, GetCurrentCommandId(true), 0, bistate_);
  for (int i = 0; i < used_; i++) {
    if (result_->ri_NumIndices > 0)
      list_free(ExecInsertIndexTuples(result_, slots_[i], estate_, false, false, nullptr, NIL));
    ExecClearTuple(slots_[i]);
  }
  MemoryContextSwitchTo(old);
  ResetPerTupleExprContext(estate_);
  MemoryContextReset(row_memory_);
  used_ = 0;
}

void BulkInsert::finish() {
  flush();
  FreeBulkInsertState(bistate_);
  table_finish_bulk_insert(rel_, 0);
  ExecCloseIndices(result_);
  for (TupleTableSlot* slot : slots_) ExecDropSingleTupleTableSlot(slot);
  FreeExecutorState(estate_);
  table_close(rel_, NoLock);
  MemoryContextDelete(row_memory_);
  CommandCounterIncrement();  // what follows sees the rows
}

}  // namespace geoetl::pg
