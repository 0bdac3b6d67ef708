#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "geom/coverage.h"
#include "base/error.h"
#include "polygons.h"

using namespace geoetl;

namespace {

// weights[r][c] over rows/cols [0, rows) x [0, cols)
std::vector<std::vector<double>> grid(const CellCoverage& cov, Coverage mode, int rows, int cols) {
  std::vector<std::vector<double>> g(rows, std::vector<double>(cols));
  for (int r = 0; r < rows; r++) cov.row_weights(mode, r, 0, cols, g[r].data());
  return g;
}

void expect_grid(const std::vector<std::vector<double>>& got,
                 const std::vector<std::vector<double>>& want, double tol = 1e-15) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size(); r++)
    for (size_t c = 0; c < want[r].size(); c++)
      EXPECT_NEAR(got[r][c], want[r][c], tol) << "cell (" << r << ", " << c << ")";
}

double total(const CellCoverage& cov, Coverage mode) {
  const Window b = cov.bounds();
  std::vector<double> row(static_cast<size_t>(b.cols));
  double sum = 0;
  for (int64_t r = b.row0; r < b.row0 + b.rows; r++) {
    cov.row_weights(mode, r, b.col0, b.cols, row.data());
    for (double w : row) sum += w;
  }
  return sum;
}

}  // namespace

TEST(Coverage, SquareFromHalfToTwoAndAHalfCoversQuartersHalvesAndTheMiddle) {
  CellCoverage cov(mp({rect(0.5, 0.5, 2.5, 2.5)}));
  expect_grid(grid(cov, Coverage::exact, 3, 3), {{.25, .5, .25}, {.5, 1, .5}, {.25, .5, .25}});
  EXPECT_DOUBLE_EQ(cov.area(), 4);
}

TEST(Coverage, RingOrientationDoesNotMatter) {
  Ring cw = rect(0.5, 0.5, 2.5, 2.5);
  std::reverse(cw.begin(), cw.end());
  CellCoverage cov(mp({cw}));
  expect_grid(grid(cov, Coverage::exact, 3, 3), {{.25, .5, .25}, {.5, 1, .5}, {.25, .5, .25}});
}

TEST(Coverage, PolygonOnCellEdgesCoversExactlyItsCellsAndTouchesNoNeighbour) {
  CellCoverage cov(mp({rect(1, 1, 2, 2)}));
  const std::vector<std::vector<double>> one = {{0, 0, 0}, {0, 1, 0}, {0, 0, 0}};
  expect_grid(grid(cov, Coverage::exact, 3, 3), one, 0);
  expect_grid(grid(cov, Coverage::touched, 3, 3), one, 0);
}

TEST(Coverage, PolygonInsideOneCellCoversItsAreaFraction) {
  CellCoverage cov(mp({{{1.2, 1.1}, {1.7, 1.1}, {1.45, 1.6}, {1.2, 1.1}}}));  // triangle, 0.125
  const auto g = grid(cov, Coverage::exact, 3, 3);
  EXPECT_NEAR(g[1][1], 0.125, 1e-15);
  EXPECT_EQ(g[0][0] + g[0][1] + g[1][0] + g[1][2] + g[2][1], 0);
  // its centre (1.5, 1.5) is inside, so the centre rule takes the cell too
  EXPECT_EQ(grid(cov, Coverage::center, 3, 3)[1][1], 1);
}

TEST(Coverage, TinyPolygonAwayFromTheCentreIsTouchedButNotCentred) {
  CellCoverage cov(mp({rect(0.1, 0.1, 0.2, 0.2)}));
  EXPECT_NEAR(grid(cov, Coverage::exact, 1, 1)[0][0], 0.01, 1e-15);
  EXPECT_EQ(grid(cov, Coverage::touched, 1, 1)[0][0], 1);
  EXPECT_EQ(grid(cov, Coverage::center, 1, 1)[0][0], 0);
}

TEST(Coverage, HolesAreNotCovered) {
  CellCoverage cov(mp({rect(0, 0, 3, 3), rect(1, 1, 2, 2)}));
  expect_grid(grid(cov, Coverage::exact, 3, 3), {{1, 1, 1}, {1, 0, 1}, {1, 1, 1}});
  expect_grid(grid(cov, Coverage::center, 3, 3), {{1, 1, 1}, {1, 0, 1}, {1, 1, 1}});
  EXPECT_DOUBLE_EQ(cov.area(), 8);
}

TEST(Coverage, HoleInsideOneCellLeavesTheRestOfIt) {
  CellCoverage cov(mp({rect(0, 0, 3, 3), rect(1.25, 1.25, 1.75, 1.75)}));
  EXPECT_NEAR(grid(cov, Coverage::exact, 3, 3)[1][1], 0.75, 1e-15);
}

TEST(Coverage, MultiPolygonPartsAddUp) {
  MultiPolygon two{{Polygon{{rect(0, 0, 1, 1)}}, Polygon{{rect(2.5, 0, 3, 0.5)}}}};
  CellCoverage cov(two);
  expect_grid(grid(cov, Coverage::exact, 1, 3), {{1, 0, 0.25}});
  EXPECT_DOUBLE_EQ(cov.area(), 1.25);
}

TEST(Coverage, VertexOnACellCornerSplitsTheDiamondExactly) {
  // a diamond with its vertices on cell corners covers half of each of four cells
  CellCoverage cov(mp({{{1, 0}, {2, 1}, {1, 2}, {0, 1}, {1, 0}}}));
  expect_grid(grid(cov, Coverage::exact, 2, 2), {{.5, .5}, {.5, .5}});
}

