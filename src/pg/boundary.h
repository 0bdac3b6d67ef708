// The C++ <-> PostgreSQL error boundary: one mechanism each way.
//
//   call_core(f)  PostgreSQL -> C++. Every SQL-callable function runs its C++ work through it.
//                 Any exception is caught, classified and copied into plain data; only after
//                 the catch block, with every C++ frame unwound, is it raised with ereport().
//   pg_guard(f)   C++ -> PostgreSQL. A PostgreSQL call that may ereport runs under PG_TRY; an
//                 error comes back to C++ as a PgError exception, so C++ destructors run.
//
// Rules: read SQL arguments before call_core (detoasting may ereport); inside pg_guard keep
// only plain data on the stack; a PgError must travel up to call_core, which re-raises the
// original error (SQLSTATE, message, detail, hint) unchanged.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <exception>
#include <type_traits>
#include <utility>

#include "base/cancel.h"

namespace geoetl::pg {

// A PostgreSQL error caught by pg_guard(), on its way to call_core().
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) noexcept : data_(data) {}
  ErrorData* data() const noexcept { return data_; }
  const char* what() const noexcept override;

 private:
  ErrorData* data_;
};

// A caught exception reduced to plain data that survives the end of the catch block.
struct PendingError {
  ErrorData* pg = nullptr;  // set when the exception was a PgError
  int sqlstate = 0;
  const char* message = nullptr;
  const char* detail = nullptr;
  const char* hint = nullptr;
  bool cancelled = false;
};

// Classifies the exception being handled; must be called from inside a catch block. noexcept.
void capture_current_exception(PendingError* out) noexcept;

// Raises the captured error with ereport(ERROR). Never returns.
[[noreturn]] void raise_pending(const PendingError* pending);

// Runs fn(arg) under PG_TRY. Returns NULL, or a copy of the error it raised (state flushed).
ErrorData* run_guarded(void (*fn)(void*), void* arg);

// A CancelToken that fires on statement_timeout, pg_cancel_backend and backend termination.
CancelToken interrupt_token();

template <typename F>
auto call_core(F&& f) -> decltype(f()) {
  PendingError pending;
  try {
    return f();
  } catch (...) {
    capture_current_exception(&pending);
  }
  raise_pending(&pending);
}

template <typename F>
auto pg_guard(F&& f) -> decltype(f()) {
  using R = decltype(f());
  struct Call {
    F& f;
    std::exception_ptr cxx;  // a C++ exception thrown by f itself, rethrown after PG_TRY
    std::conditional_t<std::is_void_v<R>, bool, R> result{};
    static void run(void* p) noexcept {
      auto* self = static_cast<Call*>(p);
      try {
        if constexpr (std::is_void_v<R>)
          self->f();
        else
          self->result = self->f();
      } catch (...) {
        self->cxx = std::current_exception();
      }
    }
  } call{f, nullptr};
  if (ErrorData* err = run_guarded(&Call::run, &call)) throw PgError(err);
  if (call.cxx) std::rethrow_exception(call.cxx);
  if constexpr (!std::is_void_v<R>) return call.result;
}

}  // namespace geoetl::pg
