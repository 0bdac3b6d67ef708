// Green Button (NAESB REQ.21 ESPI) files: Atom feeds (http://www.w3.org/2005/Atom) whose entries
// hold ESPI resources (http://naesb.org/espi), read as a stream with libxml2 (its SAX2 parser,
// espi/xml_parser.h, which measured 2-3 times as fast as its xmlTextReader here).
//
// Vocabulary. An entry's `link`s name it (`self`) and its neighbours (`up`, `related`); entries
// are joined by these hrefs only, never by their order or nesting in the file:
//   UsagePoint   -related-> LocalTimeParameters  (its self; or the LTP whose up is the UP's self)
//   UsagePoint   -related-> the MeterReading collection, the MeterReading's `up`
//                           (or the MeterReading whose up is <UsagePoint self>/MeterReading)
//   MeterReading -related-> ReadingType          (its self; or the ReadingType whose up is the MR)
//   MeterReading -related-> the IntervalBlock collection, each block entry's `up`
//                           (or the block whose up is <MeterReading self>/IntervalBlock)
// An entry's content may hold several IntervalBlocks; a block holds IntervalReadings.
// Elements are matched by namespace URI, never by prefix (espi:, ns0: and default namespaces
// all work).
//
// Two passes over the file, with only metadata in memory (a 100 MB feed parses in flat memory):
// the first reads the small entries and their links and checks every IntervalBlock and reading
// (structure and numbers); the second, only once the first found the whole file good, reads the
// IntervalBlocks again and delivers the readings. A bad file therefore never delivers any
// reading.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "espi/local_time.h"

namespace geoetl {

// One IntervalReading, in the units of its ReadingType.
struct EspiReading {
  std::string usage_point;         // the UsagePoint entry's self href
  std::string reading_type;        // the ReadingType entry's self href
  int flow = 0;                    // flowDirection: 1 forward, 19 reverse, 4 net, 0 absent
  int uom = 0;                     // uom code: 72 Wh, 169 therm, 119 ft3, ...
  std::string unit;                // "Wh", "therm", "ft3", ... or "uom:<code>" (espi/codes.h)
  int64_t start = 0;               // timePeriod start, UTC epoch seconds
  int64_t duration = 0;            // timePeriod duration, seconds (0 happens: see parse_espi_file)
  double value = 0;                // value x 10^powerOfTenMultiplier
  std::optional<double> cost;      // cost / 100,000, in `currency`
  std::string currency;            // ISO 4217 code of the ReadingType's currency ("" if none)
  std::optional<int> quality;      // ReadingQuality/quality, else the ReadingType's defaultQuality
  std::optional<int64_t> updated;  // its IntervalBlock entry's atom:updated, UTC epoch seconds
  std::optional<EspiLocalTime> local_time;  // its UsagePoint's LocalTimeParameters
};

struct EspiUsagePoint {
  std::string href;      // self href
  std::string entry_id;  // atom:id
  int kind = -1;         // ServiceCategory kind: 0 electricity, 1 gas, 2 water, ...; -1 absent
  std::optional<EspiLocalTime> local_time;  // its LocalTimeParameters (a warning when absent)
  int64_t readings = 0;                     // IntervalReadings delivered for it
};

struct EspiReadingType {
  std::string href;      // self href
  std::string entry_id;  // atom:id
  int flow = 0;          // flowDirection (0 absent)
  int uom = 0;
  std::string unit;
  int power_of_ten = 0;   // powerOfTenMultiplier (0 absent)
  int currency_code = 0;  // ISO 4217 numeric (0 absent)
  std::string currency;   // its alphabetic code
  std::optional<int> default_quality;
  std::optional<int64_t> interval_length;  // seconds
};

struct EspiWarning {
  std::string entry_id;  // the entry's atom:id (or its self href, or "line N")
  std::string message;
};

struct EspiSummary {
  std::vector<EspiUsagePoint> usage_points;    // in file order
  std::vector<EspiReadingType> reading_types;  // in file order
  int64_t readings = 0;                        // IntervalReadings in the file
  std::optional<int64_t> min_start, max_end;   // over every reading (UTC epoch s); none if 0
  std::vector<EspiWarning> warnings;           // at most 1,000 ...
  int64_t warnings_left_out = 0;               // ... and how many more there were
};

// Reads the ESPI feed in `path`. Throws Error:
//  - invalid_argument: an empty path; not_found / io_error: the file cannot be opened or read;
//  - data_corrupted (the message names the file and the entry): not well-formed XML (a truncated
//    file included), a DOCTYPE, not an Atom feed, no ESPI content, an entry holding two kinds of
//    resource, two entries with one self href, an empty ReadingType (no uom), an IntervalReading
//    without timePeriod, start, duration or value, a negative duration, a time that is not whole
//    seconds (fractional epoch seconds), a start before 1900 or after 9999, a duration of more
//    than a year (366 days), a number
//    that does not parse, a bad DST rule, an IntervalBlock no MeterReading links to, a
//    MeterReading with blocks but no ReadingType or UsagePoint;
//  - cancelled, whenever `cancel` asks (checked every few thousand XML nodes).
// A block whose readings do not add up to its interval's duration, a reading of duration 0 (the
// Green Button sample of a whole year has one, on its fall-back day; it is delivered as written),
// a reading that starts before the one before it in its block ends (the same sample writes an
// hour of its spring-forward day twice; both are delivered, in file order), or a UsagePoint
// without LocalTimeParameters, is a warning in the summary, not an error.
//
// `on_reading` is called for every IntervalReading, only after the first pass found the whole
// file good; the reading it gets is valid during the call only. An empty `on_reading` runs the
// first pass alone (a check and a summary). Once readings flow, an exception (cancellation, the
// callback's own, the file changed on disk between the passes) ends the delivery part-way: the
// caller discards what it received (e.g. rolls its transaction back). `on_checked`, when given,
// gets the summary once the first pass found the file good, before the first reading (its
// reading counts are the file's; the warnings are all there).
EspiSummary parse_espi_file(const std::string& path,
                            const std::function<void(const EspiReading&)>& on_reading,
                            const CancelToken& cancel,
                            const std::function<void(const EspiSummary&)>& on_checked = {});

}  // namespace geoetl
