// The error boundary's non-template half: classification, raising, PG_TRY, interrupts.
#include "boundary.h"

extern "C" {
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

#include <cstring>
#include <new>

#include "base/error.h"

namespace geoetl::pg {
namespace {

// SQLSTATE for each kind of core error.
int sqlstate_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument: return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorKind::not_found: return ERRCODE_UNDEFINED_FILE;
    case ErrorKind::data_corrupted: return ERRCODE_DATA_CORRUPTED;
    case ErrorKind::io_error: return ERRCODE_IO_ERROR;
    case ErrorKind::network_error: return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
    case ErrorKind::permission_denied: return ERRCODE_INSUFFICIENT_PRIVILEGE;
    case ErrorKind::not_supported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    case ErrorKind::limit_exceeded: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case ErrorKind::cancelled: return ERRCODE_QUERY_CANCELED;
    case ErrorKind::internal: return ERRCODE_INTERNAL_ERROR;
  }
  return ERRCODE_INTERNAL_ERROR;
}

// Copies s into the current memory context without ever raising: NULL for empty or on OOM.
const char* copy_or_null(const char* s) noexcept {
  if (s == nullptr || *s == '\0') return nullptr;
  const size_t n = strlen(s) + 1;
  auto* out =
      static_cast<char*>(MemoryContextAllocExtended(CurrentMemoryContext, n, MCXT_ALLOC_NO_OOM));
  if (out != nullptr) memcpy(out, s, n);
  return out;
}

}  // namespace

const char* PgError::what() const noexcept {
  return data_ != nullptr && data_->message != nullptr ? data_->message : "PostgreSQL error";
}

void capture_current_exception(PendingError* out) noexcept {
  try {
    throw;
  } catch (const PgError& e) {
    out->pg = e.data();
  } catch (const Error& e) {
    out->sqlstate = sqlstate_for(e.kind());
    out->message = copy_or_null(e.what());
    out->detail = copy_or_null(e.detail().c_str());
    out->hint = copy_or_null(e.hint().c_str());
    out->cancelled = e.kind() == ErrorKind::cancelled;
  } catch (const std::bad_alloc&) {
    out->sqlstate = ERRCODE_OUT_OF_MEMORY;
    out->message = "out of memory in geoetl core";
  } catch (const std::exception& e) {
    out->sqlstate = ERRCODE_INTERNAL_ERROR;
    out->message = "geoetl internal error";
    out->detail = copy_or_null(e.what());
    out->hint = "This is a bug in geoetl; please report it with the statement that caused it.";
  } catch (...) {
    out->sqlstate = ERRCODE_INTERNAL_ERROR;
    out->message = "geoetl internal error: unexpected non-standard C++ exception";
    out->hint = "This is a bug in geoetl; please report it with the statement that caused it.";
  }
}

void raise_pending(const PendingError* pending) {
  if (pending->pg != nullptr) ReThrowError(pending->pg);
  // Cancellation: let PostgreSQL report it its own way ("due to statement timeout", ...).
  if (pending->cancelled) CHECK_FOR_INTERRUPTS();
  ereport(ERROR, (errcode(pending->sqlstate),
                  errmsg("%s", pending->message != nullptr ? pending->message : "geoetl error"),
                  pending->detail != nullptr ? errdetail("%s", pending->detail) : 0,
                  pending->hint != nullptr ? errhint("%s", pending->hint) : 0));
  pg_unreachable();
}

ErrorData* run_guarded(void (*fn)(void*), void* arg) {
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile caught = nullptr;
  PG_TRY();
  { fn(arg); }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    caught = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  return caught;
}

CancelToken interrupt_token() {
  return CancelToken([] { return QueryCancelPending || ProcDiePending; });
}

}  // namespace geoetl::pg
