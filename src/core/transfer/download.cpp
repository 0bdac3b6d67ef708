#include "transfer/download.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.h"

namespace geoetl {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw Error(ErrorKind::internal, "SHA-256 is not available");
  }
  void update(const char* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; i++) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
};

std::string system_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The temporary file: written, hashed, and removed unless kept.
class PartFile : public HttpSink {
 public:
  explicit PartFile(const std::string& dest) : path_(part_file_template(dest)) {
    fd_ = mkstemp(path_.data());
    if (fd_ < 0)
      throw Error(ErrorKind::io_error,
                  system_error("cannot create a file beside \"" + dest + "\""));
  }
  ~PartFile() override {
    if (fd_ >= 0) close(fd_);
    if (!kept_) unlink(path_.c_str());
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  void begin() override {  // a retry starts again
    if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) failed_ = errno;
    digest_ = std::make_unique<Sha256>();
    bytes_ = 0;
    head_.clear();
  }
  bool write(const char* data, size_t size) override {
    if (head_.size() < 1024) head_.append(data, std::min(size, 1024 - head_.size()));
    digest_->update(data, size);
    bytes_ += size;
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed_ = n < 0 ? errno : ENOSPC;
        return false;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  // Flushes it to disk and renames it to dest.
  void keep(const std::string& dest) {
    if (fsync(fd_) != 0)
      throw Error(ErrorKind::io_error, system_error("cannot write \"" + dest + "\""));
    close(fd_);
    fd_ = -1;
    if (rename(path_.c_str(), dest.c_str()) != 0) {
      if (errno == ENOENT)  // someone removed it while it was written
        throw Error(ErrorKind::io_error,
                    "the unfinished download \"" + path_ + "\" was removed while it was written",
                    {}, "Nothing may remove a store's files while they are written; retry.");
      throw Error(ErrorKind::io_error,
                  system_error("cannot move the download to \"" + dest + "\""));
    }
    kept_ = true;
    const std::string dir = dest.substr(0, dest.find_last_of('/') + 1);
    const int d = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (d >= 0) {  // the rename itself survives a crash
      fsync(d);
      close(d);
    }
  }
  int failed() const { return failed_; }
  uint64_t bytes() const { return bytes_; }
  const std::string& head() const { return head_; }
  std::string sha256() { return digest_->hex(); }

 private:
  std::string path_;
  int fd_ = -1;
  int failed_ = 0;
  bool kept_ = false;
  uint64_t bytes_ = 0;
  std::string head_;
  std::unique_ptr<Sha256> digest_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const char* kind_name(FileKind k) {
  switch (k) {
    case FileKind::hdf5: return "an HDF5 file";
    case FileKind::tiff: return "a TIFF";
    case FileKind::json: return "JSON";
    default: return "a file";
  }
}

const char* const login_page = "authentication failed or licence not accepted";

}  // namespace

std::string check_file_kind(const std::string& head, uint64_t size, FileKind expected) {
  const size_t start = head.find_first_not_of(" \t\r\n");
  const std::string text =
      lower(head.substr(start == std::string::npos ? head.size() : start, 512));
  const bool html = text.rfind("<!doctype html", 0) == 0 || text.rfind("<html", 0) == 0 ||
                    (text.rfind("<", 0) == 0 && text.find("<body") != std::string::npos);
  if (expected == FileKind::json) {
    if (html) return std::string(login_page) + ": an HTML page came instead of JSON";
    if (text.empty() || (text[0] != '{' && text[0] != '[')) return "the response is not JSON";
    return "";
  }
  if (expected == FileKind::any) return "";
  if (html)
    return std::string(login_page) + ": an HTML page came instead of " + kind_name(expected);
  if (size < 64)
    return std::string(login_page) + ": " + std::to_string(size) + " bytes came instead of " +
           kind_name(expected);
  if (expected == FileKind::hdf5 && head.compare(0, 8, "\x89HDF\r\n\x1a\n") != 0)
    return "the file is not HDF5 (its first bytes are not the HDF5 signature)";
  if (expected == FileKind::tiff && head.compare(0, 4, "II*\0", 4) != 0 &&
      head.compare(0, 4, "MM\0*", 4) != 0 && head.compare(0, 4, "II+\0", 4) != 0 &&
      head.compare(0, 4, "MM\0+", 4) != 0)
    return "the file is not a TIFF (its first bytes are not a TIFF header)";
  return "";
}

Downloaded download_file(const std::string& url, const std::string& dest, FileKind expected,
                         const HttpOptions& options, const CancelToken& cancel) {
  PartFile part(dest);
  const HttpResponse r = [&] {
    try {
      return http_get(url, options, &part, cancel);
    } catch (const Error& e) {
      if (part.failed() != 0)
        throw Error(ErrorKind::io_error, "cannot write \"" + dest + "\"",
                    std::strerror(part.failed()), "Is the store's disk full or read-only?");
      throw;
    }
  }();
  const std::string status = std::to_string(r.status);
  if (r.status == 401 || r.status == 403)
    throw Error(ErrorKind::permission_denied, std::string(login_page) + " for \"" + url + "\"",
                "the server answered " + status,
                "Check the token or credentials, and that the data's licence was accepted.");
  if (r.status == 404 || r.status == 410)
    throw Error(ErrorKind::not_found, "\"" + url + "\" does not exist",
                "the server answered " + status);
  if (r.status != 200)
    throw Error(
        ErrorKind::network_error, "cannot download \"" + url + "\"",
        "the server answered " + status + " after " + std::to_string(r.attempts) + " attempt(s)");
  if (r.content_length >= 0 && static_cast<uint64_t>(r.content_length) != part.bytes())
    throw Error(
        ErrorKind::data_corrupted, "the download of \"" + url + "\" is incomplete",
        std::to_string(part.bytes()) + " of " + std::to_string(r.content_length) + " bytes");
  const std::string wrong = check_file_kind(part.head(), part.bytes(), expected);
  if (!wrong.empty())
    throw Error(
        wrong.rfind(login_page, 0) == 0 ? ErrorKind::permission_denied : ErrorKind::data_corrupted,
        wrong, "from \"" + url + "\"");
  Downloaded d;
  d.path = dest;
  d.bytes = part.bytes();
  d.sha256 = part.sha256();
  d.attempts = r.attempts;
  part.keep(dest);
  return d;
}

std::string part_file_template(const std::string& dest) {
  const std::string pid = "." + std::to_string(getpid());
  const bool has_pid =
      dest.size() > pid.size() && dest.compare(dest.size() - pid.size(), pid.size(), pid) == 0;
  return dest + (has_pid ? "" : pid) + ".part-XXXXXX";
}

long writer_pid(const std::string& file_name) {
  std::string name = file_name;
  const size_t part = name.rfind(".part-");
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

std::string sha256_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(ErrorKind::io_error, system_error("cannot read \"" + path + "\""));
  Sha256 digest;
  std::string buf(1 << 16, '\0');
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0)
    digest.update(buf.data(), static_cast<size_t>(n));
  const int err = errno;
  close(fd);
  if (n < 0) throw Error(ErrorKind::io_error, "cannot read \"" + path + "\"", std::strerror(err));
  return digest.hex();
}

}  // namespace geoetl
