// Objects put into the store that belong to the current transaction: kept when it commits,
// taken back when it (or the subtransaction that put them) aborts, so that a failed job or
// statement leaves the store as it found it.
#pragma once

#include <functional>
#include <memory>

#include "transfer/store.h"

namespace geoetl::pg {

// Runs `put`, which puts one object into `store` and returns what it replaced (AdoptUndo); the
// change then follows the transaction. An AdoptUndo without a key says nothing was put. Call inside
// call_core.
void put_in_transaction(std::shared_ptr<Store> store, const std::function<AdoptUndo(Store&)>& put);

}  // namespace geoetl::pg
