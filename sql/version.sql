-- geoetl.version(): the whole SQL -> glue -> core -> GDAL/PROJ/libcurl path.
SELECT jsonb_typeof(geoetl.version()) AS type;
SELECT k, jsonb_typeof(geoetl.version() -> k) AS type,
       geoetl.version() ->> k ~ '^\d+\.\d+' AS looks_like_a_version
  FROM unnest(ARRAY['geoetl', 'postgresql', 'gdal', 'proj', 'libcurl']) AS k;
-- the library reports the version the catalog says is installed
SELECT geoetl.version() ->> 'geoetl' = extversion AS matches_catalog
  FROM pg_extension WHERE extname = 'geoetl';
-- the server version is the running server's, not the build's
SELECT geoetl.version() ->> 'postgresql' = current_setting('server_version') AS matches_server;
-- the GDAL that geoetl loaded is the one PostGIS raster loaded too (one libgdal per backend)
CREATE EXTENSION IF NOT EXISTS postgis_raster;
SELECT geoetl.version() ->> 'gdal' = substring(postgis_gdal_version() from 'GDAL (\S+),') AS same_gdal;
