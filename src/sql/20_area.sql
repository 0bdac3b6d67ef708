-- Areas of interest: the user-defined polygons every metric, package and search is made for.

CREATE TABLE geoetl.area (
  area_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  geom       geometry(MultiPolygon, 4326) NOT NULL,
  area_km2   double precision GENERATED ALWAYS AS (ST_Area(geom::geography) / 1e6) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by name NOT NULL DEFAULT current_user,
  CONSTRAINT area_name_key UNIQUE (name),
  CONSTRAINT area_name_not_blank CHECK (btrim(name) <> ''),
  CONSTRAINT area_properties_is_object CHECK (jsonb_typeof(properties) = 'object')
);
CREATE INDEX area_geom_idx ON geoetl.area USING gist (geom);
SELECT pg_catalog.pg_extension_config_dump('geoetl.area', '');
SELECT pg_catalog.pg_extension_config_dump('geoetl.area_area_id_seq', '');

COMMENT ON TABLE geoetl.area IS
  'Areas of interest (boundaries): one named MultiPolygon in WGS 84 each; add with '
  'geoetl.add_area/add_areas, change with geoetl.update_area, delete with plain DELETE';
COMMENT ON COLUMN geoetl.area.area_id IS 'Identifier, assigned by the database';
COMMENT ON COLUMN geoetl.area.name IS 'Unique, non-blank name';
COMMENT ON COLUMN geoetl.area.properties IS 'Free-form attributes (a JSON object), e.g. GeoJSON feature properties';
COMMENT ON COLUMN geoetl.area.geom IS 'Valid, non-empty MultiPolygon, longitude/latitude (EPSG:4326)';
COMMENT ON COLUMN geoetl.area.area_km2 IS 'Area in km2 on the WGS 84 ellipsoid (ST_Area of the geography)';
COMMENT ON COLUMN geoetl.area.created_at IS 'When the area was added';
COMMENT ON COLUMN geoetl.area.created_by IS 'Database role that added the area';
COMMENT ON INDEX geoetl.area_pkey IS 'Primary key of geoetl.area';
COMMENT ON INDEX geoetl.area_name_key IS 'Area names are unique';
COMMENT ON INDEX geoetl.area_geom_idx IS 'Spatial index for finding the areas a raster or tile touches';

-- An area name as messages show it: quoted, and cut after 60 characters.
CREATE FUNCTION geoetl._area_name_text(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '"' || left(name, 60) || CASE WHEN char_length(name) > 60 THEN '..."' ELSE '"' END
$$;
COMMENT ON FUNCTION geoetl._area_name_text(text) IS 'Internal: an area name for messages (quoted, at most 60 characters)';

-- Every write path (the functions below and plain INSERT/UPDATE) passes this check.
CREATE FUNCTION geoetl._area_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  IF char_length(NEW.name) > 200 THEN
    RAISE EXCEPTION 'area name % is % characters long; at most 200', geoetl._area_name_text(NEW.name), char_length(NEW.name)
      USING ERRCODE = 'string_data_right_truncation',
            HINT = 'Keep the name short (it is shown in lists and reports); put longer text in properties.';
  END IF;
  IF ST_IsEmpty(NEW.geom) THEN
    RAISE EXCEPTION 'area % has an empty geometry', geoetl._area_name_text(NEW.name)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'An area needs at least one polygon with a non-zero area.';
  END IF;
  IF ST_XMin(NEW.geom) < -180 OR ST_XMax(NEW.geom) > 180
     OR ST_YMin(NEW.geom) < -90 OR ST_YMax(NEW.geom) > 90 THEN
    RAISE EXCEPTION 'area % has coordinates outside longitude -180..180 / latitude -90..90', geoetl._area_name_text(NEW.name)
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('Bounding box: %s.', Box2D(NEW.geom)),
            HINT = 'GeoJSON positions are [longitude, latitude] in WGS 84: check for swapped axes, '
                   'or transform projected coordinates with ST_Transform(geom, 4326).';
  END IF;
  v := ST_IsValidDetail(NEW.geom);
  IF NOT v.valid THEN
    RAISE EXCEPTION 'area % has an invalid geometry', geoetl._area_name_text(NEW.name)
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = concat(v.reason, ' at ' || ST_AsText(v.location)),
            HINT = 'Pass make_valid => true to geoetl.add_area, add_areas or update_area to repair '
                   'it with ST_MakeValid, or fix the polygon at its source.';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION geoetl._area_check() IS
  'Internal trigger: rejects names over 200 characters and empty, out-of-range and invalid area geometries '
  'with a clear error';

CREATE TRIGGER area_check BEFORE INSERT OR UPDATE OF geom, name ON geoetl.area
  FOR EACH ROW EXECUTE FUNCTION geoetl._area_check();
COMMENT ON TRIGGER area_check ON geoetl.area IS
  'Validates every area geometry written, whichever way it is written';

-- The SRID a GeoJSON object's "crs" member names (the 2008 GeoJSON form: {"type": "name",
-- "properties": {"name": "EPSG:3857"}}), NULL without one (RFC 7946: WGS 84). A crs that names
-- nothing spatial_ref_sys knows is an error, not WGS 84.
CREATE FUNCTION geoetl._geojson_srid(g jsonb) RETURNS int LANGUAGE plpgsql STABLE AS $$
DECLARE
  crs jsonb := CASE WHEN jsonb_typeof(g) = 'object' THEN g->'crs' END;
  name text := crs->'properties'->>'name';
  code text;
  srid int;
