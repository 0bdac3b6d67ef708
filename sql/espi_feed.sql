-- Green Button (ESPI) feeds: adding one (every bad input), where its token goes (nobody but
-- superusers reads it, no job row holds it), who may do what, the fetch range, raw file names.
-- Fetching and parsing against the test ESPI server are test/e2e/espi.sh.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
\i sql/include/err.psql
\getenv fixtures GEOETL_FIXTURES
CREATE FUNCTION pg_temp.e(stmt text) RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.err(stmt) $$;
\i sql/include/as_role.psql
TRUNCATE geoetl.job RESTART IDENTITY;
ALTER TABLE geoetl.espi_feed ALTER feed_id RESTART;
CREATE ROLE espi_admin IN ROLE geoetl_admin;
CREATE ROLE espi_writer IN ROLE geoetl_writer;
CREATE ROLE espi_reader IN ROLE geoetl_reader;
\set url 'http://127.0.0.1:9/DataCustodian/espi/1_1/resource/Batch/Subscription/5/UsagePoint/12'

-- an admin adds a feed; the usage point comes from the URL
BEGIN;
SELECT pg_temp.as_role('espi_admin', format('SELECT geoetl.add_espi_feed(%L, %L, %L)', 'acme-01', :'url', 'secret-token-1'));
COMMIT;
SELECT feed_id, project_id, usage_point, end_of_day_utc_hour, history, created_by FROM geoetl.espi_feed;
-- the token is in geoetl.secret, which only superusers read
SELECT name, value = 'secret-token-1' AS token_kept FROM geoetl.secret WHERE name LIKE 'espi%';
BEGIN;
SELECT pg_temp.as_role(r, 'SELECT count(*) FROM geoetl.secret') FROM unnest('{espi_admin,espi_reader}'::text[]) r;
-- readers see feeds (no credential is in them)
SELECT pg_temp.as_role('espi_reader', 'SELECT count(*) FROM geoetl.espi_feed WHERE usage_point = ''12''');
-- nobody but the extension's functions writes feeds
SELECT pg_temp.as_role('espi_admin', 'UPDATE geoetl.espi_feed SET url = ''http://127.0.0.1:9/x/UsagePoint/1''');
SELECT pg_temp.as_role('espi_admin', 'INSERT INTO geoetl.espi_feed (project_id, usage_point, url, created_by) VALUES (''x'', ''1'', ''http://127.0.0.1:9/UsagePoint/1'', ''espi_admin'')');
-- writers and readers may not add, change or remove feeds, nor fetch or parse
SELECT r, pg_temp.as_role(r, format('SELECT geoetl.add_espi_feed(%L, %L, %L)', 'w', :'url', 't'))
  FROM unnest('{espi_writer,espi_reader}'::text[]) r;
SELECT r, pg_temp.as_role(r, 'SELECT geoetl.set_espi_token(1, ''stolen'')'),
       pg_temp.as_role(r, 'SELECT geoetl.remove_espi_feed(1)'),
       pg_temp.as_role(r, 'SELECT geoetl.fetch_espi()'),
       pg_temp.as_role(r, 'SELECT geoetl.parse_espi()')
  FROM unnest('{espi_writer,espi_reader}'::text[]) r;
-- nor call what sends the token
SELECT pg_temp.as_role('espi_writer', 'SELECT * FROM geoetl._espi_fetch(1, now() - interval ''1 day'', now(), ''espi/raw/x_1_0.xml'', NULL)');
COMMIT;

-- every bad input, with what it says
SELECT pg_temp.e(format('SELECT geoetl.add_espi_feed(%s, %s)', p, u))
  FROM (VALUES ('NULL', quote_literal(:'url')), ('''p''', 'NULL'), ('''bad project''', quote_literal(:'url')),
               ('''_p''', quote_literal(:'url')), (quote_literal(repeat('p', 101)), quote_literal(:'url')),
               ('''p''', '''ftp://127.0.0.1/UsagePoint/1'''), ('''p''', '''127.0.0.1/UsagePoint/1'''),
               ('''p''', '''http://127.0.0.1:9/espi/1_1/resource/Batch/Subscription/5'''),
               ('''p''', '''http://127.0.0.1:9/espi/1_1/resource/UsagePoint/'''),
               ('''p''', '''http://127.0.0.1:9/espi/1_1/resource/UsagePoint/a_b'''),
               ('''acme-01''', quote_literal(:'url'))) t(p, u);
