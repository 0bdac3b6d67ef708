#include "transfer/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"

namespace geoetl {
namespace {

const char kPartMarker[] = ".part-";
const size_t kPartMarkerSize = sizeof kPartMarker - 1;
const size_t kUniqueSize = 6;  // mkstemp's XXXXXX

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

const char* const kFullDiskHint = "Is the disk full or read-only?";

}  // namespace

AtomicFile::AtomicFile(std::string dest)
    : dest_(std::move(dest)), path_(part_file_template(dest_)) {
  fd_ = mkstemp(path_.data());
  if (fd_ < 0)
    throw Error(ErrorKind::io_error,
                "cannot create a file beside \"" + dest_ + "\": " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(path_.c_str());
}

int AtomicFile::append(const char* data, size_t size) noexcept {
  if (fd_ < 0) return EBADF;
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    data += n;  // a short write: the rest goes in the next one
    size -= static_cast<size_t>(n);
  }
  return 0;
}

void AtomicFile::write(const char* data, size_t size) {
  const int failed = append(data, size);
  if (failed != 0)
    throw Error(ErrorKind::io_error, "cannot write \"" + dest_ + "\"", std::strerror(failed),
                kFullDiskHint);
}

int AtomicFile::restart() noexcept {
  if (fd_ < 0) return EBADF;
  if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) return errno;
  return 0;
}

void AtomicFile::commit() {
  if (fd_ < 0 || committed_)
    throw Error(ErrorKind::internal, "\"" + dest_ + "\" was already committed");
  const bool flushed = fsync(fd_) == 0;
  const int flush_error = errno;
  close(fd_);
  fd_ = -1;
  if (!flushed)
    throw Error(ErrorKind::io_error, "cannot write \"" + dest_ + "\"", std::strerror(flush_error),
                kFullDiskHint);
  if (rename(path_.c_str(), dest_.c_str()) != 0) {
    if (errno == ENOENT)  // someone removed it while it was written
      throw Error(ErrorKind::io_error,
                  "the unfinished copy \"" + path_ + "\" was removed while it was written", {},
                  "Nothing may remove a store's files while they are written; retry.");
    throw Error(ErrorKind::io_error, "cannot move a finished copy to \"" + dest_ + "\"",
                std::strerror(errno));
  }
  committed_ = true;
  fsync_folder_of(dest_);  // the rename itself survives a crash
}

void write_file_atomically(const std::string& dest,
                           const std::function<size_t(char* buffer, size_t size)>& read,
                           const CancelToken& cancel) {
  AtomicFile file(dest);
  std::string buffer(1 << 20, '\0');
  for (;;) {
    cancel.check();
    const size_t n = read(buffer.data(), buffer.size());
    if (n == 0) break;
    file.write(buffer.data(), std::min(n, buffer.size()));
  }
  cancel.check();
  file.commit();
}

int move_file(const std::string& from, const std::string& to) noexcept {
  if (rename(from.c_str(), to.c_str()) != 0) return errno;
  fsync_folder_of(to);
  return 0;
}

// Best effort: a folder that cannot be flushed still holds the change, unless the machine
// crashes before the file system writes it on its own.
void fsync_folder_of(const std::string& path) noexcept {
  const int d = open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
}

std::string part_file_template(const std::string& dest) {
  const std::string pid = "." + std::to_string(getpid());
  const bool has_pid =
      dest.size() > pid.size() && dest.compare(dest.size() - pid.size(), pid.size(), pid) == 0;
  return dest + (has_pid ? "" : pid) + kPartMarker + std::string(kUniqueSize, 'X');
}

bool is_part_file(const std::string& file_name) {
  const size_t at = file_name.rfind(kPartMarker);
  if (at == std::string::npos || at == 0 || file_name.size() != at + kPartMarkerSize + kUniqueSize)
    return false;
  return std::all_of(file_name.begin() + static_cast<long>(at + kPartMarkerSize), file_name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

bool has_part_marker(const std::string& name) {
  return name.find(kPartMarker) != std::string::npos;
}

const char* part_marker() {
  return kPartMarker;
}

long writer_pid(const std::string& file_name) {
  std::string name = file_name;
  const size_t part = name.rfind(kPartMarker);
  if (part != std::string::npos) name.resize(part);
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size() || name.size() - dot > 11) return 0;
  long pid = 0;
  for (size_t i = dot + 1; i < name.size(); i++) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace geoetl
