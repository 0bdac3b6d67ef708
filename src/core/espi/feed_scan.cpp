#include "espi/feed_scan.h"

#include <charconv>
#include <cstring>
#include <string_view>

#include "base/error.h"
#include "espi/numbers.h"
#include "espi/vocabulary.h"
#include "espi/xml_parser.h"

namespace geoetl::espi {
namespace {

// The events of one pass, turned into entries, blocks and readings for the visitor.
class FeedScanner : public XmlEvents {
 public:
  FeedScanner(int fd, const std::string& path, FeedVisitor& visitor, const CancelToken& cancel)
      : xml_(fd, path, cancel), path_(path), visitor_(visitor) {
    atom_ns_ = xml_.intern(atom_ns);
    espi_ns_ = xml_.intern(espi_ns);
    for (size_t i = 0; i < espi_count; i++) espi_[i] = xml_.intern(espi_names[i].text);
    for (size_t i = 0; i < atom_count; i++) atom_[i] = xml_.intern(atom_names[i].text);
  }

  uint32_t run();

  void start_element(const xmlChar* name, const xmlChar* ns, int nb_attributes,
                     const xmlChar** attributes) override;
  void end_element() override;
  void characters(const xmlChar* text, int length) override;

 private:
  Tag classify(const xmlChar* name, const xmlChar* ns) const;
  void read_link(int nb_attributes, const xmlChar** attributes);
  void start(Tag t);
  void end(Tag t, Tag parent);
  void assign(Tag t, Tag parent, std::string_view text);
  void end_reading();
  void end_entry();
  void set_resource(Resource r);

  int int_field(std::string_view text, const char* what);
  int64_t time_field(std::string_view text, const char* what, bool of_reading = false);
  double number_field(std::string_view text, const char* what);
  uint32_t rule_field(std::string_view text, const char* what);
  std::string where() const;  // "IntervalReading 3 of IntervalBlock 2"
  [[noreturn]] void fail(const std::string& what) const;

  XmlParser xml_;
  std::string path_;
  FeedVisitor& visitor_;
  const xmlChar* atom_ns_;
  const xmlChar* espi_ns_;
  const xmlChar* espi_[espi_count];
  const xmlChar* atom_[atom_count];

