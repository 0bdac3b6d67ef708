// The direct read of aggregate_window in parallel workers. Each worker reads parts (consecutive
// block ranges) of the table, taken in turn, and sends the windows of each part, with the text of
// each group new to the part, to the leader through its own queue; the leader joins the windows the
// parts share at their edges (window::PartMerger) and makes the result rows. When the parts overlap
// in time (the table is not stored in time order) the leader stops the workers and the table is
// read again by one worker, which keeps windows open up to work_mem like the backend does.
extern "C" {
#include "postgres.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "storage/latch.h"
#include "storage/shm_toc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"
}

#include <algorithm>
#include <memory>
#include <string>

#include "boundary.h"
#include "window/state.h"

namespace geoetl::pg::window_fn {

namespace {

// The shared memory: the parameters, and one queue per worker.
constexpr uint64 kParamsKey = 1, kQueueKey = 2;  // queue i: kQueueKey + i
constexpr Size kQueueSize = 1 << 20;
struct WorkerParams {
  ReadSpec spec;
  Size budget;
  uint32 parts;
  BlockNumber blocks;
  pg_atomic_uint32 next_part;  // parts are taken in turn: fewer workers may have started
  pg_atomic_uint32 stop;       // set by the leader when the parts overlap: the result is void
};

// One worker's queue, as the leader reads it (palloc'd: PostgreSQL errors skip destructors).
struct Feed {
  shm_mq_handle* mqh;
  bool done;
  uint32 part;     // the part its windows are from
  uint32* group;   // its group ids (in the current part): ours
  uint32 ngroups;  // room in group
};

// The leader's id of a group a worker names (Tag::group with its text, Tag::null_group). The
// leader reads no rows itself, so byref_ids maps texts here.
uint32 leader_group(State& s, const char* text, uint32 len, bool isnull) {
  if (isnull) {
    if (s.null_id < 0) {
      s.null_id = static_cast<int64>(s.group_text.size());
      s.group_text.push_back((Datum)0);
    }
    return static_cast<uint32>(s.null_id);
  }
  s.scratch.assign(text, len);
  auto it = s.byref_ids.find(s.scratch);
  if (it != s.byref_ids.end()) return it->second;
  MemoryContext old = MemoryContextSwitchTo(s.keep);
  s.group_text.push_back(PointerGetDatum(cstring_to_text_with_len(text, static_cast<int>(len))));
  MemoryContextSwitchTo(old);
  const uint32 id = static_cast<uint32>(s.group_text.size() - 1);
  s.byref_ids.emplace(s.scratch, id);
  return id;
}

// Turns one batch from a worker into result rows (through the merger); false when it reported
// rows out of time order.
bool receive_batch(State& s, Feed& f, geoetl::window::PartMerger& merger, const char* p, Size len,
                   Moments* m) {
  using geoetl::window::Tag;
  geoetl::window::MessageReader reader(p, len, static_cast<size_t>(s.r.ncols), m);
  geoetl::window::Message msg;
  bool in_order = true;
  auto emit = [&](int64 w, uint32 g, const Moments* ms) { s.emit(w, g, ms); };
  for (;;) {
    const auto got = reader.next(&msg);
    if (got == geoetl::window::MessageReader::Result::end) break;
    if (got == geoetl::window::MessageReader::Result::malformed)
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                      errmsg("aggregate_window: a parallel worker sent a malformed message")));
    switch (msg.tag) {
      case Tag::part: f.part = msg.part; break;
      case Tag::group:
      case Tag::null_group:
        if (msg.id >= f.ngroups) {
          const uint32 room = std::max(msg.id + 1, 2 * f.ngroups);
          f.group =
              static_cast<uint32*>(f.group == nullptr ? palloc(sizeof(uint32) * room)
                                                      : repalloc(f.group, sizeof(uint32) * room));
          f.ngroups = room;
        }
        f.group[msg.id] = leader_group(s, msg.text.data(), static_cast<uint32>(msg.text.size()),
                                       msg.tag == Tag::null_group);
        break;
      case Tag::window:
        if (s.r.group_att != 0 && msg.id >= f.ngroups)
          ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                          errmsg("aggregate_window: a parallel worker named an unknown group")));
        merger.add(f.part, msg.start, s.r.group_att == 0 ? 0 : f.group[msg.id], msg.moments, emit);
        break;
      case Tag::late:  // a window that had rows late: read again afterwards
        s.late.insert(msg.start);
        if (s.late.size() > State::kMaxLate) in_order = false;
        break;
      case Tag::disordered: in_order = false; break;
    }
  }
  return in_order;
}

}  // namespace

