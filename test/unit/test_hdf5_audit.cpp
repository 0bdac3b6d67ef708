#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <string>

#include "base/error.h"
#include "raster/hdf5_audit.h"
#include "raster/raster.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

// An HDF5 file with one 16x16 uint8 dataset "data" (in a group "g"); `dcpl` shapes its storage.
void write_h5(const std::string& path, hid_t dcpl = H5P_DEFAULT) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {16, 16};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t d = H5Dcreate2(g, "data", H5T_NATIVE_UINT8, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dcpl == H5P_DEFAULT) {
    unsigned char values[256];
    for (int i = 0; i < 256; i++) values[i] = static_cast<unsigned char>(i);
    H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  }
  H5Dclose(d);
  H5Sclose(space);
  H5Gclose(g);
  H5Fclose(f);
}

std::string refusal(const std::string& path) {
  try {
    check_hdf5_self_contained(path, "f.h5");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::permission_denied);
    return std::string(e.what()) + " | " + e.detail();
  }
  return "no error";
}

class Hdf5Audit : public ::testing::Test {
 protected:
  TempDir dir;
  void SetUp() override { std::ofstream(dir.file("secret.conf")) << std::string(256, 's'); }
};

}  // namespace

TEST_F(Hdf5Audit, ASelfContainedFilePasses) {
  write_h5(dir.file("ok.h5"));
  EXPECT_EQ(refusal(dir.file("ok.h5")), "no error");
  std::ofstream(dir.file("text.h5")) << "not HDF5";
  EXPECT_EQ(refusal(dir.file("text.h5")), "no error");  // GDAL reports what it is not
}

TEST_F(Hdf5Audit, ExternalRawDataIsRefused) {
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_external(dcpl, dir.file("secret.conf").c_str(), 0, 256);
  write_h5(dir.file("ext.h5"), dcpl);
  H5Pclose(dcpl);
  EXPECT_NE(refusal(dir.file("ext.h5")).find("refers to other files"), std::string::npos);
  // and GDAL never opens it, whoever asks
  const std::string name = "HDF5:\"" + dir.file("ext.h5") + "\"://g/data";
  EXPECT_THROW(Raster::open(name, name), Error);
  RasterOpenOptions restricted;
  restricted.restrict_drivers = true;
  EXPECT_THROW(Raster::open(dir.file("ext.h5"), "ext.h5", restricted), Error);
}

TEST_F(Hdf5Audit, ExternalLinksAreRefused) {
  write_h5(dir.file("other.h5"));
  write_h5(dir.file("link.h5"));
  const hid_t f = H5Fopen(dir.file("link.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Lcreate_external(dir.file("other.h5").c_str(), "/g/data", f, "elsewhere", H5P_DEFAULT,
                     H5P_DEFAULT);
  H5Fclose(f);
  EXPECT_NE(refusal(dir.file("link.h5")).find("link \"elsewhere\""), std::string::npos);
}

TEST_F(Hdf5Audit, VirtualDatasetsAreRefused) {
  write_h5(dir.file("source.h5"));
  const hsize_t dims[2] = {16, 16};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_virtual(dcpl, space, dir.file("source.h5").c_str(), "/g/data", space);
  write_h5(dir.file("vds.h5"), dcpl);
  H5Pclose(dcpl);
  H5Sclose(space);
  EXPECT_NE(refusal(dir.file("vds.h5")).find("virtual dataset"), std::string::npos);
}
