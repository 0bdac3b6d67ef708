#include "espi/feed_index.h"

#include <algorithm>

#include "base/error.h"
#include "espi/codes.h"

namespace geoetl::espi {
namespace {

constexpr size_t max_warnings = 1000;

}  // namespace

void FeedIndex::reading(const RawReading& r) {
  summary_.readings++;
  const int64_t end = r.start + r.duration;
  if (!summary_.min_start || r.start < *summary_.min_start) summary_.min_start = r.start;
  if (!summary_.max_end || end > *summary_.max_end) summary_.max_end = end;
  const std::string reading = "IntervalReading " + std::to_string(r.index) + " of IntervalBlock " +
                              std::to_string(r.block) + " (start " + std::to_string(r.start);
  if (r.duration == 0) block_warnings_.push_back(reading + ") has a duration of 0 s");
  // the Green Button sample of a whole year writes one hour of its spring-forward day twice
  if (r.index > 1 && r.start < previous_end_)
    block_warnings_.push_back(reading + ", duration " + std::to_string(r.duration) +
                              " s) starts before the reading before it ends (" +
                              std::to_string(previous_end_) +
                              "): of readings with the same start and duration the first counts");
  previous_end_ = std::max(r.index > 1 ? previous_end_ : end, end);
}

void FeedIndex::block_end(const RawBlock& b) {
  const std::string block = "IntervalBlock " + std::to_string(b.index);
  if (!b.interval_start || !b.interval_duration) {
    block_warnings_.push_back(block + " has no interval start and duration");
  } else if (b.covered != *b.interval_duration) {
    block_warnings_.push_back(block + " (interval start " + std::to_string(*b.interval_start) +
                              ", duration " + std::to_string(*b.interval_duration) + " s): its " +
                              std::to_string(b.readings) + " readings cover " +
                              std::to_string(b.covered) + " s");
  }
}

void FeedIndex::entry_end(const ScannedEntry& e) {
  for (const std::string& w : block_warnings_) warn(e.label(), w);
  block_warnings_.clear();
  switch (e.resource) {
    case Resource::usage_point: usage_points_.push_back(e); break;
    case Resource::meter_reading: meter_readings_.push_back(e); break;
    case Resource::reading_type: reading_types_.push_back(e); break;
    case Resource::local_time: local_times_.push_back(e); break;
    case Resource::interval_block: {
      auto [it, added] = group_of_up_.try_emplace(e.up, groups_.size());
      if (added) groups_.push_back({e.up, e.label(), 0, {}});
      groups_[it->second].readings += e.readings;
      groups_[it->second].ordinals.push_back(e.ordinal);
      if (e.updated) block_updated_.emplace(e.ordinal, *e.updated);
      break;
    }
    case Resource::none: return;
  }
  any_espi_ = true;
}

void FeedIndex::warn(const std::string& entry, const std::string& message) {
  if (summary_.warnings.size() < max_warnings) {
    summary_.warnings.push_back({entry, message});
  } else {
    summary_.warnings_left_out++;
  }
}

void FeedIndex::fail(const std::string& entry, const std::string& what) const {
  throw Error(ErrorKind::data_corrupted,
              "ESPI file \"" + path_ + "\": entry " + entry + ": " + what, "",
              "Atom entries are joined by their link hrefs (self, up, related)");
}

void FeedIndex::add(HrefMap& map, const std::string& href, int32_t index) {
  if (href.empty()) return;
  auto [it, added] = map.try_emplace(href, index);
  if (!added && it->second != index) it->second = -2;
}

int32_t FeedIndex::find(const HrefMap& map, const std::string& href, const std::string& from,
                        const char* what) const {
  const auto it = map.find(href);
  if (it == map.end()) return -1;
  if (it->second == -2)
    fail(from, std::string("more than one ") + what + " links to \"" + href + "\"");
  return it->second;
}

void FeedIndex::check_unique_selves() const {
  std::unordered_map<std::string, std::string> seen;
  for (const auto* list : {&usage_points_, &meter_readings_, &reading_types_, &local_times_})
    for (const ScannedEntry& e : *list) {
      if (e.self.empty()) continue;
      auto [it, added] = seen.try_emplace(e.self, e.label());
      if (!added)
        fail(e.label(), "entry " + it->second + " has the same self href \"" + e.self + "\"");
    }
}

// The MeterReading's ReadingType: the one whose self it relates to, else the one whose up it is.
int32_t FeedIndex::reading_type_of(const ScannedEntry& mr, const HrefMap& by_self,
                                   const HrefMap& by_up) const {
  int32_t found = -1;
  for (const std::string& href : mr.related) {
    const int32_t rt = find(by_self, href, mr.label(), "ReadingType");
    if (rt < 0 || rt == found) continue;
    if (found >= 0) fail(mr.label(), "its MeterReading relates to two ReadingTypes");
    found = rt;
  }
  if (found < 0 && !mr.self.empty()) found = find(by_up, mr.self, mr.label(), "ReadingType");
  if (found < 0)
    fail(mr.label(), "its MeterReading has IntervalBlocks but no ReadingType links to it");
  return found;
}

// The UsagePoint's LocalTimeParameters: the one whose self it relates to, else whose up it is.
std::optional<EspiLocalTime> FeedIndex::local_time_of(const ScannedEntry& up) const {
  const ScannedEntry* found = nullptr;
  for (const ScannedEntry& lt : local_times_) {
    const bool related = !lt.self.empty() && std::find(up.related.begin(), up.related.end(),
                                                       lt.self) != up.related.end();
    if (related || (!found && !up.self.empty() && lt.up == up.self)) found = &lt;
    if (related) break;
  }
  if (found == nullptr) return std::nullopt;
  if (!found->tz_offset) fail(found->label(), "its LocalTimeParameters have no tzOffset");
  EspiLocalTime t;
  t.tz_offset = static_cast<int32_t>(*found->tz_offset);
  t.dst_offset = static_cast<int32_t>(found->dst_offset.value_or(0));
  t.dst_start_rule = found->dst_start_rule.value_or(0xFFFFFFFF);
  t.dst_end_rule = found->dst_end_rule.value_or(0xFFFFFFFF);
  if (*found->tz_offset < -86400 || *found->tz_offset > 86400 || t.dst_offset < -86400 ||
      t.dst_offset > 86400)
    fail(found->label(), "its tzOffset or dstOffset is more than a day");
  try {
    decode_dst_rule(t.dst_start_rule);
    decode_dst_rule(t.dst_end_rule);
  } catch (const Error& e) {
    fail(found->label(), e.what());
  }
  return t;
}

EspiReadingType FeedIndex::reading_type_summary(const ScannedEntry& rt) const {
  EspiReadingType s;
  s.href = rt.self;
  s.entry_id = rt.id;
  s.flow = rt.flow.value_or(0);
  s.uom = rt.uom.value_or(0);
  s.unit = espi_unit_name(s.uom);
  s.power_of_ten = rt.power_of_ten.value_or(0);
  s.currency_code = rt.currency.value_or(0);
  s.currency = espi_currency_code(s.currency_code);
  s.default_quality = rt.default_quality;
  s.interval_length = rt.interval_length;
  return s;
}

EspiSummary FeedIndex::resolve(uint32_t entries) {
  if (!any_espi_)
    throw Error(
        ErrorKind::data_corrupted, "ESPI file \"" + path_ + "\" holds no ESPI content",
        std::to_string(entries) +
            " Atom entries, none with a UsagePoint, MeterReading, "
            "ReadingType, LocalTimeParameters or IntervalBlock in namespace http://naesb.org/espi",
        "a Green Button feed's entries hold ESPI resources in their content");
  check_unique_selves();
  for (const ScannedEntry& up : usage_points_)
    if (up.self.empty()) fail(up.label(), "its UsagePoint has no self link");
  for (const ScannedEntry& rt : reading_types_)
    if (rt.self.empty()) fail(rt.label(), "its ReadingType has no self link");

  HrefMap up_related, up_collection, rt_self, rt_up, mr_related, mr_collection;
  for (size_t i = 0; i < usage_points_.size(); i++) {
    const auto index = static_cast<int32_t>(i);
    for (const std::string& href : usage_points_[i].related) add(up_related, href, index);
    add(up_collection, usage_points_[i].self + "/MeterReading", index);
  }
  for (size_t i = 0; i < reading_types_.size(); i++) {
    add(rt_self, reading_types_[i].self, static_cast<int32_t>(i));
    add(rt_up, reading_types_[i].up, static_cast<int32_t>(i));
  }
  for (size_t i = 0; i < meter_readings_.size(); i++) {
    const auto index = static_cast<int32_t>(i);
    for (const std::string& href : meter_readings_[i].related) add(mr_related, href, index);
    if (!meter_readings_[i].self.empty())
      add(mr_collection, meter_readings_[i].self + "/IntervalBlock", index);
  }

  for (const ScannedEntry& rt : reading_types_)
    summary_.reading_types.push_back(reading_type_summary(rt));
  for (const ScannedEntry& up : usage_points_) {
    EspiUsagePoint s;
    s.href = up.self;
    s.entry_id = up.id;
    s.kind = up.service_kind.value_or(-1);
    s.local_time = local_time_of(up);
    if (!s.local_time) warn(up.label(), "its UsagePoint has no LocalTimeParameters");
    summary_.usage_points.push_back(std::move(s));
  }

  entry_target_.assign(entries, -1);
  std::unordered_map<int32_t, int32_t> target_of_mr;
  for (const BlockGroup& g : groups_) {
    int32_t mr = find(mr_related, g.up, g.first_entry, "MeterReading");
    if (mr < 0) mr = find(mr_collection, g.up, g.first_entry, "MeterReading");
    if (mr < 0)
      fail(g.first_entry,
           "no MeterReading entry links to its IntervalBlocks' up href \"" + g.up + "\"");
    auto [it, added] = target_of_mr.try_emplace(mr, static_cast<int32_t>(targets_.size()));
    if (added) {
      const ScannedEntry& m = meter_readings_[static_cast<size_t>(mr)];
      const ScannedEntry& rt =
          reading_types_[static_cast<size_t>(reading_type_of(m, rt_self, rt_up))];
      int32_t up = find(up_related, m.up, m.label(), "UsagePoint");
      if (up < 0) up = find(up_collection, m.up, m.label(), "UsagePoint");
      if (up < 0)
        fail(m.label(), "no UsagePoint entry links to its MeterReading's up href \"" + m.up + "\"");
      const EspiReadingType s = reading_type_summary(rt);
      ReadingTarget t;
      t.base.usage_point = usage_points_[static_cast<size_t>(up)].self;
      t.base.local_time = summary_.usage_points[static_cast<size_t>(up)].local_time;
      t.base.reading_type = s.href;
      t.base.flow = s.flow;
      t.base.uom = s.uom;
      t.base.unit = s.unit;
      t.base.currency = s.currency;
      t.power_of_ten = s.power_of_ten;
      t.default_quality = s.default_quality;
      targets_.push_back(std::move(t));
    }
    const ReadingTarget& t = targets_[static_cast<size_t>(it->second)];
    for (EspiUsagePoint& s : summary_.usage_points)
      if (s.href == t.base.usage_point) s.readings += g.readings;
    for (uint32_t ordinal : g.ordinals) entry_target_[ordinal] = it->second;
  }
  return summary_;
}

}  // namespace geoetl::espi
