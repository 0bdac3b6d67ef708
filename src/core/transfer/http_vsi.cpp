#include "transfer/http_vsi.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sys/stat.h>

#include "base/error.h"
#include "transfer/http.h"

namespace geoetl {

struct RemoteReadScope::State {
  RemoteReadPolicy policy;
  const CancelToken* cancel;
  std::optional<Error> failure;
  State* outer;
};

namespace {

thread_local RemoteReadScope::State* current_scope = nullptr;

// An open remote file: its URL, size, position, and the policy it was opened under.
struct RemoteFile {
  std::string url;
  uint64_t size = 0;
  uint64_t pos = 0;
  bool eof = false;
  RemoteReadPolicy policy;
};

// Keeps `e` as the scope's failure (the first one wins) and tells GDAL in its own words.
void fail(const Error& e) {
  if (current_scope != nullptr && !current_scope->failure) current_scope->failure = e;
  CPLError(CE_Failure, CPLE_FileIO, "%s", e.what());
}

// The error a server's answer `status` means for `url` (as for GDAL's own /vsicurl/ reads).
Error status_error(const std::string& url, long status) {
  const std::string code = "HTTP " + std::to_string(status);
  if (status == 401 || status == 403)
    return Error(ErrorKind::permission_denied, "the server refused access to \"" + url + "\"", code,
                 "The source needs credentials, or they are wrong or expired.");
  if (status == 404 || status == 410)
    return Error(ErrorKind::not_found, "raster \"" + url + "\" does not exist", code);
  if (status >= 500)
    return Error(ErrorKind::network_error, "the server of \"" + url + "\" failed", code,
                 "Servers fail now and then: try again later.");
  return Error(ErrorKind::network_error, "the server refused \"" + url + "\"", code);
}

HttpOptions request_options(const RemoteReadPolicy& policy) {
  HttpOptions o;
  o.connect_timeout_s = policy.connect_timeout_s;
  o.timeout_s = o.low_speed_time_s = policy.timeout_s;
  o.max_attempts = 3;  // as GDAL_HTTP_MAX_RETRY=2 for /vsicurl/
  o.backoff_s = 0.5;
  o.backoff_max_s = 2;
  o.allowed = policy.allowed;
  return o;
}

const RemoteReadPolicy* active_policy(const RemoteFile* f) {
  return current_scope != nullptr ? &current_scope->policy : &f->policy;
}

CancelToken active_cancel() {
  return current_scope != nullptr && current_scope->cancel != nullptr ? *current_scope->cancel
                                                                      : CancelToken();
}

// The size of the file at `url` (a HEAD request); nullopt after fail().
std::optional<uint64_t> remote_size(const std::string& url, const RemoteReadPolicy& policy) {
  try {
    HttpOptions o = request_options(policy);
    o.method = "HEAD";
    const HttpResponse r = http_get(url, o, active_cancel());
    if (r.status < 200 || r.status > 299) throw status_error(url, r.status);
    if (r.content_length < 0)
      throw Error(ErrorKind::not_supported, "the server of \"" + url + "\" does not say its size",
                  "HTTP " + std::to_string(r.status) + " without Content-Length",
                  "geoetl reads remote rasters with range requests: download the file first.");
    return static_cast<uint64_t>(r.content_length);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::network_error && e.detail().rfind("HTTP ", 0) != 0)
      fail(Error(ErrorKind::network_error, "cannot reach \"" + url + "\"", e.detail(),
                 "Check the address and the network; geoetl.http_timeout and "
                 "geoetl.http_connect_timeout bound the wait."));
    else
      fail(e);
  }
  return std::nullopt;
}

// Writes a response body into the caller's buffer (at most its size: max_body_bytes).
class BufferSink : public HttpSink {
 public:
  BufferSink(char* out, size_t size) : out_(out), size_(size) {}
  void begin() override { used_ = 0; }
  bool write(const char* data, size_t n) override {
    if (n > size_ - used_) return false;
    std::memcpy(out_ + used_, data, n);
    used_ += n;
    return true;
  }
  size_t used() const { return used_; }

 private:
  char* out_;
  size_t size_;
  size_t used_ = 0;
};

// Reads bytes [offset, offset + n) of `f` into out (n > 0, inside the file); false after fail().
bool read_range(const RemoteFile* f, uint64_t offset, size_t n, char* out) {
  BufferSink sink(out, n);
  try {
    HttpOptions o = request_options(*active_policy(f));
    o.max_body_bytes = n;
    o.headers = {
        {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + n - 1)}};
    const HttpResponse r = http_get(f->url, o, &sink, active_cancel());
    const bool whole = r.status == 200 && offset == 0 && n == f->size;
    if (r.status != 206 && !whole) {
      if (r.status == 200)
        throw Error(ErrorKind::not_supported,
                    "the server of \"" + f->url + "\" does not answer range requests",
                    "HTTP 200 to \"Range: bytes=...\"",
                    "geoetl reads remote rasters with range requests: download the file first.");
      throw status_error(f->url, r.status);
    }
    if (sink.used() != n)
      throw Error(ErrorKind::network_error, "cannot read \"" + f->url + "\"",
                  "asked for " + std::to_string(n) + " bytes at " + std::to_string(offset) +
                      ", got " + std::to_string(sink.used()),
                  "The file may have changed on its server: try again.");
    return true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::limit_exceeded && e.detail().empty())  // a 200 with everything
      fail(Error(ErrorKind::not_supported,
                 "the server of \"" + f->url + "\" does not answer range requests", e.what(),
                 "geoetl reads remote rasters with range requests: download the file first."));
    else if (e.kind() == ErrorKind::network_error && e.detail().rfind("HTTP ", 0) != 0)
      fail(Error(ErrorKind::network_error, "cannot read \"" + f->url + "\"", e.detail(),
                 "The file may be truncated or damaged, or its server failed."));
    else
      fail(e);
  }
  return false;
}

