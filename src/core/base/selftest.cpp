#include "base/selftest.h"

#include <atomic>
#include <chrono>
#include <new>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/error.h"

namespace geoetl::selftest {
namespace {

std::atomic<long> live{0};

constexpr ErrorKind all_kinds[] = {
    ErrorKind::invalid_argument, ErrorKind::not_found,      ErrorKind::data_corrupted,
    ErrorKind::io_error,         ErrorKind::network_error,  ErrorKind::permission_denied,
    ErrorKind::not_supported,    ErrorKind::limit_exceeded, ErrorKind::cancelled,
    ErrorKind::internal,
};

struct Foreign {};  // not derived from std::exception

}  // namespace

Tracked::Tracked() noexcept {
  ++live;
}
Tracked::~Tracked() {
  --live;
}

long live_objects() noexcept {
  return live.load();
}

void raise(const std::string& what) {
  Tracked held;  // must be destroyed by unwinding before PostgreSQL sees the error
  for (ErrorKind kind : all_kinds) {
    if (what == error_kind_name(kind))
      throw Error(kind, std::string("selftest: ") + what + " raised by the core",
                  "raised on purpose by geoetl::selftest::raise", "nothing to fix: this is a test");
  }
  if (what == "std_exception")
    throw std::runtime_error("selftest: std::runtime_error from the core");
  if (what == "bad_alloc") throw std::bad_alloc();
  if (what == "foreign") throw Foreign{};
  std::string names;
  for (ErrorKind kind : all_kinds) names += std::string(error_kind_name(kind)) + ", ";
  throw Error(ErrorKind::invalid_argument, "unknown selftest error \"" + what + "\"", {},
              "use one of: " + names + "std_exception, bad_alloc, foreign");
}

long wait(double seconds, const CancelToken& cancel) {
  if (!(seconds >= 0 && seconds <= 3600)) {  // also rejects NaN
    std::ostringstream got;
    got << "got " << seconds << ".";
    throw Error(ErrorKind::invalid_argument, "wait must be between 0 and 3600 seconds", got.str());
  }
  Tracked held;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long polls = 0;
  while (std::chrono::steady_clock::now() < end) {
    cancel.check();
    ++polls;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return polls;
}

}  // namespace geoetl::selftest
