// The first pass's memory: the small entries (UsagePoint, MeterReading, ReadingType,
// LocalTimeParameters), the IntervalBlock entries grouped by their up href, the readings' count
// and time range, and the warnings; then the links between them (espi/espi.h tells which).
// Nothing here grows with the number of readings: one small record per entry at most.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "espi/espi.h"
#include "espi/feed_scan.h"

namespace geoetl::espi {

// Where one MeterReading's readings go: everything but the reading's own numbers.
struct ReadingTarget {
  EspiReading base;  // usage_point, reading_type, flow, uom, unit, currency
  int power_of_ten = 0;
  std::optional<int> default_quality;
};

class FeedIndex : public FeedVisitor {
 public:
  explicit FeedIndex(std::string path) : path_(std::move(path)) {}

  void reading(const RawReading& r) override;
  void block_end(const RawBlock& b) override;
  void entry_end(const ScannedEntry& e) override;

  // After the pass: joins the entries by their links and returns the summary. Throws
  // Error(data_corrupted) for a feed with no ESPI content or links that do not resolve.
  EspiSummary resolve(uint32_t entries);

  // After resolve(): the target of the entry at `ordinal`, nullptr for an entry without readings.
  const ReadingTarget* target_of(uint32_t ordinal) const {
    return ordinal < entry_target_.size() && entry_target_[ordinal] >= 0
               ? &targets_[static_cast<size_t>(entry_target_[ordinal])]
               : nullptr;
  }
  // The atom:updated of the IntervalBlock entry at `ordinal`, if it has one.
  std::optional<int64_t> updated_of(uint32_t ordinal) const {
    const auto it = block_updated_.find(ordinal);
    return it == block_updated_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }

 private:
  struct BlockGroup {  // the IntervalBlock entries sharing one up href
    std::string up, first_entry;
    int64_t readings = 0;
    std::vector<uint32_t> ordinals;
  };
  using HrefMap = std::unordered_map<std::string, int32_t>;  // href -> index, -2 if ambiguous

  void warn(const std::string& entry, const std::string& message);
  [[noreturn]] void fail(const std::string& entry, const std::string& what) const;
  static void add(HrefMap& map, const std::string& href, int32_t index);
  int32_t find(const HrefMap& map, const std::string& href, const std::string& from,
               const char* what) const;
  void check_unique_selves() const;
  int32_t reading_type_of(const ScannedEntry& mr, const HrefMap& by_self,
                          const HrefMap& by_up) const;
  std::optional<EspiLocalTime> local_time_of(const ScannedEntry& up) const;
  EspiReadingType reading_type_summary(const ScannedEntry& rt) const;

  std::string path_;
  std::vector<ScannedEntry> usage_points_, meter_readings_, reading_types_, local_times_;
  std::vector<BlockGroup> groups_;
  std::unordered_map<std::string, size_t> group_of_up_;
  std::vector<std::string> block_warnings_;  // of the entry being read
  int64_t previous_end_ = 0;                 // the latest end of the block's readings so far
  bool any_espi_ = false;

  EspiSummary summary_;
  std::vector<ReadingTarget> targets_;
  std::vector<int32_t> entry_target_;  // per entry ordinal: index into targets_, or -1
  std::unordered_map<uint32_t, int64_t> block_updated_;  // IntervalBlock entry -> atom:updated
};

}  // namespace geoetl::espi
