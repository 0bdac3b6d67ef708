#include "transfer/store.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <cpl_vsi_error.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "transfer/atomic_file.h"
#include "transfer/download.h"

namespace geoetl {

bool is_store_key(const std::string& key) {
  bool ok = !key.empty() && key.front() != '/' && key.back() != '/';
  size_t start = 0;
  while (ok && start <= key.size()) {
    const size_t end = std::min(key.find('/', start), key.size());
    const std::string part = key.substr(start, end - start);
    ok = !part.empty() && part[0] != '.' && !has_part_marker(part) &&
         part.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos;
    start = end + 1;
  }
  return ok;
}

void check_store_key(const std::string& key) {
  if (!is_store_key(key))
    throw Error(ErrorKind::invalid_argument, "invalid store key \"" + key + "\"",
                std::string("A key is a relative path of names made of letters, digits, '.', "
                            "'_' and '-', none starting with '.' or holding \"") +
                    part_marker() + "\" (the store's unfinished copies).");
}

namespace {

namespace fs = std::filesystem;

std::string errno_text() {
  return std::strerror(errno);
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(ErrorKind::io_error, "cannot create the folder \"" + dir + "\"", ec.message());
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.find_last_of('/'));
}

// Copies a file to `dest` through a temporary file beside it, renamed when complete.
void copy_file_atomically(const std::string& from, const std::string& dest,
                          const CancelToken& cancel) {
  const int in = open(from.c_str(), O_RDONLY);
  if (in < 0) throw Error(ErrorKind::io_error, "cannot read \"" + from + "\"", errno_text());
  try {
    write_file_atomically(
        dest,
        [&](char* buffer, size_t size) {
          for (;;) {
            const ssize_t n = read(in, buffer, size);
            if (n >= 0) return static_cast<size_t>(n);
            if (errno != EINTR)
              throw Error(ErrorKind::io_error, "cannot read \"" + from + "\": " + errno_text());
          }
        },
        cancel);
  } catch (...) {
    close(in);
    throw;
  }
  close(in);
}

class LocalStore : public Store {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}