SELECT pg_temp.e(format('SELECT geoetl.add_espi_feed(%L, %L, %s)', 'p', :'url', a))
  FROM (VALUES ('NULL, 24'), ('NULL, -1'), ('NULL, NULL'), ('NULL, 7, ''0 days'''), ('NULL, 7, ''21 years'''),
               ('NULL, 7, NULL'), ('NULL, 7, ''4 years'', ''-----BEGIN CERTIFICATE-----''' ),
               ('NULL, 7, ''4 years'', ''not pem'', ''not pem either''')) t(a);
-- a failed add leaves nothing: no feed, no secret
SELECT count(*) AS feeds FROM geoetl.espi_feed;
SELECT count(*) AS secrets FROM geoetl.secret WHERE name LIKE 'espi%';
-- a query string and a trailing slash are fine; the hour and history as asked
SELECT geoetl.add_espi_feed('acme-02', 'https://127.0.0.1:9/espi/1_1/resource/Batch/Subscription/5/UsagePoint/u-7.x/?page=1',
                            end_of_day_utc_hour => 5, history => '30 days') AS second \gset
SELECT project_id, usage_point, end_of_day_utc_hour, history FROM geoetl.espi_feed WHERE feed_id = :second;
-- a feed without a token has no secret; mutual TLS keeps a certificate and a key
SELECT geoetl.add_espi_feed('acme-03', :'url', 'tok', client_cert => E'-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n',
                            client_key => E'-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n') AS third \gset
SELECT replace(name, :'third', '<third>') AS name FROM geoetl.secret WHERE name LIKE 'espi%' ORDER BY name;

-- the token changes (NULL removes it); a feed that does not exist says so
SELECT geoetl.set_espi_token(1, 'secret-token-2');
SELECT value = 'secret-token-2' AS changed FROM geoetl.secret WHERE name = 'espi_token:1';
SELECT pg_temp.e('SELECT geoetl.set_espi_token(99, ''x'')');
SELECT pg_temp.e('SELECT geoetl.fetch_espi(99)');

-- fetching enqueues one job per feed, deduplicated; no job row holds a token
SELECT geoetl.fetch_espi() AS enqueued, geoetl.fetch_espi() AS again, geoetl.fetch_espi(1, '2012-03-10 06:59:59Z') AS one;
SELECT kind, f.project_id, args - 'feed_id' AS args, regexp_replace(dedupe_key, '^espi_fetch:[0-9]+', 'espi_fetch:<feed>') AS dedupe_key
  FROM geoetl.job j JOIN geoetl.espi_feed f ON f.feed_id = (j.args->>'feed_id')::bigint ORDER BY job_id;
SELECT count(*) AS rows_with_a_token FROM geoetl.job j WHERE j::text LIKE '%secret-token%';

-- the end of a fetch: two days back, one second before the end-of-day hour (UTC)
SELECT at, h, geoetl.espi_fetch_end(at, h)
  FROM (VALUES ('2026-12-07 19:00+00'::timestamptz, 7), ('2026-12-07 03:00+00', 7), ('2026-03-01 00:00+00', 0),
               ('2024-03-01 12:00+00', 23)) t(at, h);

-- raw file names: project, usage point, run
SELECT k, (SELECT row(n.project_id, n.usage_point, n.run) FROM geoetl._espi_raw_name(k) n) AS parsed
  FROM (VALUES ('espi/raw/acme-01_12_0.xml'), ('espi/raw/my_project_u-7.x_15.xml'), ('espi/raw/acme_12.xml'),
               ('espi/raw/acme_12_x.xml'), ('espi/raw/sub/acme_12_0.xml'), ('espi/acme_12_0.xml'),
               ('espi/raw/acme_12_0.xml.part'), ('espi/raw/_12_0.xml')) t(k);
-- parsing a file that is not there
SELECT set_config('geoetl.store', :'fixtures' || '/store', false) IS NOT NULL AS store;
SELECT pg_temp.e('SELECT geoetl.parse_espi(''espi/raw/nothing_1_0.xml'')');

-- a feed's fetch writes its own raw files only
SELECT pg_temp.e(format('SELECT * FROM geoetl._espi_fetch(1, now() - interval ''1 day'', now(), %L, NULL)', k))
  FROM (VALUES ('espi/raw/acme-01_99_0.xml'), ('espi/raw/acme-01_12_x.xml'), ('espi/raw/acme-01_12_.xml'),
               ('packages/x/datapackage.json'), ('espi/raw/acme-01_12_0.xml.tmp')) t(k);
