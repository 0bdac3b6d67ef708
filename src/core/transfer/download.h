// Downloading a file so that nothing broken ever looks like data: the body streams to a
// temporary file beside the destination (an AtomicFile), is checked (complete, the expected kind
// of file, not a login page), hashed (SHA-256), flushed to disk and only then renamed into place.
// Any failure, cancellation included, removes the temporary file.
#pragma once

#include <cstdint>
#include <string>

#include "base/cancel.h"
#include "transfer/http.h"

namespace geoetl {

enum class FileKind { any, hdf5, tiff, json, xml };

struct Downloaded {
  std::string path;  // the destination
  uint64_t bytes = 0;
  std::string sha256;  // lower-case hex
  int attempts = 0;
};

// What a body's first bytes say it is; "" when it is that kind, else the reason it is not.
// HTML, or a body of fewer than 64 bytes where a binary file is expected, reads as a login or
// licence page.
std::string check_file_kind(const std::string& head, uint64_t size, FileKind expected);

// Downloads url to dest (its folder must exist). Throws Error: permission_denied (401/403, or
// an HTML or tiny body: "authentication failed or licence not accepted"), not_found (404, 410),
// network_error (other statuses, transport failures after the retries), data_corrupted (wrong
// kind of file, fewer bytes than announced), io_error (cannot write), cancelled; and those of
// http_get.
Downloaded download_file(const std::string& url, const std::string& dest, FileKind expected,
                         const HttpOptions& options, const CancelToken& cancel);

// SHA-256 of a file, lower-case hex. Throws Error(io_error).
std::string sha256_file(const std::string& path);

}  // namespace geoetl
