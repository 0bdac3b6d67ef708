// coverage => 'center' against GDAL's own rasteriser (GDALRasterizeGeometries, what PostGIS
// ST_Clip and rasterstats use), cell by cell, for polygons whose edges run through cell centres.
#include <gdal.h>
#include <gdal_alg.h>
#include <gtest/gtest.h>
#include <ogr_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gdal/gdal_env.h"
#include "polygons.h"
#include "zonal/zonal.h"

using namespace geoetl;

namespace {

// A Black Marble-like grid: 1/240 degree cells, north-up; south-up where a test says so.
const Grid kNorthUp{30.0, 1.0 / 240, 1.0, -1.0 / 240, 96, 96};
const Grid kSouthUp{30.0, 1.0 / 240, 0.6, 1.0 / 240, 96, 96};
Grid kGrid = kNorthUp;

std::string wkt(const MultiPolygon& m) {
  std::string s = "MULTIPOLYGON(";
  char buf[64];
  for (size_t p = 0; p < m.polygons.size(); p++) {
    s += p ? ",(" : "(";
    for (size_t r = 0; r < m.polygons[p].rings.size(); r++) {
      s += r ? ",(" : "(";
      const Ring& ring = m.polygons[p].rings[r];
      for (size_t i = 0; i < ring.size(); i++) {
        std::snprintf(buf, sizeof buf, "%s%.17g %.17g", i ? "," : "", ring[i].x, ring[i].y);
        s += buf;
      }
      s += ")";
    }
    s += ")";
  }
  return s + ")";
}

// The cells GDAL burns for `world` on kGrid, rasterising on the raster PostGIS's ST_Clip
// rasterises on (center_frame: frame.rows x frame.cols of kGrid's cells from (row0, col0), GDAL's
// cell coordinates computed from that raster's geotransform): burnt[row][col] of kGrid.
std::vector<std::vector<int>> gdal_cells(const MultiPolygon& world) {
  ensure_gdal(GdalSettings());
  const CenterFrame frame = center_frame(world, kGrid);
  const int cols = static_cast<int>(frame.cols), rows = static_cast<int>(frame.rows);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("MEM"), "", cols, rows, 1, GDT_Byte, nullptr);
  double gt[6];
  std::copy(frame.gt, frame.gt + 6, gt);
  GDALSetGeoTransform(ds, gt);
  std::string text = wkt(world);
  char* cursor = text.data();
  OGRGeometryH geom = nullptr;
  EXPECT_EQ(OGR_G_CreateFromWkt(&cursor, nullptr, &geom), OGRERR_NONE) << text;
  int band = 1;
  double burn = 1;
  EXPECT_EQ(GDALRasterizeGeometries(ds, 1, &band, 1, &geom, nullptr, nullptr, &burn, nullptr,
                                    nullptr, nullptr),
            CE_None);
  std::vector<std::vector<int>> burnt(kGrid.height, std::vector<int>(kGrid.width));
  std::vector<GByte> row(cols);
  for (int r = 0; r < rows; r++) {
    EXPECT_EQ(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, r, cols, 1, row.data(), cols, 1,
                           GDT_Byte, 0, 0),
              CE_None);
    for (int c = 0; c < cols; c++) {
      const int64_t grid_row = r + frame.row0, grid_col = c + frame.col0;
      if (grid_row < kGrid.height && grid_col < kGrid.width) burnt[grid_row][grid_col] = row[c];
    }
  }
  OGR_G_DestroyGeometry(geom);
  GDALClose(ds);
  return burnt;
}

// The cells geoetl's centre rule takes for `world` on kGrid.
std::vector<std::vector<int>> geoetl_cells(const MultiPolygon& world) {
  const CellCoverage cov = cell_coverage(world, kGrid, Coverage::center);
  std::vector<std::vector<int>> taken(kGrid.height, std::vector<int>(kGrid.width));
  std::vector<double> w(kGrid.width);
  for (int r = 0; r < kGrid.height; r++) {
    cov.row_weights(Coverage::center, r, 0, kGrid.width, w.data());
    for (int c = 0; c < kGrid.width; c++) taken[r][c] = w[c] > 0 ? 1 : 0;
    EXPECT_EQ(cov.center_cells(r, 0, kGrid.width), std::count(taken[r].begin(), taken[r].end(), 1));
  }
  return taken;
}

int count(const std::vector<std::vector<int>>& cells) {
  int n = 0;
  for (const auto& row : cells) n += static_cast<int>(std::count(row.begin(), row.end(), 1));
  return n;
}

// World x of column position k / 2 (k odd: a centre line), and y of row position k / 2.
double wx(int k) {
  return kGrid.x0 + k * (kGrid.dx / 2);
}
double wy(int k) {
  return kGrid.y0 + k * (kGrid.dy / 2);
}

void expect_same_cells(const MultiPolygon& world) {
  const auto want = gdal_cells(world), got = geoetl_cells(world);
  for (int r = 0; r < kGrid.height; r++)
    for (int c = 0; c < kGrid.width; c++)
      EXPECT_EQ(got[r][c], want[r][c]) << "cell (" << r << ", " << c << ") of " << wkt(world);
}

}  // namespace

TEST(CoverageGdal, PixelAlignedAndHalfPixelOffsetRectanglesTakeGdalsCells) {
  for (const bool flip : {false, true})
    for (const int offset : {0, 1}) {  // edges on cell boundaries, or through cell centres
      const Ring r = rect(wx(10 + offset), wy(70 + offset), wx(70 + offset), wy(8 + offset));
      expect_same_cells(mp({flip ? reversed_ring(r) : r}));
    }
}

