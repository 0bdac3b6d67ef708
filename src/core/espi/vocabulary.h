// The elements an ESPI feed is read by: Atom's and ESPI's names, where each may stand (an element
// anywhere else is "other", as is everything below it), and which ones hold a value as text.
#pragma once

#include <cstddef>
#include <cstdint>

#include "espi/feed_scan.h"

namespace geoetl::espi {

inline constexpr const char* atom_ns = "http://www.w3.org/2005/Atom";
inline constexpr const char* espi_ns = "http://naesb.org/espi";

enum class Tag : uint8_t {
  other,
  feed,
  entry,
  id,
  updated,
  link,
  content,
  usage_point,
  service_category,
  kind,
  meter_reading,
  reading_type,
  local_time,
  interval_block,
  interval,
  interval_reading,
  time_period,
  start,
  duration,
  value,
  cost,
  reading_quality,
  quality,
  uom,
  flow_direction,
  power_of_ten,
  currency,
  default_quality,
  interval_length,
  tz_offset,
  dst_offset,
  dst_start_rule,
  dst_end_rule,
};

struct Name {
  const char* text;
  Tag tag;
};

// Most frequent first: a reading's elements are looked up millions of times.
inline constexpr Name espi_names[] = {
    {"start", Tag::start},
    {"duration", Tag::duration},
    {"timePeriod", Tag::time_period},
    {"value", Tag::value},
    {"IntervalReading", Tag::interval_reading},
    {"cost", Tag::cost},
    {"ReadingQuality", Tag::reading_quality},
    {"quality", Tag::quality},
    {"IntervalBlock", Tag::interval_block},
    {"interval", Tag::interval},
    {"UsagePoint", Tag::usage_point},
    {"ServiceCategory", Tag::service_category},
    {"kind", Tag::kind},
    {"MeterReading", Tag::meter_reading},
    {"ReadingType", Tag::reading_type},
    {"LocalTimeParameters", Tag::local_time},
    {"uom", Tag::uom},
    {"flowDirection", Tag::flow_direction},
    {"powerOfTenMultiplier", Tag::power_of_ten},
    {"currency", Tag::currency},
    {"defaultQuality", Tag::default_quality},
    {"intervalLength", Tag::interval_length},
    {"tzOffset", Tag::tz_offset},
    {"dstOffset", Tag::dst_offset},
    {"dstStartRule", Tag::dst_start_rule},
    {"dstEndRule", Tag::dst_end_rule},
};
inline constexpr Name atom_names[] = {
    {"entry", Tag::entry}, {"link", Tag::link}, {"content", Tag::content},
    {"id", Tag::id},       {"feed", Tag::feed}, {"updated", Tag::updated},
};
inline constexpr size_t espi_count = sizeof espi_names / sizeof espi_names[0];
inline constexpr size_t atom_count = sizeof atom_names / sizeof atom_names[0];

// Whether `child` means what its name says under `parent`; anywhere else it is Tag::other (as is
// everything below an unknown element).
inline bool allowed(Tag parent, Tag child) {
  switch (parent) {
    case Tag::feed: return child == Tag::entry;
    case Tag::entry:
      return child == Tag::id || child == Tag::updated || child == Tag::link ||
             child == Tag::content;
    case Tag::content:
      return child == Tag::usage_point || child == Tag::meter_reading ||
             child == Tag::reading_type || child == Tag::local_time || child == Tag::interval_block;
    case Tag::usage_point: return child == Tag::service_category;
    case Tag::service_category: return child == Tag::kind;
    case Tag::reading_type:
      return child == Tag::uom || child == Tag::flow_direction || child == Tag::power_of_ten ||
             child == Tag::currency || child == Tag::default_quality ||
             child == Tag::interval_length;
    case Tag::local_time:
      return child == Tag::tz_offset || child == Tag::dst_offset || child == Tag::dst_start_rule ||
             child == Tag::dst_end_rule;
    case Tag::interval_block: return child == Tag::interval || child == Tag::interval_reading;
    case Tag::interval: return child == Tag::start || child == Tag::duration;
    case Tag::interval_reading:
      return child == Tag::time_period || child == Tag::value || child == Tag::cost ||
             child == Tag::reading_quality;
    case Tag::time_period: return child == Tag::start || child == Tag::duration;
    case Tag::reading_quality: return child == Tag::quality;
    default: return false;
  }
}

// Elements whose text is a value.
inline bool is_leaf(Tag t) {
  switch (t) {
    case Tag::id:
    case Tag::updated:
    case Tag::kind:
    case Tag::start:
    case Tag::duration:
    case Tag::value:
    case Tag::cost:
    case Tag::quality:
    case Tag::uom:
    case Tag::flow_direction:
    case Tag::power_of_ten:
    case Tag::currency:
    case Tag::default_quality:
    case Tag::interval_length:
    case Tag::tz_offset:
    case Tag::dst_offset:
    case Tag::dst_start_rule:
    case Tag::dst_end_rule: return true;
    default: return false;
  }
}

inline Resource resource_of(Tag t) {
  switch (t) {
    case Tag::usage_point: return Resource::usage_point;
    case Tag::meter_reading: return Resource::meter_reading;
    case Tag::reading_type: return Resource::reading_type;
    case Tag::local_time: return Resource::local_time;
    case Tag::interval_block: return Resource::interval_block;
    default: return Resource::none;
  }
}

}  // namespace geoetl::espi
