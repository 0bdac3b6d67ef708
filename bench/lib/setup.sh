# Sourced by the benchmarks (after ROOT is set and the current folder is ROOT).
#   bench_build [cmake target ...]  dependencies, the extension built and installed, and the
#                                   given benchmark targets built (-DGEOETL_BUILD_BENCH=ON)
#   bench_cluster                   the benchmark cluster (.pgdata-bench, or $GEOETL_BENCH_PGDIR)
#                                   started until the script exits, and psql pointed at it
# GEOETL_BENCH_DESTDIR=DIR  install the extension into a private copy of PostgreSQL 15 under DIR
#                           (make install DESTDIR=DIR) and run the cluster from it, leaving the
#                           system's installed extension alone (e.g. while a dev cluster uses it)
export GEOETL_PGDIR=${GEOETL_BENCH_PGDIR:-$ROOT/.pgdata-bench}

bench_build() {
  scripts/install-deps.sh >/dev/null
  if (($# > 0)); then
    cmake -S . -B build -DGEOETL_BUILD_BENCH=ON >/dev/null
    cmake --build build -j "$(nproc)" --target "$@" >/dev/null
  fi
  make -j "$(nproc)" >/dev/null
  if [[ -n ${GEOETL_BENCH_DESTDIR:-} ]]; then
    bench_private_postgres "$GEOETL_BENCH_DESTDIR"
    make install DESTDIR="$GEOETL_BENCH_DESTDIR" >/dev/null
  else
    make install >/dev/null
  fi
}

# A copy of the server's programs, libraries and share folder under $1, where PostgreSQL finds
# them relative to its binary (it is relocatable): the cluster then loads extensions from there.
bench_private_postgres() {
  local dest=$1 bindir sharedir pkglibdir
  bindir=$(pg_config --bindir) sharedir=$(pg_config --sharedir) pkglibdir=$(pg_config --pkglibdir)
  [[ $bindir == /usr/lib/postgresql/15/bin && $pkglibdir == /usr/lib/postgresql/15/lib ]] \
    || { echo "bench: GEOETL_BENCH_DESTDIR expects Debian's PostgreSQL 15 layout" >&2; return 1; }
  if [[ ! -f $dest/.copied ]]; then
    mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql"
    cp -a /usr/lib/postgresql/15 "$dest/usr/lib/postgresql/"
    cp -a "$sharedir" "$dest/usr/share/postgresql/"
    touch "$dest/.copied"
  fi
  export PGBIN=$dest$bindir
}

bench_cluster() {
  scripts/pgcluster.sh start >/dev/null
  trap 'scripts/pgcluster.sh stop >/dev/null' EXIT
  eval "$(scripts/pgcluster.sh env)"
}
