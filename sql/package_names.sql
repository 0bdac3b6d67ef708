-- Package names (an area's slug, the folder packages/<name>/ and the descriptor's name): the
-- area's name in lower case with runs of other characters as "-", at most 60 characters,
-- "area-<id>" when nothing is left; "-<id>" added for the later of two areas of the same slug
-- and when a package of another area (or of a deleted one) holds the name; an area that has
-- packages keeps their name. Writers add and rename areas (the slug index runs as them).
\getenv fixtures GEOETL_FIXTURES
\set lights :fixtures '/lights.tif'
TRUNCATE geoetl.job, geoetl.package_resource, geoetl.package, geoetl.source RESTART IDENTITY;
SELECT geoetl.add_source('lights', 'v1', :'lights') > 0 AS source_added;
CREATE ROLE pkgn_writer IN ROLE geoetl_writer;
CREATE FUNCTION pg_temp.area(name text) RETURNS bigint LANGUAGE sql AS $$
  SELECT geoetl.add_area(name, '{"type": "Polygon", "coordinates":
    [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.003, 1.905]]]}') $$;
CREATE FUNCTION pg_temp.rename(id bigint, name text) RETURNS void LANGUAGE sql AS $$
  UPDATE geoetl.area SET name = rename.name WHERE area_id = rename.id $$;

-- from the name alone
SELECT pg_temp.area('Test Town') AS town, pg_temp.area('  São Tomé / Príncipe (2024) ') AS st,
       pg_temp.area('***') AS stars, pg_temp.area(repeat('Long name ', 10)) AS long \gset
SELECT geoetl._package_slug(:town) AS town, geoetl._package_slug(:st) AS sao_tome,
       geoetl._package_slug(:stars) = 'area-' || :stars AS stars_by_id,
       geoetl._package_slug(:long) AS long, char_length(geoetl._package_slug(:long)) AS long_length;

-- two areas of the same slug: the later one is told apart by its id, whichever is looked at first
SELECT pg_temp.area('Kisumu') AS k1, pg_temp.area('KISUMU!') AS k2, pg_temp.area('kisumu') AS k3 \gset
SELECT geoetl._package_slug(:k3) = 'kisumu-' || :k3 AS third_by_id, geoetl._package_slug(:k2) = 'kisumu-' || :k2 AS second_by_id,
       geoetl._package_slug(:k1) AS first;

-- an area that has a package keeps its name when renamed; another area given its old name does
-- not take the name, nor after the first area is deleted (its packages stay)
SELECT geoetl.create_package(:k2) AS p2 \gset
SELECT name = 'kisumu-' || :k2 AS package_named FROM geoetl.package WHERE package_id = :p2;
SELECT pg_temp.rename(:k2, 'Nakuru');
SELECT geoetl._package_slug(:k2) = 'kisumu-' || :k2 AS renamed_keeps_name;
SELECT pg_temp.area('Alpha') AS a \gset
SELECT geoetl.create_package(:a) AS pa \gset
SELECT pg_temp.rename(:a, 'Beta');
SELECT pg_temp.area('Alpha') AS a2 \gset
SELECT geoetl._package_slug(:a) AS renamed, geoetl._package_slug(:a2) = 'alpha-' || :a2 AS held_by_other_area;
DELETE FROM geoetl.area WHERE area_id = :a;
SELECT area_id IS NULL AS area_gone, name FROM geoetl.package WHERE package_id = :pa;
SELECT geoetl._package_slug(:a2) = 'alpha-' || :a2 AS held_by_deleted_area;
-- a freed slug (its area renamed, no package) is free again
SELECT pg_temp.rename(:k1, 'Eldoret');
SELECT geoetl._package_slug(:k3) AS k3_after_rename, geoetl._package_slug(:k1) AS renamed_without_package;

-- writers add and rename areas: the slug index's expression runs as them
SET ROLE pkgn_writer;
SELECT geoetl.add_area('Written By A Writer', '{"type": "Polygon", "coordinates":
  [[[30.003, 1.905], [30.047, 1.912], [30.041, 1.993], [30.003, 1.905]]]}') AS w \gset
UPDATE geoetl.area SET name = 'Renamed By A Writer' WHERE area_id = :w;
RESET ROLE;
SELECT geoetl._package_slug(:w) AS written_by_writer;

TRUNCATE geoetl.job, geoetl.package_resource, geoetl.package, geoetl.source RESTART IDENTITY;
DELETE FROM geoetl.area WHERE area_id IN (:town, :st, :stars, :long, :k1, :k2, :k3, :a2, :w);
DROP ROLE pkgn_writer;
