// HDF5 files that name other files. A dataset's raw data may live in external files
// (H5Pset_external), be mapped from other files (a virtual dataset, H5D_VIRTUAL), or a link may
// point into another file (H5L_TYPE_EXTERNAL). GDAL follows all three wherever they point, so an
// allow-list on the .h5 path alone would let anyone who can place an HDF5 (or netCDF-4) file read
// any file the server can. Checked with libhdf5 before GDAL opens the file.
#pragma once

#include <string>

namespace geoetl {

// Throws Error(permission_denied) when the local file `path` is an HDF5 file that refers to any
// other file (`shown` names it in the error); does nothing for files that are not HDF5.
void check_hdf5_self_contained(const std::string& path, const std::string& shown);

}  // namespace geoetl
