// Remote rasters read by GDAL through geoetl's own HTTP client: a GDAL virtual file system
// (VSIInstallPluginHandler) under the prefix "/vsigeoetl/", so "/vsigeoetl/https://host/a.tif"
// is read with HTTP range requests made by http_get(). Unlike GDAL's /vsicurl/, every request
// (a HEAD for the size, then one GET per range GDAL's read cache misses) starts from the URL
// itself and follows its redirects hop by hop, each hop asked to the policy's allow-list; each
// request polls the running call's cancel token and is bounded by its timeouts.
//
// Vocabulary: the *policy* (allow-list, timeouts) and the *cancel token* belong to a geoetl call;
// a RemoteReadScope makes them those of the file system for as long as it lives, on its thread.
// GDAL reports a failed read only as "read failed": the scope keeps the first failure of a
// request (a refused redirect, a cancellation, a server error) so that the caller can throw it.
// GDAL's threads are off in geoetl (GDAL_NUM_THREADS is never set), so GDAL calls the file
// system on the thread that called GDAL; a call from any other thread (or outside every scope)
// still uses the policy the file was opened with, without a cancel token.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/cancel.h"

namespace geoetl {

class Error;

// GDAL file names read through geoetl's HTTP client: checked_http_prefix + "http(s)://...".
constexpr const char* checked_http_prefix = "/vsigeoetl/";

struct RemoteReadPolicy {
  std::function<bool(const std::string& url)> allowed;  // every hop; empty: any URL
  int connect_timeout_s = 10;
  int timeout_s = 60;  // one request, from connect to its last byte
};

// Registers the file system with GDAL (once per process; later calls do nothing).
void install_checked_http();

class RemoteReadScope {
 public:
  RemoteReadScope(RemoteReadPolicy policy, const CancelToken& cancel);
  ~RemoteReadScope();
  RemoteReadScope(const RemoteReadScope&) = delete;
  RemoteReadScope& operator=(const RemoteReadScope&) = delete;

  // Throws the first failure a request of this scope had, if any (Error: permission_denied for
  // a redirect outside the allow-list, cancelled, not_found, network_error, not_supported).
  void rethrow_failure() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace geoetl
