#include "raster/hdf5_audit.h"

#include <hdf5.h>

#include <string>

#include "base/error.h"

namespace geoetl {
namespace {

// Closes an HDF5 identifier of any kind.
struct Id {
  hid_t id;
  explicit Id(hid_t h) : id(h) {}
  ~Id() {
    if (id >= 0) H5Oclose(id);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
};

// libhdf5 prints its error stack to stderr by default: silenced while we look.
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

struct Finding {
  std::string what;  // "" while nothing was found
};

// Why the dataset `name` (below `group`) refers to another file, or "".
std::string dataset_reference(hid_t group, const char* name) {
  Id obj(H5Oopen(group, name, H5P_DEFAULT));
  if (obj.id < 0 || H5Iget_type(obj.id) != H5I_DATASET) return {};
  const hid_t plist = H5Dget_create_plist(obj.id);
  if (plist < 0) return {};
  std::string why;
  if (H5Pget_external_count(plist) > 0)
    why = "its raw data is stored in external files";
  else if (H5Pget_layout(plist) == H5D_VIRTUAL)
    why = "it is a virtual dataset mapped from other files";
  H5Pclose(plist);
  return why;
}

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto* found = static_cast<Finding*>(data);
  if (info->type == H5L_TYPE_EXTERNAL || info->type >= H5L_TYPE_UD_MIN) {
    found->what = "link \"" + std::string(name) + "\" points into another file";
    return 1;  // stop
  }
  if (info->type != H5L_TYPE_HARD) return 0;
  const std::string why = dataset_reference(group, name);
  if (why.empty()) return 0;
  found->what = "dataset \"" + std::string(name) + "\": " + why;
  return 1;
}

}  // namespace

void check_hdf5_self_contained(const std::string& path, const std::string& shown) {
  QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) return;  // not HDF5 (or unreadable: GDAL will say)
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return;
  Finding found;
  const herr_t rc = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit_link, &found);
  H5Fclose(file);
  if (!found.what.empty())
    throw Error(ErrorKind::permission_denied,
                "HDF5 file \"" + shown + "\" refers to other files, which geoetl does not read",
                found.what + ".",
                "Rewrite the file with its data inside it, e.g. with h5repack or "
                "gdal_translate.");
  if (rc < 0)
    throw Error(ErrorKind::data_corrupted,
                "cannot read the structure of HDF5 file \"" + shown + "\"", {},
                "The file may be truncated or damaged.");
}

}  // namespace geoetl
