#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <new>

#include "base/error.h"
#include "base/selftest.h"

namespace st = geoetl::selftest;
using geoetl::Error;
using geoetl::ErrorKind;

TEST(Selftest, RaiseThrowsTheNamedKindWithDetailAndHint) {
  try {
    st::raise("data_corrupted");
    FAIL() << "raise returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
    EXPECT_NE(std::string(e.what()).find("data_corrupted"), std::string::npos);
    EXPECT_FALSE(e.detail().empty());
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_EQ(st::live_objects(), 0);
}

TEST(Selftest, RaiseThrowsStandardAndForeignExceptions) {
  EXPECT_THROW(st::raise("std_exception"), std::runtime_error);
  EXPECT_THROW(st::raise("bad_alloc"), std::bad_alloc);
  bool foreign_caught = false;
  try {
    st::raise("foreign");
  } catch (const std::exception&) {
    FAIL() << "foreign exception must not derive from std::exception";
  } catch (...) {
    foreign_caught = true;
  }
  EXPECT_TRUE(foreign_caught);
  EXPECT_EQ(st::live_objects(), 0);
}

TEST(Selftest, RaiseRejectsUnknownNamesWithAListOfValidOnes) {
  try {
    st::raise("no_such_thing");
    FAIL() << "raise returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(e.hint().find("invalid_argument"), std::string::npos);
    EXPECT_NE(e.hint().find("bad_alloc"), std::string::npos);
  }
}

TEST(Selftest, WaitStopsSoonAfterCancellation) {
  int calls = 0;
  geoetl::CancelToken token([&] { return ++calls > 5; });
  const auto start = std::chrono::steady_clock::now();
  try {
    st::wait(60, token);
    FAIL() << "wait was not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(st::live_objects(), 0);
}

TEST(Selftest, WaitOfZeroSecondsReturnsAtOnce) {
  EXPECT_EQ(st::wait(0, {}), 0);
}

TEST(Selftest, WaitRejectsNegativeHugeAndNaNDurations) {
  EXPECT_THROW(st::wait(-1, {}), Error);
  EXPECT_THROW(st::wait(3601, {}), Error);
  EXPECT_THROW(st::wait(std::nan(""), {}), Error);
}
