// The messages a parallel read's workers send the leader (aggregate_window's direct read in
// parts), written into batches by MessageWriter and read back by MessageReader: the one place
// that knows their tags and layout. Both ends run the same build, so values travel in the
// machine's own byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "window/window.h"

namespace geoetl::window {

enum class Tag : char {
  part = 'p',        // the messages that follow are of part `part`, whose groups count from 0
  group = 'g',       // group `id` of the current part is `text`
  null_group = 'n',  // group `id` of the current part is NULL
  window = 'w',      // a closed window: `start`, group `id`, one Moments per column
  late = 'l',        // window `start` had rows after it was closed: read it again afterwards
  disordered = 'd',  // rows out of time order beyond the budget: the read in parts is void
};

struct Message {
  Tag tag = Tag::part;
  uint32_t part = 0;                 // part
  uint32_t id = 0;                   // group, null_group, window
  std::string_view text;             // group: points into the batch
  int64_t start = 0;                 // window, late
  const Moments* moments = nullptr;  // window: the reader's aligned copy, one per column
};

class MessageWriter {
 public:
  MessageWriter(std::string* batch, size_t columns) : out_(batch), columns_(columns) {}

  void part(uint32_t part);
  void group(uint32_t id, std::string_view text);
  void null_group(uint32_t id);
  void window(int64_t start, uint32_t id, const Moments* moments);
  void late(int64_t start);
  void disordered();

 private:
  template <typename T>
  void put(const T& v) {
    out_->append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void tag(Tag t) { out_->push_back(static_cast<char>(t)); }

  std::string* out_;
  size_t columns_;
};

class MessageReader {
 public:
  // `moments`: room for `columns` Moments, where each window's values are copied (aligned).
  MessageReader(const char* batch, size_t len, size_t columns, Moments* moments)
      : p_(batch), end_(batch + len), columns_(columns), moments_(moments) {}

  enum class Result { message, end, malformed };
  // The next message of the batch; malformed for an unknown tag or a truncated message (the
  // reader then stays at the end).
  Result next(Message* m);

 private:
  template <typename T>
  bool get(T* v);

  const char* p_;
  const char* end_;
  size_t columns_;
  Moments* moments_;
};

}  // namespace geoetl::window
