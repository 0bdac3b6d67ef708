-- Zonal statistics: a raster's statistics inside polygons, exact to the partial pixel.

CREATE TYPE geoetl.zonal_stats_result AS (
  count          float8,    -- Σw over valid cells (cells for center/touched, fractions for exact)
  sum            float8,    -- Σ w·value
  mean           float8,
  min            float8,    -- over valid cells with w > 0
  max            float8,
  stddev         float8,    -- w-weighted population standard deviation
  quantiles      float8[],  -- in the order requested (weighted R type 7)
  lit_share      float8,    -- Σ w·[value >= threshold] / Σw
  valid_area_km2 float8,    -- Σ w·(cell area)
  lit_area_km2   float8,
  nodata_share   float8     -- weight on nodata, masked or outside-the-raster cells / all weight
);
COMMENT ON TYPE geoetl.zonal_stats_result IS
  'What geoetl.zonal_stats returns: weighted statistics of the valid cells inside a polygon';

CREATE FUNCTION geoetl.zonal_stats(raster text, geom geometry, band int DEFAULT 1,
                                   coverage text DEFAULT 'exact', threshold float8 DEFAULT NULL,
                                   quantiles float8[] DEFAULT '{0.5,0.9}')
RETURNS geoetl.zonal_stats_result
LANGUAGE C VOLATILE PARALLEL SAFE COST 10000
AS 'MODULE_PATHNAME', 'geoetl_zonal_stats';
COMMENT ON FUNCTION geoetl.zonal_stats(text, geometry, int, text, float8, float8[]) IS
  'Statistics of a raster band (local path, http(s):// or s3:// URL) inside a polygon; coverage '
  '"exact" (partial cells by area fraction), "center" or "touched"; SRID 0 means the raster''s CRS';

-- zonal_stats_many and zonal_stats_areas return an id (and a name) followed by the columns of
-- zonal_stats_result. Their definitions are written from the type, so those columns are listed
-- once, above: a column added there reaches all three functions (the C code fills by name).
DO $zonal$
DECLARE
  declared text;  -- "count float8, sum float8, ..."
  selected text;  -- "s.count, s.sum, ..."
BEGIN
  SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', '
                    ORDER BY attnum),
         string_agg(format('s.%I', attname), ', ' ORDER BY attnum)
    INTO declared, selected
    FROM pg_attribute
   WHERE attrelid = 'geoetl.zonal_stats_result'::regclass AND attnum > 0 AND NOT attisdropped;

  EXECUTE format($sql$
    CREATE FUNCTION geoetl.zonal_stats_many(raster text, ids bigint[], geoms geometry[],
                                            band int DEFAULT 1, coverage text DEFAULT 'exact',
                                            threshold float8 DEFAULT NULL,
                                            quantiles float8[] DEFAULT '{0.5,0.9}')
    RETURNS TABLE (id bigint, %s)
    LANGUAGE C VOLATILE PARALLEL SAFE COST 10000 ROWS 1000
    AS 'MODULE_PATHNAME', 'geoetl_zonal_stats_many'
  $sql$, declared);

  EXECUTE format($sql$
    CREATE FUNCTION geoetl.zonal_stats_areas(raster text, band int DEFAULT 1,
                                             coverage text DEFAULT 'exact',
                                             threshold float8 DEFAULT NULL,
                                             quantiles float8[] DEFAULT '{0.5,0.9}',
                                             area_ids bigint[] DEFAULT NULL)
    RETURNS TABLE (area_id bigint, name text, %s)
    LANGUAGE sql VOLATILE AS $body$
      SELECT a.area_id, a.name, %s
        FROM (SELECT array_agg(x.area_id ORDER BY x.area_id) AS ids,
                     array_agg(x.geom ORDER BY x.area_id) AS geoms
                FROM geoetl.area x
               WHERE zonal_stats_areas.area_ids IS NULL
                  OR x.area_id = ANY (zonal_stats_areas.area_ids)) z
       CROSS JOIN LATERAL geoetl.zonal_stats_many(zonal_stats_areas.raster, z.ids, z.geoms,
                                                  zonal_stats_areas.band,
                                                  zonal_stats_areas.coverage,
                                                  zonal_stats_areas.threshold,
                                                  zonal_stats_areas.quantiles) s
        JOIN geoetl.area a ON a.area_id = s.id
       ORDER BY a.area_id
    $body$
  $sql$, declared, selected);
END
$zonal$;
COMMENT ON FUNCTION geoetl.zonal_stats_many(text, bigint[], geometry[], int, text, float8, float8[]) IS
  'zonal_stats for many polygons in one pass over the raster (each block read once): one row '
  'per id, ids[i] labelling geoms[i]; a NULL geometry gives a row of NULLs';

COMMENT ON FUNCTION geoetl.zonal_stats_areas(text, int, text, float8, float8[], bigint[]) IS
  'zonal_stats_many over geoetl.area (all areas, or those in area_ids): one row per area';

-- Bounds on coordinates before any transformation: PROJ 9.1 never returns from some absurd
-- input (EPSG:3857 at 1e20) and checks no interrupt (see geoetl::check_coordinate_range).
CREATE FUNCTION geoetl._check_extent(xmin float8, ymin float8, xmax float8, ymax float8,
                                     crs text, what text)
RETURNS void LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'geoetl_check_extent';
COMMENT ON FUNCTION geoetl._check_extent(float8, float8, float8, float8, text, text) IS
  'Internal: raises 22023 for a bounding box with non-finite coordinates or coordinates beyond '
  'what the CRS (WKT or PROJ definition) can hold: +-360/+-180 degrees, +-1e9 m';

CREATE FUNCTION geoetl._check_coordinates(geom geometry, what text) RETURNS geometry
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF geom IS NOT NULL AND NOT ST_IsEmpty(geom) THEN
    PERFORM geoetl._check_extent(ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom),
      (SELECT coalesce(nullif(s.srtext, ''), s.proj4text) FROM spatial_ref_sys s
        WHERE s.srid = ST_SRID(geom) AND s.srid <> 0), what);
  END IF;
  RETURN geom;
END
$$;
COMMENT ON FUNCTION geoetl._check_coordinates(geometry, text) IS
  'Internal: the geometry, once its coordinates are known to be finite and within its CRS''s '
  'bounds (call before ST_Transform); `what` names it in the error';