BEGIN
  IF crs IS NULL OR jsonb_typeof(crs) = 'null' THEN
    RETURN NULL;
  END IF;
  IF name ~* '^(urn:ogc:def:crs:OGC:(1\.3)?:CRS84|OGC:CRS84|CRS84)$' THEN
    RETURN 4326;
  END IF;
  code := substring(name FROM '(?i)^(?:EPSG:|urn:ogc:def:crs:EPSG:[0-9.]*:)([0-9]{1,9})$');
  IF crs->>'type' = 'name' AND jsonb_typeof(crs->'properties'->'name') = 'string' AND code IS NOT NULL THEN
    SELECT s.srid INTO srid FROM spatial_ref_sys s WHERE s.auth_name = 'EPSG' AND s.auth_srid = code::int;
  END IF;
  IF srid IS NULL THEN
    RAISE EXCEPTION 'GeoJSON "crs" names no coordinate system geoetl knows: %', left(crs::text, 200)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Leave "crs" out for WGS 84 longitude/latitude (RFC 7946), or name an EPSG code of '
                   'spatial_ref_sys: {"type": "name", "properties": {"name": "EPSG:4326"}}.';
  END IF;
  RETURN srid;
END
$$;
COMMENT ON FUNCTION geoetl._geojson_srid(jsonb) IS
  'Internal: the SRID a GeoJSON object''s "crs" member names, NULL without one; raises 22023 for a crs not in spatial_ref_sys';

-- A GeoJSON geometry with its SRID: the one its "crs" names, else WGS 84.
CREATE FUNCTION geoetl._geojson_geometry(g jsonb) RETURNS geometry LANGUAGE plpgsql STABLE AS $$
DECLARE
  srid int := coalesce(geoetl._geojson_srid(g), 4326);
BEGIN
  RETURN ST_SetSRID(ST_GeomFromGeoJSON(g - 'crs'), srid);
END
$$;
COMMENT ON FUNCTION geoetl._geojson_geometry(jsonb) IS
  'Internal: a GeoJSON geometry in the SRID its "crs" names (checked), else WGS 84';

