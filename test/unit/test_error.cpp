#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/cancel.h"
#include "base/error.h"

using geoetl::CancelToken;
using geoetl::Error;
using geoetl::ErrorKind;

TEST(Error, CarriesKindMessageDetailAndHint) {
  Error e(ErrorKind::data_corrupted, "file is truncated", "read 10 of 20 bytes",
          "download it again");
  EXPECT_EQ(e.kind(), ErrorKind::data_corrupted);
  EXPECT_STREQ(e.what(), "file is truncated");
  EXPECT_EQ(e.detail(), "read 10 of 20 bytes");
  EXPECT_EQ(e.hint(), "download it again");
}

TEST(Error, DetailAndHintDefaultToEmpty) {
  Error e(ErrorKind::internal, "oops");
  EXPECT_TRUE(e.detail().empty());
  EXPECT_TRUE(e.hint().empty());
}

TEST(Error, IsCaughtAsStdException) {
  try {
    throw Error(ErrorKind::io_error, "disk full");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "disk full");
    return;
  }
  FAIL() << "not caught as std::exception";
}

TEST(Error, EveryKindHasADistinctName) {
  const ErrorKind kinds[] = {ErrorKind::invalid_argument, ErrorKind::not_found,
                             ErrorKind::data_corrupted,   ErrorKind::io_error,
                             ErrorKind::network_error,    ErrorKind::permission_denied,
                             ErrorKind::not_supported,    ErrorKind::limit_exceeded,
                             ErrorKind::cancelled,        ErrorKind::internal};
  std::set<std::string> names;
  for (ErrorKind k : kinds) names.insert(geoetl::error_kind_name(k));
  EXPECT_EQ(names.size(), std::size(kinds));
  EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(CancelToken, DefaultTokenNeverCancels) {
  CancelToken token;
  EXPECT_FALSE(token.requested());
  EXPECT_NO_THROW(token.check());
}

TEST(CancelToken, CheckThrowsCancelledOnceRequested) {
  bool flag = false;
  CancelToken token([&] { return flag; });
  EXPECT_NO_THROW(token.check());
  flag = true;
  try {
    token.check();
    FAIL() << "check() did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
}