-- loading a raw file: its readings; a read-only transaction refuses it; a broken file loads nothing
\i sql/include/write_file.psql
SELECT $f$<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id>
<entry><id>up</id><link rel="self" href="/RetailCustomer/1/UsagePoint/9"/><link rel="related" href="/RetailCustomer/1/UsagePoint/9/MeterReading"/>
 <content><UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint></content></entry>
<entry><id>ltp</id><link rel="self" href="/LocalTimeParameters/1"/><link rel="up" href="/RetailCustomer/1/UsagePoint/9"/>
 <content><LocalTimeParameters xmlns="http://naesb.org/espi"><dstEndRule>B40E2000</dstEndRule><dstOffset>3600</dstOffset><dstStartRule>360E2000</dstStartRule><tzOffset>-18000</tzOffset></LocalTimeParameters></content></entry>
<entry><id>mr</id><link rel="self" href="/RetailCustomer/1/UsagePoint/9/MeterReading/1"/><link rel="up" href="/RetailCustomer/1/UsagePoint/9/MeterReading"/>
 <link rel="related" href="/ReadingType/4"/><content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>
<entry><id>rt</id><link rel="self" href="/ReadingType/4"/><content><ReadingType xmlns="http://naesb.org/espi"><flowDirection>1</flowDirection><powerOfTenMultiplier>-3</powerOfTenMultiplier><uom>72</uom></ReadingType></content></entry>
<entry><id>ib</id><link rel="self" href="/RetailCustomer/1/UsagePoint/9/MeterReading/1/IntervalBlock/1"/><link rel="up" href="/RetailCustomer/1/UsagePoint/9/MeterReading/1/IntervalBlock"/><updated>2012-10-24T00:00:00Z</updated>
 <content><IntervalBlock xmlns="http://naesb.org/espi"><interval><duration>7200</duration><start>1331449200</start></interval>
  <IntervalReading><timePeriod><duration>3600</duration><start>1331449200</start></timePeriod><value>1500</value></IntervalReading>
  <IntervalReading><cost>7000</cost><timePeriod><duration>3600</duration><start>1331452800</start></timePeriod><value>2500</value></IntervalReading>
 </IntervalBlock></content></entry>
</feed>
$f$ AS feed \gset
SELECT pg_temp.write_file(:'fixtures' || '/store/espi/raw/load_9_0.xml', :'feed');
SELECT pg_temp.write_file(:'fixtures' || '/store/espi/raw/load_9_1.xml', replace(:'feed', '<start>1331452800</start>', '<start>1331452800.5</start>'));
BEGIN READ ONLY;
SELECT pg_temp.e('SELECT geoetl._espi_load(''espi/raw/load_9_0.xml'', NULL, ''load'', 0, now())');
ROLLBACK;
SELECT geoetl._espi_load('espi/raw/load_9_0.xml', NULL, 'load', 0, now()) - 'sha256' AS loaded;
SELECT usage_point, reading_type, flow, unit, start_at, duration, local_start, value, cost, quality, run, updated
  FROM geoetl.energy_reading WHERE project_id = 'load' ORDER BY start_at;
SELECT regexp_replace(pg_temp.e('SELECT geoetl._espi_load(''espi/raw/load_9_1.xml'', NULL, ''load'', 1, now())'), '"/[^"]*/store/', '"<store>/') AS broken;
SELECT count(*) AS still_two FROM geoetl.energy_reading WHERE project_id = 'load';
DELETE FROM geoetl.energy_reading WHERE project_id = 'load';
-- a file in espi/raw/ whose name is not <project>_<usage point>_<run>.xml is named, not parsed
SELECT pg_temp.write_file(:'fixtures' || '/store/espi/raw/no-run-number.xml', :'feed');
SELECT pg_temp.e('SELECT geoetl.parse_espi(''espi/raw/no-run-number.xml'')');
SELECT pg_temp.e('SELECT geoetl._job_espi_parse(''{"key": "espi/raw/no-run-number.xml"}'')');
SELECT pg_temp.e('SELECT geoetl._job_espi_parse(''{"key": "espi/raw/gone_9_0.xml"}'')');

-- removing a feed removes its credentials; its runs would stay
SELECT geoetl.remove_espi_feed(:third) AS removed, geoetl.remove_espi_feed(:third) AS again;
SELECT name FROM geoetl.secret WHERE name LIKE 'espi%' ORDER BY name;

TRUNCATE geoetl.job RESTART IDENTITY;
SELECT geoetl.remove_espi_feed(f.feed_id) FROM geoetl.espi_feed f;
DROP ROLE espi_admin, espi_writer, espi_reader;