-- Parses GeoJSON (a Polygon/MultiPolygon geometry, a Feature, or a FeatureCollection of one
-- feature) into a 2D MultiPolygon in EPSG:4326, plus the feature's properties ('{}' if none).
CREATE FUNCTION geoetl._parse_area_geojson(geojson jsonb, make_valid boolean,
                                           OUT geom geometry, OUT properties jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  g jsonb := geojson;
  t text;
  n int;
  srid int;
BEGIN
  properties := '{}';
  IF g IS NULL OR jsonb_typeof(g) = 'null' THEN
    RAISE EXCEPTION 'GeoJSON must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF jsonb_typeof(g) <> 'object' THEN
    RAISE EXCEPTION 'GeoJSON must be a JSON object, not %', jsonb_typeof(g)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass a Polygon or MultiPolygon geometry, a Feature, or a FeatureCollection with one feature.';
  END IF;
  t := g->>'type';
  IF t = 'FeatureCollection' THEN
    IF jsonb_typeof(g->'features') IS DISTINCT FROM 'array' THEN
      RAISE EXCEPTION 'GeoJSON FeatureCollection has no "features" array'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := jsonb_array_length(g->'features');
    IF n <> 1 THEN
      RAISE EXCEPTION 'GeoJSON FeatureCollection has % features where exactly one was expected', n
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Load a collection of many features with geoetl.add_areas(collection, name_property).';
    END IF;
    g := g->'features'->0;
    t := g->>'type';
    IF t IS DISTINCT FROM 'Feature' THEN
      RAISE EXCEPTION 'the member of a GeoJSON FeatureCollection must be a Feature, not %',
        coalesce(t, 'an object without "type"')
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;
  IF t = 'Feature' THEN
    IF jsonb_typeof(g->'properties') = 'object' THEN
      properties := g->'properties';
    END IF;
    g := g->'geometry';
    IF g IS NULL OR jsonb_typeof(g) <> 'object' THEN
      RAISE EXCEPTION 'GeoJSON Feature has no geometry'
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'An area needs a Polygon or MultiPolygon geometry.';
    END IF;
    t := g->>'type';
  END IF;
  IF t IS NULL THEN
    RAISE EXCEPTION 'not GeoJSON: the object has no "type" member'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass a Polygon or MultiPolygon geometry, a Feature, or a FeatureCollection with one feature.';
  ELSIF t IN ('Point', 'MultiPoint', 'LineString', 'MultiLineString', 'GeometryCollection') THEN
    RAISE EXCEPTION 'an area must be a Polygon or MultiPolygon, not a %', t
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Turn points and lines into polygons first, e.g. ST_Buffer(geom::geography, metres)::geometry.';
  ELSIF t NOT IN ('Polygon', 'MultiPolygon') THEN
    RAISE EXCEPTION 'unknown GeoJSON type "%"', t
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'GeoJSON types are case-sensitive; an area is a "Polygon" or "MultiPolygon".';
  END IF;
  -- ST_GeomFromGeoJSON reads a string where a number belongs as 0: refuse it here.
  IF jsonb_path_exists(g->'coordinates', 'lax $.** ? (@.type() != "array" && @.type() != "number")') THEN
    RAISE EXCEPTION 'invalid GeoJSON % geometry', t
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Coordinates must be numbers, found: ' || jsonb_path_query_first(g->'coordinates',
                       'lax $.** ? (@.type() != "array" && @.type() != "number")')::text || '.',
            HINT = 'Coordinates are arrays of [longitude, latitude] numbers.';
  END IF;
  -- a "crs" on the geometry, else on the object given; checked before PostGIS reads it as SRID 0
  srid := coalesce(geoetl._geojson_srid(g), geoetl._geojson_srid(geojson));
  BEGIN
    geom := ST_GeomFromGeoJSON(g - 'crs');
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'invalid GeoJSON % geometry', t
      USING ERRCODE = 'invalid_parameter_value', DETAIL = SQLERRM,
            HINT = 'Coordinates are arrays of [longitude, latitude]; each ring needs at least four '
                   'positions, the last equal to the first.';
  END;
  geom := ST_SetSRID(geom, coalesce(srid, 4326));
  IF ST_SRID(geom) NOT IN (0, 4326) THEN
    RAISE EXCEPTION 'GeoJSON must be in WGS 84 longitude/latitude (EPSG:4326), not EPSG:%', ST_SRID(geom)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Transform it first, e.g. ST_AsGeoJSON(ST_Transform(geom, 4326))::jsonb.';
  END IF;
  geom := ST_Multi(ST_Force2D(ST_SetSRID(geom, 4326)));
  IF coalesce(make_valid, false) AND NOT ST_IsEmpty(geom) AND NOT (ST_IsValidDetail(geom)).valid THEN
    geom := ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3));
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._parse_area_geojson(jsonb, boolean) IS
  'Internal: GeoJSON geometry, Feature or one-feature FeatureCollection to (MultiPolygon 4326, properties)';

