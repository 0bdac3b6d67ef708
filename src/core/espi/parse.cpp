// parse_espi_file: the first pass indexes and checks the whole file, the second delivers readings.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "espi/espi.h"
#include "espi/feed_index.h"
#include "espi/feed_scan.h"

namespace geoetl {
namespace {

// 10^0 .. 10^18, exact in a double.
constexpr double powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

// v x 10^p, correctly rounded for |p| <= 18 (dividing by 10^3 gives 72.609 for 72609, where
// multiplying by 1e-3 gives 72.60900000000001).
double scale(double v, int p) {
  return p >= 0 ? v * powers_of_ten[p] : v / powers_of_ten[-p];
}

// The second pass: each IntervalBlock entry's readings, completed from its MeterReading's target.
class ReadingEmitter : public espi::FeedVisitor {
 public:
  ReadingEmitter(const espi::FeedIndex& index, const std::function<void(const EspiReading&)>& out)
      : index_(index), out_(out) {}

  void entry_begin(uint32_t ordinal) override {
    target_ = index_.target_of(ordinal);
    if (target_ != nullptr) {
      reading_ = target_->base;
      reading_.updated = index_.updated_of(ordinal);
    }
  }
  void reading(const espi::RawReading& r) override {
    if (target_ == nullptr) {  // the first pass saw no readings in this entry
      delivered_ = -1;
      return;
    }
    reading_.start = r.start;
    reading_.duration = r.duration;
    reading_.value = scale(r.value, target_->power_of_ten);
    reading_.cost.reset();
    if (r.cost) reading_.cost = *r.cost / 100000.0;
    reading_.quality = r.quality ? r.quality : target_->default_quality;
    if (delivered_ >= 0) delivered_++;
    out_(reading_);
  }
  int64_t delivered() const { return delivered_; }  // -1: readings the first pass did not see

 private:
  const espi::FeedIndex& index_;
  const std::function<void(const EspiReading&)>& out_;
  const espi::ReadingTarget* target_ = nullptr;
  EspiReading reading_;
  int64_t delivered_ = 0;
};

class FileDescriptor {
 public:
  explicit FileDescriptor(const std::string& path) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw Error(errno == ENOENT ? ErrorKind::not_found : ErrorKind::io_error,
                  "cannot open ESPI file \"" + path + "\"", std::strerror(errno));
    struct stat st;
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd_);
      throw Error(ErrorKind::invalid_argument, "ESPI file \"" + path + "\" is not a regular file");
    }
  }
  ~FileDescriptor() { close(fd_); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

EspiSummary parse_espi_file(const std::string& path,
                            const std::function<void(const EspiReading&)>& on_reading,
                            const CancelToken& cancel,
                            const std::function<void(const EspiSummary&)>& on_checked) {
  if (path.empty()) throw Error(ErrorKind::invalid_argument, "the ESPI file's path is empty");
  // One descriptor for both passes: a file renamed over this one in between is not read.
  const FileDescriptor file(path);
  espi::FeedIndex index(path);
  const uint32_t entries = espi::scan_feed(file.fd(), path, index, cancel);
  EspiSummary summary = index.resolve(entries);
  if (on_checked) on_checked(summary);
  if (!on_reading) return summary;

  ReadingEmitter emitter(index, on_reading);
  if (espi::scan_feed(file.fd(), path, emitter, cancel) != entries ||
      emitter.delivered() != summary.readings)
    throw Error(ErrorKind::data_corrupted,
                "ESPI file \"" + path + "\" changed while it was being read",
                "its second reading differs from its first", "discard the readings it delivered");
  return summary;
}

}  // namespace geoetl
