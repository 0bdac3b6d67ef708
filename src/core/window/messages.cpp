#include "window/messages.h"

#include <cstring>

namespace geoetl::window {

void MessageWriter::part(uint32_t part) {
  tag(Tag::part);
  put(part);
}

void MessageWriter::group(uint32_t id, std::string_view text) {
  tag(Tag::group);
  put(id);
  put(static_cast<uint32_t>(text.size()));
  out_->append(text.data(), text.size());
}

void MessageWriter::null_group(uint32_t id) {
  tag(Tag::null_group);
  put(id);
}

void MessageWriter::window(int64_t start, uint32_t id, const Moments* moments) {
  tag(Tag::window);
  put(start);
  put(id);
  out_->append(reinterpret_cast<const char*>(moments), sizeof(Moments) * columns_);
}

void MessageWriter::late(int64_t start) {
  tag(Tag::late);
  put(start);
}

void MessageWriter::disordered() {
  tag(Tag::disordered);
}

template <typename T>
bool MessageReader::get(T* v) {
  if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
  std::memcpy(v, p_, sizeof(T));
  p_ += sizeof(T);
  return true;
}

MessageReader::Result MessageReader::next(Message* m) {
  if (p_ == end_) return Result::end;
  *m = Message{};
  m->tag = static_cast<Tag>(*p_++);
  bool ok = true;
  switch (m->tag) {
    case Tag::part: ok = get(&m->part); break;
    case Tag::group: {
      uint32_t len = 0;
      ok = get(&m->id) && get(&len) && static_cast<size_t>(end_ - p_) >= len;
      if (ok) {
        m->text = std::string_view(p_, len);
        p_ += len;
      }
      break;
    }
    case Tag::null_group: ok = get(&m->id); break;
    case Tag::window: {
      const size_t bytes = sizeof(Moments) * columns_;
      ok = get(&m->start) && get(&m->id) && static_cast<size_t>(end_ - p_) >= bytes;
      if (ok) {
        std::memcpy(static_cast<void*>(moments_), p_, bytes);
        p_ += bytes;
        m->moments = moments_;
      }
      break;
    }
    case Tag::late: ok = get(&m->start); break;
    case Tag::disordered: break;
    default: ok = false;
  }
  if (ok) return Result::message;
  p_ = end_;
  return Result::malformed;
}

}  // namespace geoetl::window