TEST(CoverageGdal, TheIssuesRectangleWestAndNorthEdgesThroughCentres) {
  // west and north edges through centres, east and south on cell boundaries
  const MultiPolygon m = mp({rect(wx(11), wy(80), wx(72), wy(19))});
  expect_same_cells(m);
  const auto cells = geoetl_cells(m);
  EXPECT_EQ(count(cells), count(gdal_cells(m)));
}

TEST(CoverageGdal, PolygonsSharingAnEdgeThroughCentresShareCellsAsGdalDoes) {
  // split along a column of centres: no cell twice; along a row of centres on a north-up grid
  // GDAL gives that row to both (its bottom-edge rule), on a south-up grid to one
  const Ring whole = rect(wx(5), wy(91), wx(91), wy(5));
  const Ring west = rect(wx(5), wy(91), wx(41), wy(5)), east = rect(wx(41), wy(91), wx(91), wy(5));
  const Ring south = rect(wx(5), wy(91), wx(91), wy(47)),
             north = rect(wx(5), wy(47), wx(91), wy(5));
  const int all = count(geoetl_cells(mp({whole})));
  const int shared_row = 43;  // the columns from centre 2.5 to centre 45.5: [3, 46)
  EXPECT_EQ(count(geoetl_cells(mp({west}))) + count(geoetl_cells(mp({east}))), all);
  EXPECT_EQ(count(geoetl_cells(mp({south}))) + count(geoetl_cells(mp({north}))), all + shared_row);
  for (const Ring& r : {whole, west, east, south, north}) expect_same_cells(mp({r}));
  kGrid = kSouthUp;
  const Ring s_south = rect(wx(5), wy(5), wx(91), wy(47)),
             s_north = rect(wx(5), wy(47), wx(91), wy(91));
  const int s_all = count(geoetl_cells(mp({rect(wx(5), wy(5), wx(91), wy(91))})));
  EXPECT_EQ(count(geoetl_cells(mp({s_south}))) + count(geoetl_cells(mp({s_north}))), s_all);
  for (const Ring& r : {s_south, s_north}) expect_same_cells(mp({r}));
  kGrid = kNorthUp;
}

TEST(CoverageGdal, RandomPolygonsOnTheHalfCellLatticeTakeGdalsCells) {
  for (const Grid& g : {kNorthUp, kSouthUp}) {
    kGrid = g;
    std::mt19937 rng(20261202);
    std::uniform_int_distribution<int> pos(-6, 198);  // some vertices outside the grid
    for (int n = 0; n < 300; n++) {
      Ring ring;
      const int vertices = 3 + n % 7;
      for (int i = 0; i < vertices; i++) {
        // a star around a centre, so that the ring is simple; some vertices off the lattice
        const double angle = 2 * M_PI * i / vertices;
        const int radius = 10 + pos(rng) % 40;
        int kx = 96 + static_cast<int>(std::lround(radius * std::cos(angle)));
        int ky = 96 + static_cast<int>(std::lround(radius * std::sin(angle)));
        if (n % 5 == 0) kx = pos(rng);  // not always a star: any shape GDAL takes
        ring.push_back({wx(kx) + (n % 3 == 2 ? 1e-7 * i : 0), wy(ky)});
      }
      ring.push_back(ring.front());
      expect_same_cells(mp({n % 2 ? reversed_ring(ring) : ring}));
    }
  }
  kGrid = kNorthUp;
}

TEST(CoverageGdal, HolesWithEdgesThroughCentresTakeGdalsCells) {
  // GDAL walks holes clockwise too, so which of a hole's horizontal edges it fills differs
  // between north-up and south-up grids: both checked, rings given either way
  for (const Grid& g : {kNorthUp, kSouthUp}) {
    kGrid = g;
    for (const bool flip_shell : {false, true})
      for (const bool flip_hole : {false, true}) {
        const Ring shell = rect(wx(5), wy(5), wx(91), wy(91));
        const Ring hole = rect(wx(21), wy(31), wx(61), wy(71));  // every edge through centres
        expect_same_cells(mp(
            {flip_shell ? reversed_ring(shell) : shell, flip_hole ? reversed_ring(hole) : hole}));
      }
  }
  kGrid = kNorthUp;
}

TEST(CoverageGdal, CenterFrameIsTheRasterPostgisRasterisesOn) {
  // corner and size of ST_Clip's raster as PostGIS 3.3 reports them (ST_MetaData) for
  // rectangles on lights.tif's grid (x0 30, y0 2, cells of 0.01 degree, 300 x 200)
  const Grid lights{30.0, 0.01, 2.0, -0.01, 300, 200};
  struct Case {
    double xmin, ymin, xmax, ymax, x0, y0;
    int64_t cols, rows;
  };
  for (const Case& c : {Case{30.205, 1.3, 30.8, 1.695, 30.2, 1.7, 61, 41},
                        Case{30.105, 1.305, 30.905, 1.905, 30.1, 1.91, 81, 61},
                        Case{30.1, 1.3, 30.9, 1.9, 30.1, 1.9, 80, 60},
                        Case{30.65, 1.3, 31.224999999999998, 1.6, 30.65, 1.6, 57, 30}}) {
    const CenterFrame f = center_frame(mp({rect(c.xmin, c.ymin, c.xmax, c.ymax)}), lights);
    EXPECT_NEAR(f.gt[0], c.x0, 1e-12);
    EXPECT_NEAR(f.gt[3], c.y0, 1e-12);
    EXPECT_EQ(f.col0, std::lround((c.x0 - 30) / 0.01));
    EXPECT_EQ(f.row0, std::lround((2 - c.y0) / 0.01));
    EXPECT_EQ(f.cols, c.cols) << c.xmin;
    EXPECT_EQ(f.rows, c.rows) << c.xmin;
  }
}
