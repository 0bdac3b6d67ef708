// One pass over an ESPI Atom feed: entries with their links and small resources, and every
// IntervalBlock's readings as they stream by. The scan checks the structure and the numbers
// (a reading without timePeriod, fractional epoch seconds, an empty ReadingType, ...) and
// throws Error(data_corrupted) naming the file and the entry; it knows nothing of how entries
// link to one another (espi/feed_index.h) and keeps nothing once an entry is handed on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/cancel.h"

namespace geoetl::espi {

// The ESPI resource an entry's content holds.
enum class Resource { none, usage_point, meter_reading, reading_type, local_time, interval_block };
const char* resource_name(Resource r);

// One IntervalReading as written: value and cost not yet scaled.
struct RawReading {
  int block = 0, index = 0;         // 1-based: its IntervalBlock in the entry, itself in the block
  int64_t start = 0, duration = 0;  // duration >= 0 (0: a warning, see espi.h)
  double value = 0;
  std::optional<double> cost;
  std::optional<int> quality;  // the first ReadingQuality's quality
};

// One IntervalBlock, at its end.
struct RawBlock {
  int index = 0;  // 1-based, within its entry
  std::optional<int64_t> interval_start, interval_duration;
  int64_t readings = 0;
  int64_t covered = 0;  // the readings' durations added up
};

struct ScannedEntry {
  uint32_t ordinal = 0;  // 0-based position in the file: names the entry between two passes
  int line = 0;
  std::string id;                  // atom:id
  std::optional<int64_t> updated;  // atom:updated, UTC epoch seconds
  std::string self, up;
  std::vector<std::string> related;
  Resource resource = Resource::none;
  int64_t readings = 0;  // in its IntervalBlocks

  // UsagePoint
  std::optional<int> service_kind;
  // ReadingType
  std::optional<int> uom, flow, power_of_ten, currency, default_quality;
  std::optional<int64_t> interval_length;
  // LocalTimeParameters
  std::optional<int64_t> tz_offset, dst_offset;
  std::optional<uint32_t> dst_start_rule, dst_end_rule;

  // How messages name it: its id, else its self href, else its line.
  std::string label() const;
};

class FeedVisitor {
 public:
  virtual ~FeedVisitor() = default;
  virtual void entry_begin(uint32_t /*ordinal*/) {}
  virtual void reading(const RawReading& /*reading*/) {}
  virtual void block_end(const RawBlock& /*block*/) {}
  // The entry with all its links and fields (they may follow its content in the file).
  virtual void entry_end(const ScannedEntry& /*entry*/) {}
};

// Reads the feed on `fd` from offset 0 and reports it to `visitor`. Throws Error(data_corrupted)
// when the file is not well-formed XML, not an Atom feed, or an entry is malformed;
// Error(cancelled) when `cancel` asks. Returns the number of entries.
uint32_t scan_feed(int fd, const std::string& path, FeedVisitor& visitor,
                   const CancelToken& cancel);

}  // namespace geoetl::espi
