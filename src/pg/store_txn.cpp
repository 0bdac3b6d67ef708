// Store changes that follow the transaction (see store_txn.h).
extern "C" {
#include "postgres.h"
#include "access/xact.h"
}

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "boundary.h"
#include "store_txn.h"

namespace geoetl::pg {

namespace {

// Objects put into the store by the current transaction, each with what it replaced: kept when
// the transaction commits, taken back when it (or the subtransaction that put it) aborts.
struct StoreChange {
  std::shared_ptr<Store> store;
  AdoptUndo undo;
  SubTransactionId subxact;
};
std::vector<StoreChange> changes;

// Takes back the changes made in `subxact` (all of them for InvalidSubTransactionId), newest
// first. Runs while a transaction aborts: nothing may be thrown, only warned about.
void take_back(SubTransactionId subxact) noexcept {
  for (size_t i = changes.size(); i-- > 0;) {
    if (subxact != InvalidSubTransactionId && changes[i].subxact != subxact) continue;
    std::string failure;
    try {
      undo_adopt(*changes[i].store, changes[i].undo);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown error";
    }
    if (!failure.empty())
      ereport(WARNING, (errmsg("geoetl: cannot take back \"%s\" from the store: %s",
                               changes[i].undo.key.c_str(), failure.c_str()),
                        errhint("geoetl.stac_verify() and geoetl.store_list() show the store.")));
    changes.erase(changes.begin() + static_cast<long>(i));
  }
}

void on_xact(XactEvent event, void*) {
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
      event == XACT_EVENT_PREPARE) {
    for (const StoreChange& c : changes) forget_adopt(c.undo);
    changes.clear();
  } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
    take_back(InvalidSubTransactionId);
  }
}

void on_subxact(SubXactEvent event, SubTransactionId subxact, SubTransactionId parent, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB) {
    take_back(subxact);
  } else if (event == SUBXACT_EVENT_COMMIT_SUB) {
    for (StoreChange& c : changes)
      if (c.subxact == subxact) c.subxact = parent;
  }
}

}  // namespace

void put_in_transaction(std::shared_ptr<Store> store, const std::function<AdoptUndo(Store&)>& put) {
  static bool registered = false;
  if (!registered) {
    pg_guard([] {
      RegisterXactCallback(on_xact, nullptr);
      RegisterSubXactCallback(on_subxact, nullptr);
    });
    registered = true;
  }
  const SubTransactionId subxact = pg_guard([] { return GetCurrentSubTransactionId(); });
  changes.reserve(changes.size() + 1);  // nothing can fail once the object is in place
  AdoptUndo undo = put(*store);
  if (undo.key.empty()) return;  // nothing was put
  changes.push_back({std::move(store), std::move(undo), subxact});
}

}  // namespace geoetl::pg
