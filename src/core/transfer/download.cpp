#include "transfer/download.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "transfer/atomic_file.h"

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

// The download's sink: the body goes to an unfinished copy of the destination, hashed on its
// way; kept only when complete and checked.
class PartFile : public HttpSink {
 public:
  explicit PartFile(const std::string& dest) : file_(dest) {}

  void begin() override {  // a retry starts again
    const int failed = file_.restart();
    if (failed != 0) failed_ = failed;
    digest_ = std::make_unique<Sha256>();
    bytes_ = 0;
    head_.clear();
  }
  bool write(const char* data, size_t size) override {
    if (head_.size() < 1024) head_.append(data, std::min(size, 1024 - head_.size()));
    digest_->update(data, size);
    bytes_ += size;
    const int failed = file_.append(data, size);
    if (failed != 0) failed_ = failed;
    return failed == 0;
  }
  // Flushes it to disk and renames it to the destination.
  void keep() { file_.commit(); }
  int failed() const { return failed_; }
  uint64_t bytes() const { return bytes_; }
  const std::string& head() const { return head_; }
  std::string sha256() { return digest_->hex(); }

 private:
  AtomicFile file_;
  int failed_ = 0;
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
    case FileKind::xml: return "XML";
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
  if (expected == FileKind::xml) {
    // an API's error or maintenance page: a broken answer, not a login (401/403 say that)
    if (html) return "an HTML page came instead of XML";
    // after an optional UTF-8 byte order mark
    const size_t bom = text.rfind("\xef\xbb\xbf", 0) == 0 ? 3 : 0;
    if (text.size() <= bom || text[bom] != '<') return "the response is not XML";
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
  part.keep();
  return d;
}

std::string sha256_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw Error(ErrorKind::io_error, "cannot read \"" + path + "\": " + std::strerror(errno));
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