  std::vector<Tag> stack_;
  std::string text_;
  bool feed_closed_ = false;
  uint32_t entries_ = 0;
  ScannedEntry entry_;
  RawBlock block_;
  RawReading reading_;
  bool has_time_period_ = false, has_start_ = false, has_duration_ = false, has_value_ = false;
  int blocks_in_entry_ = 0;
};

uint32_t FeedScanner::run() {
  xml_.parse(*this);
  if (!feed_closed_)  // libxml2 reports truncation itself; this is a safety net
    throw Error(ErrorKind::data_corrupted, "ESPI file \"" + path_ + "\" ends before its feed");
  return entries_;
}

bool same_uri(const xmlChar* ns, const xmlChar* interned, const char* uri) {
  return ns == interned ||
         (ns != nullptr && std::strcmp(reinterpret_cast<const char*>(ns), uri) == 0);
}

Tag FeedScanner::classify(const xmlChar* name, const xmlChar* ns) const {
  if (same_uri(ns, espi_ns_, espi_ns)) {
    for (size_t i = 0; i < espi_count; i++)
      if (espi_[i] == name) return espi_names[i].tag;
  } else if (same_uri(ns, atom_ns_, atom_ns)) {
    for (size_t i = 0; i < atom_count; i++)
      if (atom_[i] == name) return atom_names[i].tag;
  }
  return Tag::other;
}

void FeedScanner::start_element(const xmlChar* name, const xmlChar* ns, int nb_attributes,
                                const xmlChar** attributes) {
  Tag t = classify(name, ns);
  if (stack_.empty()) {
    if (t != Tag::feed)
      throw Error(ErrorKind::data_corrupted, "ESPI file \"" + path_ + "\" is not an Atom feed",
                  std::string("its root element is <") + reinterpret_cast<const char*>(name) +
                      "> in namespace \"" + (ns ? reinterpret_cast<const char*>(ns) : "") + "\"",
                  std::string("a Green Button feed is a <feed> in namespace ") + atom_ns);
  } else if (!allowed(stack_.back(), t)) {
    t = Tag::other;
  }
  stack_.push_back(t);
  if (t == Tag::link) read_link(nb_attributes, attributes);
  start(t);
}

void FeedScanner::end_element() {
  const Tag t = stack_.back();
  stack_.pop_back();
  end(t, stack_.empty() ? Tag::other : stack_.back());
}

void FeedScanner::characters(const xmlChar* text, int length) {
  if (text_.size() + static_cast<size_t>(length) > 4096) fail("a value is longer than 4096 bytes");
  text_.append(reinterpret_cast<const char*>(text), static_cast<size_t>(length));
}

// rel and href, attributes without a namespace.
void FeedScanner::read_link(int nb_attributes, const xmlChar** a) {
  std::string_view rel;
  std::string href;
  for (int i = 0; i < nb_attributes; i++, a += 5) {
    if (a[2] != nullptr) continue;
    const std::string_view value(reinterpret_cast<const char*>(a[3]),
                                 static_cast<size_t>(a[4] - a[3]));
    const char* local = reinterpret_cast<const char*>(a[0]);
    if (std::strcmp(local, "rel") == 0) rel = value;
    if (std::strcmp(local, "href") == 0) href = std::string(trim(value));
  }
  if (rel == "self") {
    entry_.self = std::move(href);
  } else if (rel == "up") {
    entry_.up = std::move(href);
  } else if (rel == "related") {
    entry_.related.push_back(std::move(href));
  }
}

void FeedScanner::start(Tag t) {
  if (is_leaf(t)) {
    text_.clear();
    wants_text = true;
    return;
  }
  switch (t) {
    case Tag::entry:
      entry_ = ScannedEntry();
      entry_.ordinal = entries_++;
      entry_.line = xml_.line();
      blocks_in_entry_ = 0;
      visitor_.entry_begin(entry_.ordinal);
      break;
    case Tag::usage_point:
    case Tag::meter_reading:
    case Tag::reading_type:
    case Tag::local_time: set_resource(resource_of(t)); break;
    case Tag::interval_block:
      set_resource(Resource::interval_block);
      block_ = RawBlock();
      block_.index = ++blocks_in_entry_;
      break;
    case Tag::interval_reading:
      reading_ = RawReading();
      has_time_period_ = has_start_ = has_duration_ = has_value_ = false;
      break;
    case Tag::time_period: has_time_period_ = true; break;
    default: break;
  }
}

void FeedScanner::end(Tag t, Tag parent) {
  if (is_leaf(t)) {
    wants_text = false;
    assign(t, parent, trim(text_));
    return;
  }
  switch (t) {
    case Tag::interval_reading: end_reading(); break;
    case Tag::interval_block: visitor_.block_end(block_); break;
    case Tag::reading_type:
      if (!entry_.uom) fail("its ReadingType has no uom (an empty ReadingType)");
      break;
    case Tag::entry: end_entry(); break;
    case Tag::feed: feed_closed_ = true; break;
    default: break;
  }
}

void FeedScanner::assign(Tag t, Tag parent, std::string_view text) {
  switch (parent) {
    case Tag::time_period:
      if (t == Tag::start) {
        reading_.start = time_field(text, "timePeriod start", true);
        has_start_ = true;
      } else {
        reading_.duration = time_field(text, "timePeriod duration", true);
        has_duration_ = true;
      }
      break;
    case Tag::interval_reading:
      if (t == Tag::value) {
        reading_.value = number_field(text, "value");
        has_value_ = true;
      } else {
        reading_.cost = number_field(text, "cost");
      }
      break;
    case Tag::reading_quality:
      if (!reading_.quality) reading_.quality = int_field(text, "ReadingQuality quality");
      break;
    case Tag::interval:
      if (t == Tag::start)
        block_.interval_start = time_field(text, "interval start");
      else
        block_.interval_duration = time_field(text, "interval duration");
      break;
    case Tag::entry:
      if (t == Tag::id) {
        entry_.id = std::string(text);
      } else if (int64_t v; parse_iso_datetime(text, &v)) {
        entry_.updated = v;
      } else {
        fail("its updated \"" + std::string(text) + "\" is not an ISO 8601 date-time");
      }
      break;
    case Tag::service_category:
      entry_.service_kind = int_field(text, "ServiceCategory kind");
      break;
    case Tag::reading_type:
      switch (t) {
        case Tag::uom: entry_.uom = int_field(text, "uom"); break;
        case Tag::flow_direction: entry_.flow = int_field(text, "flowDirection"); break;
        case Tag::power_of_ten:
          entry_.power_of_ten = int_field(text, "powerOfTenMultiplier");
          if (*entry_.power_of_ten < -18 || *entry_.power_of_ten > 18)
            fail("its powerOfTenMultiplier " + std::string(text) + " is not within -18..18");
          break;
        case Tag::currency: entry_.currency = int_field(text, "currency"); break;
        case Tag::default_quality:
          entry_.default_quality = int_field(text, "defaultQuality");
          break;
        default: entry_.interval_length = time_field(text, "intervalLength"); break;
      }
      break;
    case Tag::local_time:
      switch (t) {
        case Tag::tz_offset: entry_.tz_offset = time_field(text, "tzOffset"); break;
        case Tag::dst_offset: entry_.dst_offset = time_field(text, "dstOffset"); break;
        case Tag::dst_start_rule: entry_.dst_start_rule = rule_field(text, "dstStartRule"); break;
        default: entry_.dst_end_rule = rule_field(text, "dstEndRule"); break;
      }
      break;
    default: break;
  }
}

void FeedScanner::end_reading() {
  if (!has_time_period_) fail(where() + " has no timePeriod");
  if (!has_start_) fail(where() + " has no timePeriod start");
  if (!has_duration_) fail(where() + " has no timePeriod duration");
  if (reading_.duration < 0)
    fail(where() + " has a negative timePeriod duration (" + std::to_string(reading_.duration) +
         " s)");
  if (!has_value_) fail(where() + " has no value");
  // 1900-01-01 .. 9999-12-31 and at most a leap year: what PostgreSQL and the tables hold
  if (reading_.start < -2208988800 || reading_.start > 253402300799)
    fail(where() + " starts at " + std::to_string(reading_.start) +
         " s, not between 1900 and 9999");
  if (reading_.duration > 31622400)
    fail(where() + " lasts " + std::to_string(reading_.duration) + " s, more than a year");
  reading_.block = block_.index;
  reading_.index = static_cast<int>(++block_.readings);
  block_.covered += reading_.duration;
  entry_.readings++;
  visitor_.reading(reading_);
}

void FeedScanner::end_entry() {
  if (entry_.resource == Resource::interval_block && entry_.up.empty())
    fail("its IntervalBlocks have no up link to name their MeterReading");
  visitor_.entry_end(entry_);
}

void FeedScanner::set_resource(Resource r) {
  if (entry_.resource == Resource::none) {
    entry_.resource = r;
  } else if (entry_.resource != r || r != Resource::interval_block) {
    fail(std::string("it holds a ") + resource_name(r) + " beside a " +
         resource_name(entry_.resource) + " (one resource per entry)");
  }
}

int FeedScanner::int_field(std::string_view text, const char* what) {
  int64_t v;
  if (!parse_int64(text, &v) || v < INT32_MIN || v > INT32_MAX)
    fail(std::string(what) + " \"" + std::string(text) + "\" is not an integer");
  return static_cast<int>(v);
}

int64_t FeedScanner::time_field(std::string_view text, const char* what, bool of_reading) {
  int64_t v;
  if (parse_int64(text, &v)) return v;
  double d;
  const std::string field =
      std::string(what) + (of_reading ? " of " + where() : "") + " \"" + std::string(text) + "\"";
  if (parse_double(text, &d))
    fail(field + " is not whole seconds (ESPI times are integer epoch seconds)");
  fail(field + " is not a number");
}

double FeedScanner::number_field(std::string_view text, const char* what) {
  int64_t i;
  if (parse_int64(text, &i)) return static_cast<double>(i);
  double d;
  if (!parse_double(text, &d))
    fail(std::string(what) + " \"" + std::string(text) + "\" of " + where() + " is not a number");
  return d;
}

uint32_t FeedScanner::rule_field(std::string_view text, const char* what) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (text.empty() || text.size() > 8 || ec != std::errc() || end != text.data() + text.size())
    fail(std::string(what) + " \"" + std::string(text) + "\" is not 8 hex digits");
  return v;
}

std::string FeedScanner::where() const {
  return "IntervalReading " + std::to_string(block_.readings + 1) + " of IntervalBlock " +
         std::to_string(block_.index);
}

void FeedScanner::fail(const std::string& what) const {
  throw Error(ErrorKind::data_corrupted,
              "ESPI file \"" + path_ + "\": entry " + entry_.label() + ": " + what,
              "line " + std::to_string(xml_.line()));
}

}  // namespace

const char* resource_name(Resource r) {
  switch (r) {
    case Resource::usage_point: return "UsagePoint";
    case Resource::meter_reading: return "MeterReading";
    case Resource::reading_type: return "ReadingType";
    case Resource::local_time: return "LocalTimeParameters";
    case Resource::interval_block: return "IntervalBlock";
    case Resource::none: break;
  }
  return "no resource";
}

std::string ScannedEntry::label() const {
  if (!id.empty()) return id;
  if (!self.empty()) return self;
  return "at line " + std::to_string(line);
}

uint32_t scan_feed(int fd, const std::string& path, FeedVisitor& visitor,
                   const CancelToken& cancel) {
  FeedScanner scanner(fd, path, visitor, cancel);
  return scanner.run();
}

}  // namespace geoetl::espi