WorkerRead read_table_in_workers(State& s, uint32 parts, BlockNumber blocks) {
  const Request& r = s.r;
  EnterParallelMode();
  ParallelContext* pcxt =
      CreateParallelContext("geoetl", "geoetl_window_worker", static_cast<int>(parts));
  shm_toc_estimate_chunk(&pcxt->estimator, sizeof(WorkerParams));
  for (uint32 i = 0; i < parts; i++) shm_toc_estimate_chunk(&pcxt->estimator, kQueueSize);
  shm_toc_estimate_keys(&pcxt->estimator, 1 + parts);
  InitializeParallelDSM(pcxt);
  WorkerRead result = WorkerRead::kNoWorker;
  if (pcxt->seg != nullptr) {
    auto* wp = static_cast<WorkerParams*>(shm_toc_allocate(pcxt->toc, sizeof(WorkerParams)));
    wp->spec = r;
    wp->budget = s.agg_budget;
    wp->parts = parts;
    wp->blocks = blocks;
    pg_atomic_init_u32(&wp->next_part, 0);
    pg_atomic_init_u32(&wp->stop, 0);
    shm_toc_insert(pcxt->toc, kParamsKey, wp);
    auto** queues = static_cast<shm_mq**>(palloc(sizeof(shm_mq*) * parts));
    for (uint32 i = 0; i < parts; i++) {
      queues[i] = shm_mq_create(shm_toc_allocate(pcxt->toc, kQueueSize), kQueueSize);
      shm_toc_insert(pcxt->toc, kQueueKey + i, queues[i]);
      shm_mq_set_receiver(queues[i], MyProc);
    }
    LaunchParallelWorkers(pcxt);
    if (pcxt->nworkers_launched > 0) {
      elog(DEBUG1,
           "aggregate_window: parallel workers read %u part(s), this backend makes the rows",
           parts);
      const int nfeeds = pcxt->nworkers_launched;
      auto* feeds = static_cast<Feed*>(palloc0(sizeof(Feed) * static_cast<size_t>(nfeeds)));
      for (int i = 0; i < nfeeds; i++)
        feeds[i].mqh = shm_mq_attach(queues[i], pcxt->seg, pcxt->worker[i].bgwhandle);
      if (r.group_att == 0) s.group_text.assign(1, (Datum)0);
      auto* m = static_cast<Moments*>(palloc(sizeof(Moments) * r.ncols));
      s.merger = std::make_unique<geoetl::window::PartMerger>(static_cast<size_t>(r.ncols), parts);
      geoetl::window::PartMerger& merger = *s.merger;
      result = WorkerRead::kDone;
      for (int live = nfeeds; live > 0;) {
        bool got = false;
        for (int i = 0; i < nfeeds; i++) {
          Feed& f = feeds[i];
          if (f.done) continue;
          Size len;
          void* data;
          const shm_mq_result got_one = shm_mq_receive(f.mqh, &len, &data, true);
          if (got_one == SHM_MQ_DETACHED) {
            f.done = true;
            live--;
          }
          if (got_one != SHM_MQ_SUCCESS) continue;
          got = true;
          if (result != WorkerRead::kDone) continue;  // void already: drained only
          if (!receive_batch(s, f, merger, static_cast<const char*>(data), len, m))
            result = WorkerRead::kOutOfOrder;
          else if (merger.overlapping())
            result = WorkerRead::kPartsOverlap;
          if (result != WorkerRead::kDone) pg_atomic_write_u32(&wp->stop, 1);
        }
        if (!got && live > 0) {
          (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, WAIT_EVENT_MQ_RECEIVE);
          ResetLatch(MyLatch);
        }
        CHECK_FOR_INTERRUPTS();  // every round: workers may keep the queues full
      }
      WaitForParallelWorkersToFinish(pcxt);  // raises a worker's error here
      if (result == WorkerRead::kDone &&
          !merger.finish([&](int64 w, uint32 g, const Moments* ms) { s.emit(w, g, ms); }))
        result = WorkerRead::kPartsOverlap;
    }
  }
  DestroyParallelContext(pcxt);
  ExitParallelMode();
  return result;
}

}  // namespace geoetl::pg::window_fn

using namespace geoetl::pg::window_fn;

extern "C" {

// The parallel worker of read_table_in_workers (loaded by name from this library).
PGDLLEXPORT void geoetl_window_worker(dsm_segment* seg, shm_toc* toc);
void geoetl_window_worker(dsm_segment* seg, shm_toc* toc) {
  const auto* wp = static_cast<const WorkerParams*>(shm_toc_lookup(toc, kParamsKey, false));
  auto* mq = static_cast<shm_mq*>(
      shm_toc_lookup(toc, kQueueKey + static_cast<uint64>(ParallelWorkerNumber), false));
  shm_mq_set_sender(mq, MyProc);
  shm_mq_handle* mqh = shm_mq_attach(mq, seg, nullptr);
  Request r{};
  static_cast<ReadSpec&>(r) = wp->spec;
  r.relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(r.relid)),
                                         get_rel_name(r.relid));
  geoetl::pg::call_core([&] {
    State s(r, wp->budget);
    s.message =
        std::make_unique<geoetl::window::MessageWriter>(&s.batch, static_cast<size_t>(r.ncols));
    s.mqh = mqh;
    geoetl::pg::pg_guard([&] {
      s.keep = CurrentMemoryContext;
      s.row_memory = AllocSetContextCreate(CurrentMemoryContext, "aggregate_window rows",
                                           ALLOCSET_DEFAULT_SIZES);
      setup_groups(s);
      s.note_late = true;
      s.stop = const_cast<pg_atomic_uint32*>(&wp->stop);
      auto* next = const_cast<pg_atomic_uint32*>(&wp->next_part);
      for (uint32 part; (part = pg_atomic_fetch_add_u32(next, 1)) < wp->parts;) {
        s.message->part(part);
        s.forget();  // each part numbers its groups from 0 (and names them to the leader)
        if (!read_table(s, part, wp->parts, wp->blocks)) {
          s.message->disordered();
          break;
        }
        s.flush_worker();
      }
      for (const int64 start : s.late) s.message->late(start);
      s.flush_worker();
    });
  });
}

}  // extern "C"
