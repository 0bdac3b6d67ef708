// An open GDAL dataset that is closed however the scope that holds it ends.
#pragma once

#include <gdal.h>

#include <memory>

namespace geoetl {

struct GdalDatasetCloser {
  void operator()(void* h) const {
    if (h != nullptr) GDALClose(h);
  }
};
using GdalDataset = std::unique_ptr<void, GdalDatasetCloser>;

}  // namespace geoetl
