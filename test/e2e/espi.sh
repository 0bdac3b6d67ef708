#!/usr/bin/env bash
# Green Button (ESPI) end to end, on a cluster and a test ESPI server of its own
# (test/fixtures/espi_server.py on 127.0.0.1, its clock moved day by day), as an admin with a
# worker: run 0 then run 1 continue without gap or overlap; a second fetch on the same day stores
# nothing and keeps the run number; a killed fetch leaves no file and no run; 401 says the token
# was refused and set_espi_token mends it; 500, truncated, not-XML and not-Atom answers store
# nothing; totals per usage point equal an independent sum of the file (Python's ElementTree);
# 23- and 25-hour local days; forward and reverse kept apart; a file dropped in by hand is parsed,
# a broken one loads nothing, a newer reading replaces an older one and never the reverse. With
# ../shared/data/espi, the public samples too: DST days, gas in therms, five usage points
# (skipped, and said so, without it). Prints TAP.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GEOETL_PGDIR=${TMPDIR:-/tmp}/geoetl-espi-test-$$
PGC=$ROOT/scripts/pgcluster.sh
WORK=$GEOETL_PGDIR.work
STORE=$WORK/store
FEEDS=$WORK/feeds
SAMPLES=$(cd "$ROOT/.." && pwd)/shared/data/espi
MAKE_FEED="python3 $ROOT/test/fixtures/espi_make.py"
SUM="python3 $ROOT/test/e2e/lib/espi_sum.py"
TOKEN=e2e-token
. "$ROOT/test/e2e/lib/tap.sh"
exec 3>&2
cleanup() {
  kill $(jobs -p) 2>/dev/null
  [[ -n ${KEEP:-} ]] && return
  "$PGC" destroy >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
q() { "$PGC" psql -XAtqc "$1"; }
as() { "$PGC" psql -XAtq -v ON_ERROR_STOP=1 -U espi_admin -c "$1"; }
is() { local got; got=$(q "$1"); [[ $got == "$2" ]] || { echo "  got: $got, want: $2" >&3; return 1; }; }
same() { [[ $1 == "$2" ]] || { echo "  got: $1, want: $2" >&3; return 1; }; }
work() { as "CALL geoetl.run_jobs(max_seconds => 60)" >/dev/null 2>&1; }  # the admin's worker
hurry() { q "UPDATE geoetl.job SET run_after = now() WHERE state = 'pending'" >/dev/null; }  # skip the backoff
control() { curl -s -X POST "$ESPI/control/$1" >/dev/null; }
clock() { control "clock?now=$1"; }
fault() { control "fault?$1"; }
raw_files() { (cd "$STORE" && find espi -type f 2>/dev/null | sort | tr '\n' ' '); }
staged() { find "$STORE/.staging" -type f 2>/dev/null | wc -l; }
runs() { q "SELECT count(*) FROM geoetl.espi_run WHERE project_id = '$1'"; }
# the fetch ending at the end-of-day hour two days before the server's clock, as a cron job run then
fetch() { as "SELECT geoetl.fetch_espi($1, geoetl.espi_fetch_end('$2', 7))" >/dev/null; }
last_error() { q "SELECT errors->-1->>'sqlstate' || ' ' || (errors->-1->>'message') FROM geoetl.job WHERE kind = '$1' ORDER BY job_id DESC LIMIT 1"; }
sum_file() { $SUM "$1" | awk -v up="$2" -v flow="$3" '$1 == up && $2 == flow { print $3 " " $4 }'; }
sum_table() {  # project usage_point flow -> "readings total"
  q "SELECT count(*) || ' ' || to_char(sum(value), 'FM999999999990.000000') FROM geoetl.energy_reading
     WHERE project_id = '$1' AND usage_point = '$2' AND flow = $3"
}

mkdir -p "$STORE" "$FEEDS"
chmod -R a+rwX "$WORK"
chown postgres "$STORE" 2>/dev/null || chmod 1777 "$STORE"

# the test server: subscription 2 serves $FEEDS/<id>.xml; subscription 1 the samples
samples=()
if [[ -f $SAMPLES/hourlyForMonthMar.xml ]]; then
  k=0
  for f in hourlyForMonthMar hourlyForMonthNov 15minLP_15Days 1hrLP_32DaysFiveUsagePoints_M Gas \
           Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012; do
    k=$((k + 1)); samples+=(--feed "1/$k=$SAMPLES/$f.xml")
  done
fi
python3 "$ROOT/test/fixtures/espi_server.py" "$WORK/espi.port" --token "$TOKEN" --expired-token old-token \
  --log "$WORK/requests.jsonl" --dir "2=$FEEDS" "${samples[@]}" >/dev/null 2>&1 &
for _ in $(seq 100); do [[ -s $WORK/espi.port ]] && break; sleep 0.1; done
[[ -s $WORK/espi.port ]] || { echo "not ok 1 - the test ESPI server starts"; exit 1; }
ESPI=http://127.0.0.1:$(cat "$WORK/espi.port")
URL=$ESPI/DataCustodian/espi/1_1/resource/Batch/Subscription

# g1: hourly, March to November 2012 in US Pacific time, forward and reverse meters
$MAKE_FEED "$FEEDS/g1.xml" --usage-point g1 --start 2012-03-01 --days 275 --reverse

"$PGC" start >/dev/null || { echo "not ok 1 - cluster starts"; exit 1; }
{ echo "LOAD 'geoetl';"; cat <<SQL; } | "$PGC" psql -XAtq -v ON_ERROR_STOP=1 >/dev/null || { echo "not ok 1 - the cluster is set up"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION geoetl CASCADE;
ALTER SYSTEM SET geoetl.store = '$STORE';
ALTER SYSTEM SET geoetl.allowed_sources = '$ESPI/';
ALTER SYSTEM SET geoetl.http_timeout = 5;
SELECT pg_reload_conf();
CREATE ROLE espi_admin LOGIN IN ROLE geoetl_admin;
CREATE ROLE espi_reader LOGIN IN ROLE geoetl_reader;
SQL
for _ in $(seq 100); do [[ $(q "SELECT current_setting('geoetl.store', true)") == "$STORE" ]] && break; sleep 0.1; done

G1=$(as "SELECT geoetl.add_espi_feed('proj', '$URL/2/UsagePoint/g1', '$TOKEN')")
check "an admin adds a feed" test -n "$G1"

# run 0: the first fetch reaches back `history`; the server's day is 2012-03-16
clock 2012-03-16T12:00:00Z
fetch "$G1" 2012-03-16T12:00:00Z
work
check "run 0 is stored as espi/raw/proj_g1_0.xml" same "$(raw_files)" "espi/raw/proj_g1_0.xml "
check "... recorded with the requested range (4 years back to 2012-03-14 06:59:59)" is \
  "SELECT run, requested_from, requested_to FROM geoetl.espi_run WHERE project_id = 'proj'" \
  "0|2008-03-14 06:59:59+00|2012-03-14 06:59:59+00"
check "... its SHA-256 and size those of the file" is \
  "SELECT sha256 = '$(sha256sum "$STORE/espi/raw/proj_g1_0.xml" | cut -d' ' -f1)' AND bytes = $(stat -c %s "$STORE/espi/raw/proj_g1_0.xml") FROM geoetl.espi_run" "t"
check "the request asked published-min/max with the bearer token" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
sys.exit(not (r["published_min"] == "2008-03-14T06:59:59Z" and r["published_max"] == "2012-03-14T06:59:59Z"
              and r["token"] == "valid" and r["usage_point"] == "g1" and r["status"] == 200))' "$WORK/requests.jsonl"
check "... and it was parsed: every reading of the file is in energy_reading" is \
  "SELECT (SELECT readings FROM geoetl.espi_run WHERE run = 0) = count(*) AND count(*) > 0 FROM geoetl.energy_reading" "t"
check "... the parse recorded in espi_file" is "SELECT key, run, readings > 0 FROM geoetl.espi_file" "espi/raw/proj_g1_0.xml|0|t"

# the same day again: nothing new
fetch "$G1" 2012-03-16T12:00:00Z
work
check "a second fetch on the same day stores nothing" same "$(raw_files)" "espi/raw/proj_g1_0.xml "
check "... records no run" same "$(runs proj)" 1
check "... and says there was no new data" is \
  "SELECT result->>'state' FROM geoetl.job WHERE kind = 'espi_fetch' ORDER BY job_id DESC LIMIT 1" "no new data"

# three days later: run 1 starts where run 0's data ends
clock 2012-03-19T12:00:00Z
fetch "$G1" 2012-03-19T12:00:00Z
work
check "three days later run 1 is stored" same "$(raw_files)" "espi/raw/proj_g1_0.xml espi/raw/proj_g1_1.xml "
check "run 1 asked from the end of run 0's data (no gap)" is \
  "SELECT b.requested_from = a.data_to FROM geoetl.espi_run a, geoetl.espi_run b WHERE a.run = 0 AND b.run = 1" "t"
check "... and its data starts there (no overlap)" is \
  "SELECT b.data_from >= a.data_to FROM geoetl.espi_run a, geoetl.espi_run b WHERE a.run = 0 AND b.run = 1" "t"
check "no gap in the readings" is "SELECT count(*) FROM geoetl.energy_gaps" "0"

# a killed fetch: the server answers slowly, the worker's backend is terminated mid-download
clock 2012-03-25T12:00:00Z
fault "kind=slow&seconds=20"
fetch "$G1" 2012-03-25T12:00:00Z
as "CALL geoetl.run_jobs(max_seconds => 60)" >/dev/null 2>&1 &
W=$!
sleep 3  # the job is claimed and its request waits for the slow answer
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'espi_admin' AND query LIKE 'CALL geoetl.run_jobs%'" >/dev/null
wait "$W" 2>/dev/null
check "a killed fetch leaves no file" same "$(raw_files)" "espi/raw/proj_g1_0.xml espi/raw/proj_g1_1.xml "
check "... nothing staged" same "$(staged)" 0
check "... and no run" same "$(runs proj)" 2
control reset
work  # reclaims the job of the dead worker
hurry
work
check "the job, reclaimed, fetches run 2 (no number skipped)" same "$(raw_files)" \
  "espi/raw/proj_g1_0.xml espi/raw/proj_g1_1.xml espi/raw/proj_g1_2.xml "

# faults: nothing stored, the run number kept; then the retry stores it
clock 2012-04-02T12:00:00Z
for kind in 500 truncated not-xml not-atom; do
  fault "kind=$kind&count=20"
  fetch "$G1" 2012-04-02T12:00:00Z
  work
  check "a $kind answer stores no file" same "$(raw_files)" \
    "espi/raw/proj_g1_0.xml espi/raw/proj_g1_1.xml espi/raw/proj_g1_2.xml "
  check "... and records no run" same "$(runs proj)" 3
  case $kind in
    500) want="38000 cannot download";;
    truncated) want="38000";;  # fewer bytes than announced
    not-xml) want="XX001 an HTML page came instead of XML";;
    not-atom) want="XX001 ESPI file";;
  esac
  check "... the job says why ($(last_error espi_fetch | cut -c1-60))" test "$(last_error espi_fetch | cut -c1-${#want})" == "$want"
  control "reset"
  q "UPDATE geoetl.job SET state = 'cancelled', finished_at = now() WHERE kind = 'espi_fetch' AND state = 'pending'" >/dev/null