CREATE FUNCTION geoetl._check_properties(properties jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF jsonb_typeof(properties) <> 'object' THEN
    RAISE EXCEPTION 'area properties must be a JSON object, not %', jsonb_typeof(properties)
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example: {"admin_code": "KE-17"}.';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._check_properties(jsonb) IS
  'Internal: raises a clear error unless properties is NULL or a JSON object';

CREATE FUNCTION geoetl.add_area(name text, geojson jsonb, properties jsonb DEFAULT '{}',
                                make_valid boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  parsed record;
  new_id bigint;
  constraint_name text;
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION 'area name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF btrim(name) = '' THEN
    RAISE EXCEPTION 'area name must not be blank' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM geoetl._check_properties(properties);
  parsed := geoetl._parse_area_geojson(geojson, make_valid);
  INSERT INTO geoetl.area (name, properties, geom)
  VALUES (add_area.name, parsed.properties || coalesce(add_area.properties, '{}'), parsed.geom)
  RETURNING area_id INTO new_id;
  RETURN new_id;
EXCEPTION WHEN unique_violation THEN
  GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
  IF constraint_name IS DISTINCT FROM 'area_name_key' THEN
    RAISE;
  END IF;
  RAISE EXCEPTION 'area % already exists', geoetl._area_name_text(add_area.name)
    USING ERRCODE = 'unique_violation',
          DETAIL = format('Area %s has that name.',
                          (SELECT a.area_id FROM geoetl.area a WHERE a.name = add_area.name)),
          HINT = 'Choose another name, or change the existing area with geoetl.update_area().';
END
$$;
COMMENT ON FUNCTION geoetl.add_area(text, jsonb, jsonb, boolean) IS
  'Adds an area from a GeoJSON Polygon/MultiPolygon, Feature or one-feature FeatureCollection '
  '(WGS 84); properties are the feature''s properties overlaid with the given ones; '
  'make_valid repairs invalid polygons with ST_MakeValid; returns area_id';

CREATE FUNCTION geoetl.add_areas(collection jsonb, name_property text,
                                 make_valid boolean DEFAULT false)
RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
  feature jsonb;
  feature_no int := 0;
  feature_name text;
  st text;
  msg text;
  det text;
  hnt text;
BEGIN
  IF collection IS NULL OR name_property IS NULL THEN
    RAISE EXCEPTION 'collection and name_property must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF jsonb_typeof(collection) IS DISTINCT FROM 'object'
     OR collection->>'type' IS DISTINCT FROM 'FeatureCollection'
     OR jsonb_typeof(collection->'features') IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'add_areas needs a GeoJSON FeatureCollection with a "features" array'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Add a single geometry or Feature with geoetl.add_area(name, geojson).';
  END IF;
  -- One block for the whole loop: any error undoes every area added before it.
  BEGIN
    FOR feature IN SELECT f FROM jsonb_array_elements(collection->'features') AS f LOOP
      feature_no := feature_no + 1;
      feature_name := feature->'properties'->>name_property;
      IF feature_name IS NULL THEN
        RAISE EXCEPTION 'property "%" is missing or null', name_property
          USING ERRCODE = 'null_value_not_allowed',
                HINT = format('Every feature needs a name; its properties are: %s.',
                              coalesce(feature->'properties', '{}'));
      END IF;
      RETURN NEXT geoetl.add_area(feature_name, feature, '{}', make_valid);
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RAISE EXCEPTION 'feature % of % (%): %', feature_no, jsonb_array_length(collection->'features'),
      coalesce(geoetl._area_name_text(feature_name), 'no name'), msg
      USING ERRCODE = st, DETAIL = det, HINT = hnt;
  END;
END
$$;
COMMENT ON FUNCTION geoetl.add_areas(jsonb, text, boolean) IS
  'Adds every feature of a GeoJSON FeatureCollection as an area named by the property '
  'name_property, all or nothing; returns the new area_ids in feature order';

CREATE FUNCTION geoetl.update_area(area_id bigint, geojson jsonb DEFAULT NULL,
                                   properties jsonb DEFAULT NULL, make_valid boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  new_geom geometry;
BEGIN
  IF update_area.area_id IS NULL THEN
    RAISE EXCEPTION 'area_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF geojson IS NULL AND update_area.properties IS NULL THEN
    RAISE EXCEPTION 'nothing to update for area %', update_area.area_id
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass geojson, properties or both.';
  END IF;
  PERFORM geoetl._check_properties(update_area.properties);
  IF geojson IS NOT NULL THEN
    new_geom := (geoetl._parse_area_geojson(geojson, make_valid)).geom;
  END IF;
  UPDATE geoetl.area a
     SET geom = coalesce(new_geom, a.geom),
         properties = coalesce(update_area.properties, a.properties)
   WHERE a.area_id = update_area.area_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'area % does not exist', update_area.area_id
      USING ERRCODE = 'no_data_found',
            HINT = 'List the areas with: SELECT area_id, name FROM geoetl.area;';
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl.update_area(bigint, jsonb, jsonb, boolean) IS
  'Replaces an area''s geometry (from GeoJSON, as in add_area; a Feature''s properties are not used) '
  'and/or its properties; NULL leaves that part unchanged';
