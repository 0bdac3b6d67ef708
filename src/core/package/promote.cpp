#include "package/promote.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "base/error.h"
#include "transfer/download.h"
#include "transfer/store_fetch.h"

namespace geoetl {

PublishedFile promote_file(Store& store, const std::string& from, const std::string& to,
                           const std::string& expected, const CancelToken& cancel) {
  check_store_key(from);
  const std::optional<uint64_t> size = store.size_of(from);
  if (!size)
    throw Error(ErrorKind::not_found, "the staged file \"" + from + "\" is not in the store", "",
                "Something removed it after its job ran: run the package again.");
  return publish_file(
      store, to,
      [&](const std::string& path) -> int64_t {
        // a hard link where the store is local (no bytes copied), else a copy
        const std::string object = store.gdal_path(from);
        if (object.rfind("/vsi", 0) == 0 || link(object.c_str(), path.c_str()) != 0)
          store.get(from, path, cancel);
        const std::string hash = sha256_file(path);
        if (hash != expected)
          throw Error(ErrorKind::data_corrupted,
                      "the staged file \"" + from + "\" changed after its job wrote it",
                      "Its SHA-256 is " + hash + ", its job recorded " + expected + ".",
                      "Run the package again.");
        return static_cast<int64_t>(*size);
      },
      cancel);
}

PublishedFile publish_text(Store& store, const std::string& key, const std::string& text,
                           const CancelToken& cancel) {
  return publish_file(
      store, key,
      [&](const std::string& path) -> int64_t {
        const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
          throw Error(ErrorKind::io_error, "cannot create \"" + path + "\"", std::strerror(errno));
        size_t done = 0;
        while (done < text.size()) {
          const ssize_t n = write(fd, text.data() + done, text.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            const int failed = errno;
            close(fd);
            throw Error(ErrorKind::io_error, "cannot write \"" + path + "\"",
                        std::strerror(failed));
          }
          done += static_cast<size_t>(n);
        }
        if (fsync(fd) != 0 || close(fd) != 0)
          throw Error(ErrorKind::io_error, "cannot write \"" + path + "\"", std::strerror(errno));
        return static_cast<int64_t>(text.size());
      },
      cancel);
}

}  // namespace geoetl