bool is_http(const char* name) {
  return std::strncmp(name, "http://", 7) == 0 || std::strncmp(name, "https://", 8) == 0;
}

// GDAL's stat callback: a regular file of the size the server says.
int vsi_stat(void*, const char* name, VSIStatBufL* buf, int) {
  if (!is_http(name) || current_scope == nullptr) {
    errno = ENOENT;
    return -1;
  }
  const std::optional<uint64_t> size = remote_size(name, current_scope->policy);
  if (!size) {
    errno = ENOENT;
    return -1;
  }
  std::memset(buf, 0, sizeof *buf);
  buf->st_mode = S_IFREG | 0444;
  buf->st_size = static_cast<decltype(buf->st_size)>(*size);
  return 0;
}

// Opened only inside a scope (whose policy the file keeps), for reading only.
void* vsi_open(void*, const char* name, const char* access) {
  if (!is_http(name) || current_scope == nullptr || std::strchr(access, 'w') != nullptr ||
      std::strchr(access, 'a') != nullptr || std::strchr(access, '+') != nullptr) {
    errno = EACCES;
    return nullptr;
  }
  const std::optional<uint64_t> size = remote_size(name, current_scope->policy);
  if (!size) {
    errno = ENOENT;
    return nullptr;
  }
  return new RemoteFile{name, *size, 0, false, current_scope->policy};
}

vsi_l_offset vsi_tell(void* file) {
  return static_cast<RemoteFile*>(file)->pos;
}

int vsi_seek(void* file, vsi_l_offset offset, int whence) {
  auto* f = static_cast<RemoteFile*>(file);
  if (whence == SEEK_SET)
    f->pos = offset;
  else if (whence == SEEK_CUR)
    f->pos += offset;
  else if (whence == SEEK_END)
    f->pos = f->size + offset;
  else
    return -1;
  f->eof = false;
  return 0;
}

size_t vsi_read(void* file, void* buffer, size_t size, size_t count) {
  auto* f = static_cast<RemoteFile*>(file);
  if (size == 0 || count == 0) return 0;
  const uint64_t left = f->pos < f->size ? f->size - f->pos : 0;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(left, uint64_t{size} * count));
  if (n < size * count) f->eof = true;
  if (n == 0) return 0;
  if (!read_range(f, f->pos, n, static_cast<char*>(buffer))) return 0;
  f->pos += n;
  return n / size;
}

int vsi_eof(void* file) {
  return static_cast<RemoteFile*>(file)->eof ? 1 : 0;
}

int vsi_close(void* file) {
  delete static_cast<RemoteFile*>(file);
  return 0;
}

// No sidecar files: a remote raster is the one file named.
char** vsi_siblings(void*, const char*) {
  return static_cast<char**>(CPLCalloc(1, sizeof(char*)));
}

}  // namespace

void install_checked_http() {
  static const bool installed = [] {
    VSIFilesystemPluginCallbacksStruct* cb = VSIAllocFilesystemPluginCallbacksStruct();
    cb->stat = vsi_stat;
    cb->open = vsi_open;
    cb->tell = vsi_tell;
    cb->seek = vsi_seek;
    cb->read = vsi_read;
    cb->eof = vsi_eof;
    cb->close = vsi_close;
    cb->sibling_files = vsi_siblings;
    // GDAL's read cache in front of the file: reads are aligned to 16 KiB chunks (as
    // /vsicurl/'s), a run of missing chunks is one request, and up to 16 MiB of each open file
    // stay in memory, so small reads do not each make a request.
    cb->nBufferSize = 16 * 1024;
    cb->nCacheSize = 16 * 1024 * 1024;
    // GDAL keeps the prefix pointer (a string literal lives forever) and copies the struct.
    VSIInstallPluginHandler(checked_http_prefix, cb);
    VSIFreeFilesystemPluginCallbacksStruct(cb);
    return true;
  }();
  (void)installed;
}

RemoteReadScope::RemoteReadScope(RemoteReadPolicy policy, const CancelToken& cancel)
    : state_(new State{std::move(policy), &cancel, std::nullopt, current_scope}) {
  install_checked_http();
  current_scope = state_.get();
}

RemoteReadScope::~RemoteReadScope() {
  current_scope = state_->outer;
}

void RemoteReadScope::rethrow_failure() const {
  if (state_->failure) throw *state_->failure;
}

}  // namespace geoetl