done

# 401: a token the API refuses
G2=$(as "SELECT geoetl.add_espi_feed('proj2', '$URL/2/UsagePoint/g1', 'old-token')")
fetch "$G2" 2012-04-02T12:00:00Z
work
check "a refused token: 42501, the token was refused" test "$(last_error espi_fetch | cut -c1-60)" == \
  "42501 the ESPI API refused feed $G2's access token (or its sco"
check "... no file, no run" same "$(runs proj2)" 0
check "... and neither the job nor its error holds the token" is \
  "SELECT count(*) FROM geoetl.job WHERE job::text LIKE '%old-token%' OR job::text LIKE '%$TOKEN%'" "0"
as "SELECT geoetl.set_espi_token($G2, '$TOKEN')" >/dev/null
hurry
work
check "set_espi_token mends it: run 0 of proj2" same "$(runs proj2)" 1

# mutual TLS: an HTTPS API that talks only to clients with a certificate its CA signed
TLS=$WORK/tls
mkdir -p "$TLS"
(cd "$TLS" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=geoetl test CA" -keyout ca.key -out ca.pem \
  && openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr \
  && printf 'subjectAltName=IP:127.0.0.1\n' >server.ext \
  && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem \
  && openssl req -newkey rsa:2048 -nodes -subj "/CN=geoetl client" -keyout client.key -out client.csr \
  && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem) >/dev/null 2>&1
python3 "$ROOT/test/fixtures/espi_server.py" "$WORK/tls.port" --token "$TOKEN" --dir "2=$FEEDS" --now 2012-04-02T12:00:00Z \
  --tls "$TLS/server.pem" "$TLS/server.key" --client-ca "$TLS/ca.pem" >/dev/null 2>&1 &
for _ in $(seq 100); do [[ -s $WORK/tls.port ]] && break; sleep 0.1; done
TLS_URL=https://127.0.0.1:$(cat "$WORK/tls.port")/DataCustodian/espi/1_1/resource/Batch/Subscription/2/UsagePoint/g1
q "ALTER SYSTEM SET geoetl.allowed_sources = '$ESPI/,https://127.0.0.1:$(cat "$WORK/tls.port")/'" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
add_tls_feed() {  # project, client certificate?, server CA?
  "$PGC" psql -XAtq -v ON_ERROR_STOP=1 -U espi_admin -v url="$TLS_URL" -v token="$TOKEN" \
    -v cert="$([[ $2 == yes ]] && cat "$TLS/client.pem")" -v key="$([[ $2 == yes ]] && cat "$TLS/client.key")" \
    -v ca="$([[ $3 == yes ]] && cat "$TLS/ca.pem")" <<SQL
SELECT geoetl.add_espi_feed('$1', :'url', :'token', client_cert => nullif(:'cert', ''), client_key => nullif(:'key', ''),
                            server_ca => nullif(:'ca', ''))
SQL
}
T1=$(add_tls_feed tls yes yes)
T2=$(add_tls_feed tls-nocert no yes)
T3=$(add_tls_feed tls-noca yes no)
for t in "$T1" "$T2" "$T3"; do fetch "$t" 2012-04-02T12:00:00Z; work; done
check "mutual TLS: the feed with a client certificate and the API's CA fetches run 0" same "$(runs tls)" 1
check "... its file is the plain API's run of the same range" is \
  "SELECT a.readings = b.readings FROM geoetl.espi_run a, geoetl.espi_run b WHERE a.project_id = 'tls' AND b.project_id = 'proj2'" t
check "without the client certificate the API refuses the connection: nothing stored" is \
  "SELECT count(*) FROM geoetl.espi_run WHERE project_id LIKE 'tls-%'" 0
check "... the jobs say why (TLS), no key or token in them" is \
  "SELECT count(*) FILTER (WHERE errors->-1->>'sqlstate' = '38000'), count(*) FILTER (WHERE job::text LIKE '%PRIVATE KEY%' OR job::text LIKE '%$TOKEN%')
     FROM geoetl.job WHERE kind = 'espi_fetch' AND args->>'feed_id' IN ('$T2', '$T3')" "2|0"
q "UPDATE geoetl.job SET state = 'cancelled', finished_at = now() WHERE kind = 'espi_fetch' AND state = 'pending'" >/dev/null

# the rest of the year, then totals against an independent sum of the whole file
clock 2012-12-31T12:00:00Z
fetch "$G1" 2012-12-31T12:00:00Z
work
check "run 3 brings the rest of the year" same "$(runs proj)" 4
check "forward totals equal an independent sum of the file" same "$(sum_table proj g1 1)" "$(sum_file "$FEEDS/g1.xml" g1 1)"
check "reverse totals too: flows are kept apart" same "$(sum_table proj g1 19)" "$(sum_file "$FEEDS/g1.xml" g1 19)"
check "the spring-forward day has 23 hours, the fall-back day 25, others 24" is \
  "SELECT string_agg(local_date || ':' || hours, ' ' ORDER BY local_date) FROM geoetl.energy_daily
    WHERE project_id = 'proj' AND flow = 1 AND local_date IN ('2012-03-10', '2012-03-11', '2012-11-04', '2012-11-05')" \
  "2012-03-10:24 2012-03-11:23 2012-11-04:25 2012-11-05:24"
check "local dates start at local midnight (08:00 UTC in March, 07:00 in summer)" is \
  "SELECT min(start_at) FILTER (WHERE local_start::date = '2012-03-05'), min(start_at) FILTER (WHERE local_start::date = '2012-07-05')
     FROM geoetl.energy_reading WHERE project_id = 'proj'" "2012-03-05 08:00:00+00|2012-07-05 07:00:00+00"
check "no gaps in the year" is "SELECT count(*) FROM geoetl.energy_gaps WHERE project_id = 'proj'" "0"
check "a reader reads readings and daily totals" test "$("$PGC" psql -XAtq -U espi_reader -c "SELECT count(*) > 0 FROM geoetl.energy_daily")" == t

# files dropped in by hand
mkdir -p "$STORE/espi/raw"
$MAKE_FEED "$STORE/espi/raw/hand_h1_0.xml" --usage-point h1 --start 2012-01-01 --days 10 --interval 900 --no-dst --tz-offset 0
head -c 20000 "$FEEDS/g1.xml" >"$STORE/espi/raw/hand_h2_0.xml"  # truncated
chmod a+rw "$STORE"/espi/raw/*
check "parse_espi() finds the two files nobody parsed" same "$(as "SELECT geoetl.parse_espi()")" 2
work
check "the good one is loaded (15-minute readings, no feed)" is \
  "SELECT count(*), count(feed_id), min(duration) FROM geoetl.energy_reading WHERE project_id = 'hand' AND usage_point = 'h1'" "960|0|00:15:00"
check "the truncated one loads nothing" is "SELECT count(*) FROM geoetl.energy_reading WHERE usage_point = 'h2'" "0"
check "... its job failed saying the file is corrupt" test "$(last_error espi_parse | cut -c1-5)" == "XX001"
check "parse_espi() again finds nothing new (the failed one waits for retry_job)" same "$(as "SELECT geoetl.parse_espi()")" 0

# a newer reading replaces the stored one; an older one does not
$MAKE_FEED "$STORE/espi/raw/hand_h1_1.xml" --usage-point h1 --start 2012-01-01 --days 1 --interval 900 --no-dst --tz-offset 0 \
  --scale 2 --updated 2013-01-01T00:00:00Z
$MAKE_FEED "$STORE/espi/raw/hand_h1_2.xml" --usage-point h1 --start 2012-01-02 --days 1 --interval 900 --no-dst --tz-offset 0 \
  --scale 3 --updated 2011-01-01T00:00:00Z
chmod a+rw "$STORE"/espi/raw/*
as "SELECT geoetl.parse_espi()" >/dev/null
work
check "a newer reading replaced the old one (run 1, twice the value)" is \
  "SELECT run, value FROM geoetl.energy_reading WHERE usage_point = 'h1' AND start_at = '2012-01-01 00:00Z'" "1|200"
check "an older one was kept out (run 0 stays)" is \
  "SELECT run, value FROM geoetl.energy_reading WHERE usage_point = 'h1' AND start_at = '2012-01-02 00:00Z'" "0|$((100 + (96 * 37) % 500))"
check "... and no reading is duplicated" is "SELECT count(*) FROM geoetl.energy_reading WHERE usage_point = 'h1'" "960"

# the public samples
if [[ ${#samples[@]} -gt 0 ]]; then
  clock 2013-06-01T00:00:00Z
  for i in 1 2 3 4 5 6; do as "SELECT geoetl.add_espi_feed('s$i', '$URL/1/UsagePoint/$i', '$TOKEN', history => '20 years')" >/dev/null; done
  as "SELECT geoetl.fetch_espi(f.feed_id, '2013-05-30 06:59:59Z') FROM geoetl.espi_feed f WHERE f.project_id LIKE 's_'" >/dev/null
  work
  check "the six samples are fetched and parsed" is "SELECT count(*) FROM geoetl.espi_file WHERE project_id LIKE 's_'" "6"
  files=(hourlyForMonthMar hourlyForMonthNov 15minLP_15Days 1hrLP_32DaysFiveUsagePoints_M Gas Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012)
  for i in 1 2 3 5 6; do
    f=$SAMPLES/${files[$((i - 1))]}.xml
    up=$($SUM "$f" | awk '{ print $1 }')
    check "${files[$((i - 1))]}: totals equal an independent sum" same "$(sum_table "s$i" "$up" 1)" "$(sum_file "$f" "$up" 1)"
  done
  check "hourlyForMonthMar: 2011-03-13 has 23 hours, the other days 24" is \
    "SELECT string_agg(DISTINCT local_date || ':' || hours, ' ') FILTER (WHERE hours <> 24), min(hours) FILTER (WHERE local_date <> '2011-03-13')
       FROM geoetl.energy_daily WHERE project_id = 's1' AND local_date BETWEEN '2011-03-01' AND '2011-03-31'" "2011-03-13:23|24"
  check "hourlyForMonthNov: 2011-11-06 has 25 hours" is \
    "SELECT hours FROM geoetl.energy_daily WHERE project_id = 's2' AND local_date = '2011-11-06'" "25"
  check "the whole-year sample's repeated hour and zero-length reading are recorded as warnings" is \
    "SELECT count(*) FILTER (WHERE w->>'message' LIKE '%starts before the reading before it ends%'),
            count(*) FILTER (WHERE w->>'message' LIKE '%duration of 0 s%')
       FROM geoetl.espi_file, jsonb_array_elements(warnings) w WHERE project_id = 's6'" "1|1"
  check "Gas: therms (uom 169), gas usage point (kind 1)" is \
    "SELECT DISTINCT r.unit, r.uom, u.kind FROM geoetl.energy_reading r JOIN geoetl.espi_usage_point u USING (project_id, usage_point) WHERE r.project_id = 's5'" "therm|169|1"
  check "the five-usage-point sample gives five usage points of 768 readings" is \
    "SELECT count(*), min(n), max(n) FROM (SELECT usage_point, count(*) n FROM geoetl.energy_reading WHERE project_id = 's4' GROUP BY 1) t" "5|768|768"
  check "... whose total is the file's" is \
    "SELECT to_char(sum(value), 'FM999999999990.000000') FROM geoetl.energy_reading WHERE project_id = 's4'" \
    "$($SUM "$SAMPLES/1hrLP_32DaysFiveUsagePoints_M.xml" | awk '{ print $4 }')"
else
  echo "# skipped: the public Green Button samples ($SAMPLES is absent: no ../shared)"
fi
finish
