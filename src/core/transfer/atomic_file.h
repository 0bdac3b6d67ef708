// Writing a file so that it appears whole or not at all, the one place geoetl writes a temporary
// file and renames it: the bytes go to an unfinished copy beside the destination
// ("<dest>.<pid>.part-XXXXXX"), which is flushed to disk and renamed over the destination only
// when complete; the folder is flushed too, so that the rename survives a crash. A failure
// (an error, a cancellation, a short write, a full disk) removes the unfinished copy and leaves
// the destination as it was. The names of unfinished copies are made and read here only.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "base/cancel.h"

namespace geoetl {

class AtomicFile {
 public:
  // Creates the unfinished copy of `dest` (its folder must exist). Throws Error(io_error)
  // "cannot create a file beside ...".
  explicit AtomicFile(std::string dest);
  // Removes the unfinished copy unless commit() renamed it.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends all `size` bytes, writing again after an interruption (EINTR) or a short write.
  // Returns 0, or the errno that stopped it (ENOSPC when the disk took nothing); never throws.
  int append(const char* data, size_t size) noexcept;
  // append(), throwing Error(io_error) "cannot write ..." when it fails.
  void write(const char* data, size_t size);
  // Empties the unfinished copy (a retried download starts again). Returns 0 or the errno.
  int restart() noexcept;
  // Flushes the unfinished copy to disk, renames it to the destination and flushes the folder.
  // Throws Error(io_error); the copy is removed then, and the destination left as it was.
  void commit();

  const std::string& dest() const { return dest_; }
  const std::string& path() const { return path_; }  // the unfinished copy

 private:
  std::string dest_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Fills `dest` whole or not at all from `read`, which puts up to `size` bytes at `buffer` and
// returns how many (0 at the end) or throws. A cancellation (checked between reads) throws
// Error(cancelled); the destination is then left as it was.
void write_file_atomically(const std::string& dest,
                           const std::function<size_t(char* buffer, size_t size)>& read,
                           const CancelToken& cancel);

// Renames the finished file `from` to `to` (on the same file system) and flushes the folder of
// `to`. Returns 0, or the errno of the rename (nothing moved then).
int move_file(const std::string& from, const std::string& to) noexcept;

// Flushes the folder that holds `path` (best effort), so that a rename or a removal in it
// survives a crash.
void fsync_folder_of(const std::string& path) noexcept;

// The mkstemp() template of an unfinished copy of `dest`: "<dest>.<pid>.part-XXXXXX" (the pid
// left out when dest already ends in ".<pid>"), so that store_sweep can tell whether its writer
// still runs.
std::string part_file_template(const std::string& dest);

// Whether a file name is an unfinished copy's, as mkstemp() leaves it ("<name>.part-XXXXXX").
bool is_part_file(const std::string& file_name);

// Whether a name holds the marker of unfinished copies (".part-"): such names are never objects.
bool has_part_marker(const std::string& name);

// The marker itself, for messages.
const char* part_marker();

// The process id an unfinished or staged file's name carries ("<name>.<pid>", or
// "<name>.<pid>.part-XXXXXX"); 0 when it carries none.
long writer_pid(const std::string& file_name);

}  // namespace geoetl