  void put(const std::string& local_file, const std::string& key,
           const CancelToken& cancel) override {
    const std::string dest = path(key);
    make_dirs(parent_of(dest));
    copy_file_atomically(local_file, dest, cancel);
  }
  void get(const std::string& key, const std::string& local_file,
           const CancelToken& cancel) override {
    if (!size_of(key)) throw Error(ErrorKind::not_found, "the store has no \"" + key + "\"");
    copy_file_atomically(path(key), local_file, cancel);
  }
  std::optional<uint64_t> size_of(const std::string& key) override {
    struct stat st;
    if (stat(path(key).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }
  std::vector<StoreEntry> list(const std::string& prefix) override {
    std::vector<StoreEntry> out;
    std::error_code ec;
    // from the prefix's own folder: a listing of one package never walks the whole store
    const size_t slash = prefix.rfind('/');
    if (slash != std::string::npos && !is_store_key(prefix.substr(0, slash)))
      return out;  // no key starts with "../" or "/"
    const std::string folder =
        slash == std::string::npos ? root_ : root_ + "/" + prefix.substr(0, slash);
    if (!fs::is_directory(folder, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const std::string name = it->path().filename();
      if (name[0] == '.') {  // staging, and temporary files of puts in progress
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (has_part_marker(name) || !it->is_regular_file()) continue;
      const std::string key = it->path().string().substr(root_.size() + 1);
      if (key.rfind(prefix, 0) == 0) out.push_back({key, static_cast<uint64_t>(it->file_size())});
    }
    std::sort(out.begin(), out.end(),
              [](const StoreEntry& a, const StoreEntry& b) { return a.key < b.key; });
    return out;
  }
  bool remove(const std::string& key) override {
    if (unlink(path(key).c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw Error(ErrorKind::io_error, "cannot remove \"" + key + "\" from the store", errno_text());
  }
  std::string gdal_path(const std::string& key) const override { return path(key); }
  std::string uri(const std::string& key) const override { return path(key); }
  std::string staging_dir() const override { return root_ + "/.staging"; }
  std::string local_copy(const std::string& key) const override { return path(key); }
  void adopt(const std::string& staged_file, const std::string& key, const CancelToken&) override {
    const std::string dest = path(key);
    make_dirs(parent_of(dest));
    const int failed = move_file(staged_file, dest);
    if (failed != 0)
      throw Error(ErrorKind::io_error, "cannot move a file into the store as \"" + key + "\"",
                  std::strerror(failed));
  }

 private:
  std::string path(const std::string& key) const {
    check_store_key(key);
    return root_ + "/" + key;
  }
  std::string root_;
};

class S3Store : public Store {
 public:
  S3Store(std::string bucket, std::string prefix, std::string staging, GdalSettings gdal)
      : bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        staging_(std::move(staging)),
        gdal_(std::move(gdal)) {}

  void put(const std::string& local_file, const std::string& key,
           const CancelToken& cancel) override {
    const std::string dest = gdal_path(key);
    ensure_gdal(gdal_);
    cancel.check();  // an upload is not interrupted: the server would keep what it got
    const int in = open(local_file.c_str(), O_RDONLY);
    if (in < 0)
      throw Error(ErrorKind::io_error, "cannot read \"" + local_file + "\"", errno_text());
    VSIErrorReset();
    VSILFILE* out = VSIFOpenExL(dest.c_str(), "wb", TRUE);
    if (out == nullptr) {
      close(in);
      throw failure("cannot write \"" + uri(key) + "\"");
    }
    std::string buf(1 << 20, '\0');
    bool ok = true;
    for (ssize_t n; ok && (n = read(in, buf.data(), buf.size())) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      ok =
          n > 0 && VSIFWriteL(buf.data(), 1, static_cast<size_t>(n), out) == static_cast<size_t>(n);
    }
    close(in);
    ok = VSIFCloseL(out) == 0 && ok;
    if (!ok) {
      Error e = failure("cannot write \"" + uri(key) + "\"");
      VSIUnlink(dest.c_str());  // closing completed the upload of whatever had been written
      VSICurlPartialClearCache(dest.c_str());
      throw e;
    }
    VSICurlPartialClearCache(dest.c_str());
  }
  void get(const std::string& key, const std::string& local_file,
           const CancelToken& cancel) override {
    ensure_gdal(gdal_);
    VSIErrorReset();
    VSILFILE* in = VSIFOpenExL(gdal_path(key).c_str(), "rb", TRUE);
    if (in == nullptr) throw failure("cannot read \"" + uri(key) + "\"");
    try {
      write_file_atomically(
          local_file, [&](char* buffer, size_t size) { return VSIFReadL(buffer, 1, size, in); },
          cancel);
    } catch (...) {
      VSIFCloseL(in);
      throw;
    }
    VSIFCloseL(in);
  }
  std::optional<uint64_t> size_of(const std::string& key) override {
    ensure_gdal(gdal_);
    VSIStatBufL st;
    if (VSIStatExL(gdal_path(key).c_str(), &st, VSI_STAT_EXISTS_FLAG | VSI_STAT_SIZE_FLAG) != 0)
      return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }
  std::vector<StoreEntry> list(const std::string& prefix) override {
    ensure_gdal(gdal_);
    const std::string base = root();
    VSICurlClearCache();  // a listing is always asked again: objects come and go, keys change
    std::vector<StoreEntry> out;
    VSIErrorReset();
    char** names = VSIReadDirRecursive(base.c_str());
    if (names == nullptr) {  // an empty prefix, or a store that cannot be read: ask the bucket
      const std::string bucket = "/vsis3/" + bucket_;
      VSICurlPartialClearCache(bucket.c_str());
      VSIStatBufL st;
      if (VSIStatExL(bucket.c_str(), &st, VSI_STAT_EXISTS_FLAG | VSI_STAT_SET_ERROR_FLAG) != 0)
        throw failure("cannot list \"" + uri(prefix.empty() ? "" : prefix) + "\"");
    }
    for (char** n = names; n != nullptr && *n != nullptr; n++) {
      const std::string key = *n;
      if (key.empty() || key.back() == '/' || key.rfind(prefix, 0) != 0) continue;
      VSIStatBufL st;
      if (VSIStatL((base + "/" + key).c_str(), &st) == 0 && VSI_ISREG(st.st_mode))
        out.push_back({key, static_cast<uint64_t>(st.st_size)});
    }
    CSLDestroy(names);
    std::sort(out.begin(), out.end(),
              [](const StoreEntry& a, const StoreEntry& b) { return a.key < b.key; });
    return out;
  }
  bool remove(const std::string& key) override {
    if (!size_of(key)) return false;
    VSIErrorReset();
    const std::string path = gdal_path(key);
    if (VSIUnlink(path.c_str()) != 0) throw failure("cannot remove \"" + uri(key) + "\"");
    VSICurlPartialClearCache(path.c_str());
    return true;
  }
  std::string gdal_path(const std::string& key) const override {
    check_store_key(key);
    return root() + "/" + key;
  }
  std::string uri(const std::string& key) const override {
    return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_) + "/" + key;
  }
  std::string staging_dir() const override { return staging_; }
  void adopt(const std::string& staged_file, const std::string& key,
             const CancelToken& cancel) override {
    put(staged_file, key, cancel);
    const std::string copy = local_copy(key);
    make_dirs(parent_of(copy));
    if (move_file(staged_file, copy) != 0) unlink(staged_file.c_str());
  }
  std::string local_copy(const std::string& key) const override {
    check_store_key(key);
    return staging_.substr(0, staging_.rfind('/')) + "/.cache/" + key;
  }

 private:
  std::string root() const { return "/vsis3/" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_); }
  Error failure(const std::string& what) const {
    return Error(ErrorKind::io_error, what, scrub_secrets(VSIGetLastErrorMsg(), gdal_),
                 "Check geoetl.s3_endpoint, the bucket and the store's credentials.");
  }
  std::string bucket_, prefix_, staging_;
  GdalSettings gdal_;
};

}  // namespace

std::unique_ptr<Store> open_store(const std::string& setting, const std::string& default_dir,
                                  const GdalSettings& gdal) {
  if (setting.empty()) return std::make_unique<LocalStore>(default_dir);
  if (setting.rfind("s3://", 0) == 0) {
    std::string rest = setting.substr(5);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    const size_t slash = rest.find('/');
    const std::string bucket = rest.substr(0, slash);
    const std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (bucket.empty() ||
        bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
      throw Error(ErrorKind::invalid_argument, "invalid geoetl.store \"" + setting + "\"",
                  "the bucket name", "Use s3://bucket or s3://bucket/prefix.");
    if (!prefix.empty()) check_store_key(prefix);
    return std::make_unique<S3Store>(bucket, prefix, default_dir + "/.staging", gdal);
  }
  if (setting[0] == '/' && setting.find_first_not_of('/') != std::string::npos) {  // not "/"
    std::string root = setting;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    return std::make_unique<LocalStore>(root);
  }
  throw Error(ErrorKind::invalid_argument, "invalid geoetl.store \"" + setting + "\"", {},
              "Use an absolute folder, or s3://bucket/prefix; empty means a folder in the data "
              "directory.");
}

namespace {
// Whether the process a leftover's name carries still runs (then it may still be writing it).
bool writer_alive(const std::string& name) {
  const long pid = writer_pid(name);
  return pid > 0 && pid <= INT32_MAX && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}
}  // namespace

size_t sweep_leftovers(const std::string& root, int64_t min_age_seconds) {
  size_t removed = 0;
  std::error_code ec;
  if (root.empty() || root == "/" || !fs::is_directory(root, ec)) return 0;
  // at most 50 years: the clock counts nanoseconds in 64 bits from 2174, so far older cutoffs
  // would wrap into the future (and remove everything)
  constexpr int64_t kMaxAge = 50LL * 366 * 24 * 3600;
  const int64_t age = std::clamp<int64_t>(min_age_seconds, 0, kMaxAge);
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(age);
  const std::string staging = root + "/.staging/";
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code fe;
    if (!it->is_regular_file(fe) || fe) continue;
    const std::string path = it->path().string();
    if (path.rfind(staging, 0) != 0 && !is_part_file(it->path().filename().string())) continue;
    const auto modified = it->last_write_time(fe);
    if (fe || modified > cutoff || writer_alive(it->path().filename().string())) continue;
    if (fs::remove(it->path(), fe) && !fe) removed++;
  }
  return removed;
}

namespace {
// A name in the staging folder for a file kept aside by this process.
std::string aside_name(const Store& store) {
  static uint64_t counter = 0;
  return store.staging_dir() + "/undo-" + std::to_string(++counter) + "." +
         std::to_string(getpid());
}

// Keeps the file at `path` under the name `aside` too (a hard link, else a copy); "" when there
// is no such file.
std::string keep_aside(const std::string& path, const std::string& aside) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "";
  if (link(path.c_str(), aside.c_str()) != 0) copy_file_atomically(path, aside, CancelToken());
  return aside;
}

bool is_remote(const Store& store, const std::string& key) {
  return store.gdal_path(key).rfind("/vsi", 0) == 0;
}
}  // namespace

namespace {
// Keeps what `key` holds aside (AdoptUndo), then runs `change` on the store; on failure nothing
// stays aside and the change is not made.
AdoptUndo change_undoable(Store& store, const std::string& key, const CancelToken& cancel,
                          const std::function<void(const AdoptUndo&)>& change) {
  make_dirs(store.staging_dir());
  AdoptUndo undo;
  undo.key = key;
  try {
    if (!is_remote(store, key)) {
      undo.previous = keep_aside(store.gdal_path(key), aside_name(store));
    } else {
      if (store.size_of(key)) {
        undo.previous = aside_name(store);
        store.get(key, undo.previous, cancel);
      }
      undo.previous_copy = keep_aside(store.local_copy(key), aside_name(store));
    }
    change(undo);
  } catch (...) {
    forget_adopt(undo);
    throw;
  }
  return undo;
}
}  // namespace

AdoptUndo adopt_undoable(Store& store, const std::string& staged_file, const std::string& key,
                         const CancelToken& cancel) {
  return change_undoable(store, key, cancel,
                         [&](const AdoptUndo&) { store.adopt(staged_file, key, cancel); });
}

AdoptUndo remove_undoable(Store& store, const std::string& key, const CancelToken& cancel) {
  return change_undoable(store, key, cancel, [&](const AdoptUndo& undo) {
    if (!undo.previous.empty()) store.remove(key);
    if (!undo.previous_copy.empty()) unlink(store.local_copy(key).c_str());
  });
}

void undo_adopt(Store& store, const AdoptUndo& undo) {
  if (!is_remote(store, undo.key)) {
    const std::string path = store.gdal_path(undo.key);
    if (undo.previous.empty()) {
      store.remove(undo.key);
      fsync_folder_of(path);
    } else if (const int failed = move_file(undo.previous, path); failed != 0) {
      throw Error(ErrorKind::io_error, "cannot put \"" + undo.key + "\" back in the store",
                  std::strerror(failed));
    }
    return;
  }
  if (undo.previous.empty()) {
    store.remove(undo.key);
  } else {
    store.put(undo.previous, undo.key, CancelToken());
    unlink(undo.previous.c_str());
  }
  const std::string copy = store.local_copy(undo.key);
  if (undo.previous_copy.empty())
    unlink(copy.c_str());
  else
    move_file(undo.previous_copy, copy);
}

void forget_adopt(const AdoptUndo& undo) noexcept {
  if (!undo.previous.empty()) unlink(undo.previous.c_str());
  if (!undo.previous_copy.empty()) unlink(undo.previous_copy.c_str());
}

std::string store_sha256(Store& store, const std::string& key, const CancelToken& cancel) {
  const std::string path = store.gdal_path(key);
  if (path.rfind("/vsi", 0) != 0) return sha256_file(path);
  make_dirs(store.staging_dir());
  const std::string copy = store.staging_dir() + "/sha256." + std::to_string(getpid());
  store.get(key, copy, cancel);
  try {
    const std::string hash = sha256_file(copy);
    unlink(copy.c_str());
    return hash;
  } catch (...) {
    unlink(copy.c_str());
    throw;
  }
}

}  // namespace geoetl
