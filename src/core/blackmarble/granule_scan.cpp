#include "blackmarble/granule_scan.h"

#include <cpl_string.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <vector>

#include "base/error.h"
#include "transfer/sources.h"

namespace geoetl {

std::string default_layer(const std::string& product) {
  return product_cadence(product) == Cadence::daily ? "DNB_BRDF-Corrected_NTL"
                                                    : "NearNadir_Composite_Snow_Free";
}

namespace {

// Reads every block of the layer once: a truncated or corrupt file fails here.
void read_all_blocks(const Raster& r, const CancelToken& cancel) {
  const Band band(r, 1);
  const Grid& g = r.grid();
  const int64_t rows = std::max(1, band.block_height());
  std::vector<double> values(static_cast<size_t>(rows * g.width));
  std::vector<uint8_t> valid(values.size());
  for (int64_t row = 0; row < g.height; row += rows) {
    cancel.check();
    const Window w{row, 0, std::min(rows, g.height - row), g.width};
    band.read(w, values.data(), valid.data(), cancel);
  }
}

ScannedFile check(const std::string& uri, const std::string& gdal_path, const std::string& product,
                  const RasterOpenOptions& options, const CancelToken& cancel) {
  ScannedFile f;
  f.uri = uri;
  VSIStatBufL st;
  if (VSIStatL(gdal_path.c_str(), &st) == 0) f.bytes = static_cast<long long>(st.st_size);
  try {
    f.granule = parse_granule_name(uri);
    if (f.granule.product != product)
      throw Error(ErrorKind::invalid_argument, "the file is a " + f.granule.product + " granule");
    const Raster r = open_layer(gdal_path, f.granule, default_layer(product), options);
    if (r.grid().width < 2 || r.grid().width != r.grid().height)
      throw Error(ErrorKind::data_corrupted, "the layer's grid is not a square tile");
    read_all_blocks(r, cancel);
    f.valid = true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::cancelled) throw;
    f.reason = e.what();
    if (!e.detail().empty()) f.reason += ": " + e.detail();
  }
  return f;
}

}  // namespace

std::vector<ScannedFile> scan_granules(const std::string& product, const std::string& location,
                                       const RasterOpenOptions& options, const CancelToken& cancel,
                                       const std::function<bool(const std::string&)>& may_read) {
  default_layer(product);  // validates the product
  const Source src = resolve_source(location);
  std::string dir = src.gdal_path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  ensure_gdal(options.gdal);
  char** names = VSIReadDir(dir.c_str());
  if (names == nullptr) {
    VSIStatBufL st;
    if (VSIStatL(dir.c_str(), &st) != 0)
      throw Error(ErrorKind::not_found, "folder \"" + location + "\" does not exist");
  }
  std::vector<std::string> files;
  for (char** n = names; n != nullptr && *n != nullptr; n++)
    if (std::string(*n).rfind(product + ".", 0) == 0) files.push_back(*n);
  CSLDestroy(names);
  std::sort(files.begin(), files.end());
  std::string base = location;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::vector<ScannedFile> out;
  for (const std::string& name : files) {
    cancel.check();
    const std::string uri = base + "/" + name;
    if (may_read && !may_read(uri)) {
      ScannedFile refused;
      refused.uri = uri;
      refused.reason = "not allowed: outside geoetl.allowed_sources";
      out.push_back(refused);
      continue;
    }
    out.push_back(check(uri, dir + "/" + name, product, options, cancel));
  }
  return out;
}

}  // namespace geoetl
