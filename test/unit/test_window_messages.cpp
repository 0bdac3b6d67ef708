#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "window/messages.h"

using namespace geoetl::window;

namespace {

Moments moments(double x, double y) {
  Moments m;
  m.add(x);
  m.add(y);
  return m;
}

std::vector<Message> read_all(const std::string& batch, size_t columns, MessageReader::Result* last,
                              std::vector<std::vector<Moments>>* windows) {
  std::vector<Moments> scratch(columns);
  MessageReader reader(batch.data(), batch.size(), columns, scratch.data());
  std::vector<Message> out;
  Message m;
  while ((*last = reader.next(&m)) == MessageReader::Result::message) {
    out.push_back(m);
    if (m.tag == Tag::window) windows->emplace_back(m.moments, m.moments + columns);
  }
  return out;
}

}  // namespace

TEST(WindowMessages, EveryTagRoundTrips) {
  std::string batch;
  MessageWriter w(&batch, 2);
  const Moments cols[2] = {moments(1, 3), moments(-5, 2.5e10)};
  w.part(7);
  w.group(0, "sensor-α");
  w.null_group(1);
  w.group(2, "");
  w.window(-600'000'000, 2, cols);
  w.late(1'700'000'000'000'000);
  w.disordered();

  MessageReader::Result last;
  std::vector<std::vector<Moments>> windows;
  const std::vector<Message> got = read_all(batch, 2, &last, &windows);
  EXPECT_EQ(last, MessageReader::Result::end);
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0].tag, Tag::part);
  EXPECT_EQ(got[0].part, 7u);
  EXPECT_EQ(got[1].tag, Tag::group);
  EXPECT_EQ(got[1].id, 0u);
  EXPECT_EQ(got[1].text, "sensor-α");
  EXPECT_EQ(got[2].tag, Tag::null_group);
  EXPECT_EQ(got[2].id, 1u);
  EXPECT_EQ(got[3].tag, Tag::group);
  EXPECT_EQ(got[3].text, "");
  EXPECT_EQ(got[4].tag, Tag::window);
  EXPECT_EQ(got[4].start, -600'000'000);
  EXPECT_EQ(got[4].id, 2u);
  ASSERT_EQ(windows.size(), 1u);
  for (int c = 0; c < 2; c++) {
    EXPECT_EQ(windows[0][c].n, cols[c].n);
    EXPECT_EQ(windows[0][c].sx, cols[c].sx);
    EXPECT_EQ(windows[0][c].sxx, cols[c].sxx);
    EXPECT_EQ(windows[0][c].min, cols[c].min);
    EXPECT_EQ(windows[0][c].max, cols[c].max);
  }
  EXPECT_EQ(got[5].tag, Tag::late);
  EXPECT_EQ(got[5].start, 1'700'000'000'000'000);
  EXPECT_EQ(got[6].tag, Tag::disordered);
}

TEST(WindowMessages, EmptyBatchHasNoMessage) {
  MessageReader::Result last;
  std::vector<std::vector<Moments>> windows;
  EXPECT_TRUE(read_all("", 1, &last, &windows).empty());
  EXPECT_EQ(last, MessageReader::Result::end);
}

TEST(WindowMessages, EveryTruncationIsMalformed) {
  std::string batch;
  MessageWriter w(&batch, 3);
  const Moments cols[3] = {moments(1, 2), moments(3, 4), moments(5, 6)};
  w.group(4, "abc");
  w.window(42, 4, cols);
  // Cut inside the second message at every byte: the first still reads, then malformed.
  const size_t first = 1 + 4 + 4 + 3;
  for (size_t cut = first + 1; cut < batch.size(); cut++) {
    MessageReader::Result last;
    std::vector<std::vector<Moments>> windows;
    const std::vector<Message> got = read_all(batch.substr(0, cut), 3, &last, &windows);
    EXPECT_EQ(last, MessageReader::Result::malformed) << "cut at " << cut;
    ASSERT_EQ(got.size(), 1u) << "cut at " << cut;
    EXPECT_TRUE(windows.empty());
  }
  // A group whose length runs past the batch.
  for (size_t cut = 1; cut < first; cut++) {
    MessageReader::Result last;
    std::vector<std::vector<Moments>> windows;
    EXPECT_TRUE(read_all(batch.substr(0, cut), 3, &last, &windows).empty());
    EXPECT_EQ(last, MessageReader::Result::malformed) << "cut at " << cut;
  }
}

TEST(WindowMessages, UnknownTagIsMalformedAndEndsTheBatch) {
  std::string batch;
  MessageWriter w(&batch, 1);
  w.late(5);
  batch.push_back('x');
  w.late(6);
  MessageReader::Result last;
  std::vector<std::vector<Moments>> windows;
  const std::vector<Message> got = read_all(batch, 1, &last, &windows);
  EXPECT_EQ(last, MessageReader::Result::malformed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].start, 5);
}