TEST(Coverage, SliverAlongACellEdgeStaysTiny) {
  CellCoverage cov(mp({{{0, 1}, {3, 1}, {3, 1.000001}, {0, 1}}}));  // area 1.5e-6
  const auto g = grid(cov, Coverage::exact, 2, 3);
  EXPECT_NEAR(g[1][0] + g[1][1] + g[1][2], 1.5e-6, 1e-15);
  EXPECT_EQ(g[0][0] + g[0][1] + g[0][2], 0);
}

TEST(Coverage, PolygonPartlyOutsideTheWindowGivesTheInsidePart) {
  CellCoverage cov(mp({rect(-1.5, -1.5, 1.5, 1.5)}));
  expect_grid(grid(cov, Coverage::exact, 2, 2), {{1, .5}, {.5, .25}});
  EXPECT_EQ(cov.bounds().row0, -2);
  EXPECT_EQ(cov.bounds().cols, 4);
}

TEST(Coverage, AnyColumnRangeMatchesTheSameCellsOfTheWholeRow) {
  CellCoverage cov(mp({{{0.3, 0.2}, {7.9, 1.1}, {5.2, 3.7}, {1.1, 2.9}, {0.3, 0.2}}}));
  std::vector<double> whole(8), part(3);
  for (int r = 0; r < 4; r++)
    for (Coverage mode : {Coverage::exact, Coverage::center, Coverage::touched}) {
      cov.row_weights(mode, r, 0, 8, whole.data());
      cov.row_weights(mode, r, 4, 3, part.data());
      for (int i = 0; i < 3; i++) EXPECT_NEAR(part[i], whole[4 + i], 1e-15) << r << " " << i;
    }
}

TEST(Coverage, CountingCentresEqualsSummingTheirWeights) {
  CellCoverage cov(
      mp({{{0.3, 0.2}, {7.9, 1.1}, {5.2, 3.7}, {1.1, 2.9}, {0.3, 0.2}}, rect(2.2, 1.2, 3.8, 2.6)}));
  std::vector<double> row(12);
  for (int r = -1; r < 5; r++)
    for (int c0 = -2; c0 < 9; c0 += 3) {
      cov.row_weights(Coverage::center, r, c0, 12, row.data());
      double sum = 0;
      for (double w : row) sum += w;
      EXPECT_EQ(cov.center_cells(r, c0, c0 + 12), static_cast<int64_t>(sum)) << r << " " << c0;
    }
}

TEST(Coverage, PolygonsSpanningTooManyRowsAreRefused) {
  EXPECT_THROW(CellCoverage(mp({rect(0, 0, 1, 1e12)})), Error);
}

TEST(Coverage, CentreRuleFollowsGdalOnEdgesThroughCellCentres) {
  // GDAL takes centres in (left, right] and rows with top <= centre < bottom, and also the
  // cells of a horizontal edge through centres that the ring walks towards smaller x (here the
  // bottom edge of the ring as given, not of the reversed one); test_coverage_gdal.cpp checks
  // GDAL itself
  CellCoverage reversed(mp({reversed_ring(rect(0.5, 0.5, 2.5, 2.5))}));
  expect_grid(grid(reversed, Coverage::center, 3, 3), {{0, 1, 1}, {0, 1, 1}, {0, 0, 0}});
  CellCoverage cov(mp({rect(0.5, 0.5, 2.5, 2.5)}));
  expect_grid(grid(cov, Coverage::center, 3, 3), {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}});
  expect_grid(grid(cov, Coverage::touched, 3, 3), {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}});
}

TEST(Coverage, EmptyPolygonCoversNothing) {
  CellCoverage cov(MultiPolygon{});
  EXPECT_TRUE(cov.bounds().empty());
  EXPECT_EQ(cov.area(), 0);
  std::vector<double> row(3, 7.0);
  cov.row_weights(Coverage::exact, 0, 0, 3, row.data());
  EXPECT_EQ(row, std::vector<double>(3, 0.0));
}

TEST(Coverage, ParsesModeNamesAndRejectsOthers) {
  EXPECT_EQ(parse_coverage("exact"), Coverage::exact);
  EXPECT_EQ(parse_coverage("center"), Coverage::center);
  EXPECT_EQ(parse_coverage("touched"), Coverage::touched);
  EXPECT_THROW(parse_coverage("Exact"), Error);
  EXPECT_THROW(parse_coverage(""), Error);
}

// Property: for random star-shaped polygons on random grids, the exact weights are fractions
// and add up to the polygon's area in cells. Angles are jittered around n even steps (n >= 4),
// so no gap reaches pi and the polygon stays simple.
TEST(Coverage, RandomPolygonsWeightsSumToTheirAreaInCells) {
  std::mt19937_64 rng(20261121);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 300; trial++) {
    const double cx = u(rng) * 50, cy = u(rng) * 50, radius = 0.2 + u(rng) * 20;
    const int n = 4 + static_cast<int>(u(rng) * 40);
    std::vector<double> angles(n);
    for (int k = 0; k < n; k++) angles[k] = (k + 0.5 * u(rng)) / n * 2 * M_PI;
    Ring ring;
    for (double a : angles) {
      const double r = radius * (0.2 + 0.8 * u(rng));
      ring.push_back({cx + r * std::cos(a), cy + r * std::sin(a)});
    }
    ring.push_back(ring.front());
    CellCoverage cov(mp({ring}));
    const double expected = std::fabs(signed_area(ring));
    EXPECT_NEAR(total(cov, Coverage::exact), expected, 1e-9 * std::max(1.0, expected))
        << "trial " << trial;
    const Window b = cov.bounds();
    std::vector<double> row(static_cast<size_t>(b.cols));
    for (int64_t r = b.row0; r < b.row0 + b.rows; r++) {
      cov.row_weights(Coverage::exact, r, b.col0, b.cols, row.data());
      for (double w : row) ASSERT_TRUE(w >= 0 && w <= 1) << w;
    }
  }
}
