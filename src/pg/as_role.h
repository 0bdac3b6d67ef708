// Running PostgreSQL code as another role: the one place geoetl switches the user id. The
// caller's identity comes back however the code ends (return or ereport).
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
}

#include <initializer_list>

namespace geoetl::pg {

// Runs body() as `role`, the way a SECURITY DEFINER function runs as its owner, with the
// security-context bits in extra_context added (SECURITY_RESTRICTED_OPERATION, say). body may
// ereport; it must keep no C++ object with a destructor on its stack.
template <class F>
void run_as_role(Oid role, int extra_context, F&& body) {
  Oid saved_user;
  int saved_context;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE | extra_context);
  PG_TRY();
  { body(); }
  PG_FINALLY();
  { SetUserIdAndSecContext(saved_user, saved_context); }
  PG_END_TRY();
}

// Calls the function fn(args...) as `role` (see run_as_role) in a GUC nest level of its own that
// is rolled back when it returns: nothing it SETs (search_path, default_transaction_isolation,
// ...) outlives it. The settings named in carry_out keep the value fn gave them, as SET LOCAL.
Datum call_as_role(Oid fn, Oid role, int extra_context, std::initializer_list<Datum> args,
                   bool* isnull, std::initializer_list<const char*> carry_out = {});

}  // namespace geoetl::pg
