# Sourced by bench/zonal_vs_postgis.sh: zonal statistics in a new backend per query, what every
# pg_cron job and every new pooled connection gets. Each query is the first statement of a new
# connection (library loading, GDAL's and PROJ's start-up and reading the raster all counted);
# geoetl and PostGIS take turns, and each figure is the median of $NB_RUNS runs after one
# unmeasured run of each (which fills the OS page cache, shared buffers and geoetl's shared block
# cache when geoetl is preloaded). Also: the peak memory of those backends (VmHWM, and the part
# of it that is shared memory, RssShmem: pages of shared buffers or of the shared block cache).
#   new_backend_section RASTER
NB_RUNS=${NB_RUNS:-7}

# query -> "ms hwm_kb shmem_kb" of one new backend
nb_once() {
  psql -X -q -At -v ON_ERROR_STOP=1 -c '\timing on' -c "SELECT count(*), sum(hashtext(x::text)) FROM ($1) x" \
    -c "SELECT substring(s FROM 'VmHWM:\\s+(\\d+) kB') || ' ' || substring(s FROM 'RssShmem:\\s+(\\d+) kB')
          FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s" |
    awk '/^Time:/ && ms == "" { ms = $2 } /^[0-9]+ [0-9]+$/ { kb = $0 } END { print ms, kb }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

new_backend_section() {
  local raster=$1 k run
  declare -A Q
  Q[g_villages]="SELECT v.id, s.* FROM bench.villages v, LATERAL geoetl.zonal_stats('$raster', v.geom, coverage => 'center', quantiles => '{}') s"
  Q[p_villages]="SELECT v.id, ST_SummaryStatsAgg(ST_Clip(r.rast, v.geom, true), 1, true, 1) FROM bench.villages v JOIN bench.lights_in r ON ST_Intersects(r.rast, v.geom) GROUP BY v.id"
  Q[g_country]="SELECT s.* FROM bench.country c, LATERAL geoetl.zonal_stats('$raster', c.geom, coverage => 'center', quantiles => '{}') s"
  Q[p_country]="SELECT ST_SummaryStatsAgg(ST_Clip(r.rast, c.geom, true), 1, true, 1) FROM bench.country c JOIN bench.lights_in r ON ST_Intersects(r.rast, c.geom)"
  local keys="g_villages p_villages g_country p_country" dir
  dir=$(mktemp -d)
  for k in $keys; do nb_once "${Q[$k]}" >/dev/null; done
  for ((run = 0; run < NB_RUNS; run++)); do
    for k in $keys; do nb_once "${Q[$k]}" >>"$dir/$k"; done
  done
  declare -A M H S
  for k in $keys; do
    M[$k]=$(cut -d' ' -f1 "$dir/$k" | median)
    H[$k]=$(cut -d' ' -f2 "$dir/$k" | median)
    S[$k]=$(cut -d' ' -f3 "$dir/$k" | median)
  done
  rm -rf "$dir"
  echo
  echo "== a new backend per query (median of $NB_RUNS; shared_preload_libraries = '$(psql -XAtc 'SHOW shared_preload_libraries')'," \
    "geoetl.shared_cache_mb = $(psql -XAtc "SELECT coalesce(current_setting('geoetl.shared_cache_mb', true), 'unset')"))"
  local what
  for what in villages country; do
    printf '  %-9s geoetl %8.1f ms   PostGIS in-db %8.1f ms   %s   peak MB (shared part): geoetl %s (%s), PostGIS %s (%s)\n' \
      "$what" "${M[g_$what]}" "${M[p_$what]}" \
      "$(awk -v a="${M[p_$what]}" -v b="${M[g_$what]}" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v k="${H[g_$what]}" 'BEGIN { printf "%.1f", k / 1024 }')" "$(awk -v k="${S[g_$what]}" 'BEGIN { printf "%.1f", k / 1024 }')" \
      "$(awk -v k="${H[p_$what]}" 'BEGIN { printf "%.1f", k / 1024 }')" "$(awk -v k="${S[p_$what]}" 'BEGIN { printf "%.1f", k / 1024 }')"
  done
  echo "  (villages: 1,000 rows, one zonal_stats call each; ratios: PostGIS time / geoetl time)"
}
