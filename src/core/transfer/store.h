// Where geoetl keeps the files it fetches and produces: a local folder (the default) or an
// S3-compatible bucket (s3://bucket/prefix, through GDAL's /vsis3/, so GDAL reads objects in
// place). Keys are relative paths ("blackmarble/VNP46A2/2024/032/h21v08.h5"). An object
// appears whole or not at all: a local put writes a temporary file and renames it; an S3 put
// is one upload that the server completes or drops. Error messages never hold the S3 keys.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "gdal/gdal_env.h"

namespace geoetl {

struct StoreEntry {
  std::string key;
  uint64_t size = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Copies a local file to `key` (replacing what was there).
  virtual void put(const std::string& local_file, const std::string& key,
                   const CancelToken& cancel) = 0;
  // Copies `key` to a local file (written whole, or not at all).
  virtual void get(const std::string& key, const std::string& local_file,
                   const CancelToken& cancel) = 0;
  // The object's size, or nothing when there is no such object.
  virtual std::optional<uint64_t> size_of(const std::string& key) = 0;
  // Objects whose keys start with `prefix` (a folder: "a/b/"), sorted by key.
  virtual std::vector<StoreEntry> list(const std::string& prefix) = 0;
  // Removes the object; true if it was there.
  virtual bool remove(const std::string& key) = 0;
  // What GDAL opens to read the object in place (a path, or /vsis3/bucket/prefix/key).
  virtual std::string gdal_path(const std::string& key) const = 0;
  // How catalog rows name it: the local path, or s3://bucket/prefix/key.
  virtual std::string uri(const std::string& key) const = 0;
  // A local folder for files on their way into the store: the store's own folder when it is
  // local (so a put is a rename), else a temporary folder.
  virtual std::string staging_dir() const = 0;
  // Moves a local file from staging_dir() to `key`: a rename for a local store; else a put, the
  // file then kept as the object's local copy (local_copy()).
  virtual void adopt(const std::string& staged_file, const std::string& key,
                     const CancelToken& cancel) = 0;
  // A local file with the object's bytes, for readers that need one (GDAL 3.6 reads HDF5 only
  // from local files): the object itself when the store is local, else the copy adopt() kept.
  virtual std::string local_copy(const std::string& key) const = 0;
};

// Removes what writers that died (a crashed or killed backend) left in a store's local folder
// `root`: the files in its .staging folder, and unfinished copies ("<name>.part-XXXXXX") anywhere
// below it, when not modified for `min_age_seconds` and not written by a process that still
// runs (their names carry the writer's pid: "<name>.<pid>[.part-XXXXXX]"). Objects and anything
// else stay. Returns how many files it removed.
size_t sweep_leftovers(const std::string& root, int64_t min_age_seconds);

// What an adopt() replaced, kept aside until the change is kept (forget_adopt) or taken back
// (undo_adopt): a transaction that fails after a download leaves the store as it found it.
struct AdoptUndo {
  std::string key;
  std::string previous;       // a local file with the replaced object's bytes; "" if none
  std::string previous_copy;  // the same for an S3 store's local copy (local_copy())
};

// Store::adopt(), keeping what `key` held before beside the store's staging folder (hard links
// where the store is local; names ending in ".<pid>", so store_sweep leaves them while this
// process lives).
AdoptUndo adopt_undoable(Store& store, const std::string& staged_file, const std::string& key,
                         const CancelToken& cancel);

// Store::remove(), keeping what `key` held beside the store's staging folder, so that
// undo_adopt() puts it back (nothing kept, and nothing done, when there is no such object).
AdoptUndo remove_undoable(Store& store, const std::string& key, const CancelToken& cancel);

// Puts back what adopt_undoable() replaced, or removes the object when it was new.
void undo_adopt(Store& store, const AdoptUndo& undo);

// Removes the files kept aside (the change stays).
void forget_adopt(const AdoptUndo& undo) noexcept;

// SHA-256 of an object (lower-case hex): read in place when local, else through staging_dir().
std::string store_sha256(Store& store, const std::string& key, const CancelToken& cancel);

// Whether `key` is a relative path of plain names (letters, digits, . _ - and /; no "..", no
// empty or hidden parts).
bool is_store_key(const std::string& key);

// Throws Error(invalid_argument) unless is_store_key(key).
void check_store_key(const std::string& key);

// `setting` is geoetl.store: "" (then `default_dir`), an absolute folder, or s3://bucket[/prefix].
// Throws Error(invalid_argument) for anything else.
std::unique_ptr<Store> open_store(const std::string& setting, const std::string& default_dir,
                                  const GdalSettings& gdal);

}  // namespace geoetl
