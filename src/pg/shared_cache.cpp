// The shared block cache in PostgreSQL: geoetl.shared_cache_mb (read at server start), the
// segment asked for in shmem_request_hook and laid out in shmem_startup_hook (in the postmaster,
// before any backend exists, and again after a crash restart), inherited by every backend, and
// geoetl.shared_cache_stats(). The cache's locks are the core's own (a few stores each, never
// around anything that can raise), not LWLocks: the core may read from more than one thread.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
}

#include "shared_cache.h"

#include "boundary.h"
#include "raster/shared_blocks.h"

namespace geoetl::pg {
namespace {

int shared_cache_mb = 0;
shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

size_t segment_bytes() {
  return geoetl::SharedBlockCache::segment_bytes(static_cast<size_t>(shared_cache_mb) << 20);
}

void request_segment() {
  if (previous_request != nullptr) previous_request();
  if (shared_cache_mb > 0) RequestAddinShmemSpace(segment_bytes());
}

void start_segment() {
  if (previous_startup != nullptr) previous_startup();
  geoetl::set_shared_block_cache(nullptr);
  if (shared_cache_mb <= 0) return;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  void* memory = ShmemInitStruct("geoetl shared block cache", segment_bytes(), &found);
  geoetl::SharedBlockCache* cache = found
                                        ? geoetl::SharedBlockCache::attach(memory)
                                        : geoetl::SharedBlockCache::format(memory, segment_bytes());
  LWLockRelease(AddinShmemInitLock);
  geoetl::set_shared_block_cache(cache);
}

}  // namespace

void request_shared_cache() {
  // Loaded by a backend, the setting is only shown (a server setting may not be defined then,
  // and leaving it undefined would warn about it in every session of a server that sets it).
  const bool preloading = process_shared_preload_libraries_in_progress;
  DefineCustomIntVariable(
      "geoetl.shared_cache_mb",
      "Decoded raster blocks kept in shared memory for every backend, in MB (0: none).",
      "Read at server start; needs geoetl in shared_preload_libraries.", &shared_cache_mb, 128, 0,
      1048576, preloading ? PGC_POSTMASTER : PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
  if (!preloading) return;
  previous_request = shmem_request_hook;
  shmem_request_hook = request_segment;
  previous_startup = shmem_startup_hook;
  shmem_startup_hook = start_segment;
}

}  // namespace geoetl::pg

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_shared_cache_stats);
Datum geoetl_shared_cache_stats(PG_FUNCTION_ARGS) {
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "geoetl.shared_cache_stats must return a record");
  geoetl::SharedBlockCache* cache = geoetl::shared_block_cache();
  const geoetl::SharedBlockStats s = cache != nullptr ? cache->stats() : geoetl::SharedBlockStats();
  const double mb = cache != nullptr ? static_cast<double>(cache->data_bytes()) / (1 << 20) : 0;
  const uint64_t counts[] = {s.slots,   s.used,      s.pinned,          s.hits,          s.misses,
                             s.inserts, s.evictions, s.insert_failures, s.lock_takeovers};
  constexpr int ncounts = sizeof counts / sizeof counts[0];
  Datum values[2 + ncounts];
  bool nulls[2 + ncounts] = {};
  values[0] = BoolGetDatum(cache != nullptr);
  values[1] = Float8GetDatum(mb);
  for (int i = 0; i < ncounts; i++) values[2 + i] = Int64GetDatum(static_cast<int64>(counts[i]));
  if (desc->natts != 2 + ncounts) elog(ERROR, "geoetl.shared_cache_stats: wrong result columns");
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

}  // extern "C"
