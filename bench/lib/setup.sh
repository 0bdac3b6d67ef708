# Sourced by the benchmarks (after ROOT is set and the current folder is ROOT).
#   bench_build [cmake target ...]  dependencies, the extension built and installed, and the
#                                   given benchmark targets built (-DGEOETL_BUILD_BENCH=ON)
#   bench_cluster                   the benchmark cluster (.pgdata-bench, or $GEOETL_BENCH_PGDIR)
#                                   started until the script exits, and psql pointed at it
export GEOETL_PGDIR=${GEOETL_BENCH_PGDIR:-$ROOT/.pgdata-bench}

bench_build() {
  scripts/install-deps.sh >/dev/null
  if (($# > 0)); then
    cmake -S . -B build -DGEOETL_BUILD_BENCH=ON >/dev/null
    cmake --build build -j "$(nproc)" --target "$@" >/dev/null
  fi
  make -j "$(nproc)" >/dev/null && make install >/dev/null
}

bench_cluster() {
  scripts/pgcluster.sh start >/dev/null
  trap 'scripts/pgcluster.sh stop >/dev/null' EXIT
  eval "$(scripts/pgcluster.sh env)"
}
