-- Versions and self-tests of the C++ path.

CREATE FUNCTION geoetl.version() RETURNS jsonb
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'geoetl_version';
COMMENT ON FUNCTION geoetl.version() IS
  'Versions of geoetl, PostgreSQL, GDAL, PROJ and libcurl as loaded in this backend (jsonb)';

CREATE FUNCTION geoetl.selftest_raise(what text) RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'geoetl_selftest_raise';
COMMENT ON FUNCTION geoetl.selftest_raise(text) IS
  'Diagnostics (admin): raise an error of the given kind from the C++ core (invalid_argument, '
  'not_found, data_corrupted, io_error, network_error, permission_denied, not_supported, '
  'cancelled, internal, std_exception, bad_alloc, foreign) or from PostgreSQL through the '
  'C++ guard (pg_error), to check that it arrives as a proper error';

CREATE FUNCTION geoetl.selftest_wait(seconds float8) RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'geoetl_selftest_wait';
COMMENT ON FUNCTION geoetl.selftest_wait(float8) IS
  'Diagnostics (admin): wait in the C++ core, polling for cancellation every 10 ms; '
  'statement_timeout or pg_cancel_backend must stop it; returns the number of polls';

CREATE FUNCTION geoetl.selftest_live_objects() RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'geoetl_selftest_live_objects';
COMMENT ON FUNCTION geoetl.selftest_live_objects() IS
  'Diagnostics (admin): C++ core objects alive in this backend; 0 between statements, '
  'anything else means an error skipped C++ destructors';

CREATE FUNCTION geoetl.shared_cache_stats(
  OUT enabled boolean, OUT size_mb float8, OUT slots bigint, OUT used bigint, OUT pinned bigint,
  OUT hits bigint, OUT misses bigint, OUT inserts bigint, OUT evictions bigint,
  OUT insert_failures bigint, OUT lock_takeovers bigint)
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'geoetl_shared_cache_stats';
COMMENT ON FUNCTION geoetl.shared_cache_stats() IS
  'Diagnostics (admin): the shared block cache of decoded raster blocks (geoetl in '
  'shared_preload_libraries, geoetl.shared_cache_mb): enabled, size, 64 kB slots in all, in use '
  'and pinned now; lookups that hit and missed, parts inserted, evicted and not kept (every slot '
  'pinned), and locks taken over from processes that died holding them, since server start';
