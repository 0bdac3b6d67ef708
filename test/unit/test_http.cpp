#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "base/error.h"
#include "transfer/http.h"
#include "test_http_server.h"
#include "tiff_writer.h"

using namespace geoetl;

namespace {

class Http : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::ofstream(dir_->file("hello.txt")) << "hello, world";
    std::ofstream(dir_->file("big.bin")) << std::string(100000, 'x');
    server_ = new TestHttpServer(dir_->file(""));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static HttpOptions quick() {
    HttpOptions o;
    o.backoff_s = 0.01;
    o.backoff_max_s = 0.05;
    o.timeout_s = 5;
    o.allowed = [](const std::string& url) { return url.rfind(server_->url("/"), 0) == 0; };
    return o;
  }
  static std::string url(const std::string& path) { return server_->url(path); }
  static ErrorKind kind_of(const std::string& u, const HttpOptions& o,
                           const CancelToken& cancel = CancelToken()) {
    try {
      http_get(u, o, cancel);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;  // no error: never expected by these tests
  }
  static TempDir* dir_;
  static TestHttpServer* server_;
};
TempDir* Http::dir_ = nullptr;
TestHttpServer* Http::server_ = nullptr;

TEST_F(Http, GetsABodyWithItsHeaders) {
  const HttpResponse r = http_get(url("/hello.txt"), quick(), CancelToken());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");
  EXPECT_EQ(r.content_length, 12);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_NE(r.header("content-type"), nullptr);
  EXPECT_EQ(*r.header("content-type"), "application/octet-stream");
}

TEST_F(Http, SendsTheGivenHeaders) {
  HttpOptions o = quick();
  o.headers = {{"Authorization", "Bearer abc"}, {"X-Test", "1"}};
  const HttpResponse r = http_get(url("/echo"), o, CancelToken());
  EXPECT_NE(r.body.find("\"authorization\": \"Bearer abc\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"x-test\": \"1\""), std::string::npos) << r.body;
  o.headers = {{"Bad: name", "x"}};
  EXPECT_EQ(kind_of(url("/echo"), o), ErrorKind::invalid_argument);
  o.headers = {{"X-Injected", "a\r\nHost: elsewhere"}};
  EXPECT_EQ(kind_of(url("/echo"), o), ErrorKind::invalid_argument);
}

TEST_F(Http, PostsABodyAndFollowsRedirectsAsBrowsersDo) {
  HttpOptions o = quick();
  o.method = "POST";
  o.body = "{\"limit\": 3}";
  o.headers = {{"Content-Type", "application/json"}};
  const HttpResponse r = http_get(url("/echo"), o, CancelToken());
  EXPECT_NE(r.body.find("\"method\": \"POST\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"body\": \"{\\\"limit\\\": 3}\""), std::string::npos) << r.body;
  const HttpResponse kept = http_get(url("/post-redirect/307"), o, CancelToken());
  EXPECT_NE(kept.body.find("\"method\": \"POST\""), std::string::npos) << kept.body;
  const HttpResponse changed = http_get(url("/post-redirect/303"), o, CancelToken());
  EXPECT_NE(changed.body.find("\"method\": \"GET\""), std::string::npos) << changed.body;
  EXPECT_EQ(http_get(url("/flaky/2/echo"), o, CancelToken()).attempts, 3);  // retried like a GET
  o.method = "PUT";
  EXPECT_EQ(kind_of(url("/echo"), o), ErrorKind::invalid_argument);
}

TEST_F(Http, ClientErrorsAreAnsweredNotRetried) {
  const HttpResponse r = http_get(url("/status/404/x"), quick(), CancelToken());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(http_get(url("/status/401/x"), quick(), CancelToken()).attempts, 1);
}

TEST_F(Http, ServerErrorsAreRetriedUntilTheyPass) {
  const HttpResponse r = http_get(url("/flaky/2/hello.txt"), quick(), CancelToken());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");  // the failed attempts' bodies are gone
  EXPECT_EQ(r.attempts, 3);
  HttpOptions o = quick();
  o.max_attempts = 3;
  const HttpResponse gave_up = http_get(url("/flaky/10/hello.txt"), o, CancelToken());
  EXPECT_EQ(gave_up.status, 503);
  EXPECT_EQ(gave_up.attempts, 3);
}

TEST_F(Http, RetryAfterIsHonoured) {
  HttpOptions o = quick();
  o.backoff_max_s = 5;
  const auto start = std::chrono::steady_clock::now();
  const HttpResponse r = http_get(url("/busy/1/1/hello.txt"), o, CancelToken());
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(waited, 0.95);
  EXPECT_LT(waited, 4.0);
}

TEST_F(Http, BackoffDoublesWithJitterAndIsCapped) {
  HttpOptions o;
  o.backoff_s = 1;
  o.backoff_max_s = 10;
  EXPECT_DOUBLE_EQ(retry_delay(o, 1, 0.0, -1), 0.75);
  EXPECT_DOUBLE_EQ(retry_delay(o, 1, 1.0, -1), 1.25);
  EXPECT_DOUBLE_EQ(retry_delay(o, 2, 0.5, -1), 2.0);
  EXPECT_DOUBLE_EQ(retry_delay(o, 3, 0.5, -1), 4.0);
  EXPECT_DOUBLE_EQ(retry_delay(o, 6, 0.5, -1), 10.0);  // capped
  EXPECT_DOUBLE_EQ(retry_delay(o, 1, 0.5, 7), 7.0);    // Retry-After
  EXPECT_DOUBLE_EQ(retry_delay(o, 1, 0.5, 3600), 10.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("120", 0), 120);
  EXPECT_DOUBLE_EQ(parse_retry_after(" 3 ", 0), 3);
  EXPECT_DOUBLE_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10);
  EXPECT_DOUBLE_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
  EXPECT_DOUBLE_EQ(parse_retry_after("soon", 0), -1);
  EXPECT_DOUBLE_EQ(parse_retry_after("", 0), -1);
}

TEST_F(Http, RedirectsAreFollowedAndEachIsChecked) {
  const HttpResponse r = http_get(url("/redirect/3/hello.txt"), quick(), CancelToken());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, world");
  EXPECT_EQ(r.final_url, url("/hello.txt"));
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(kind_of(url("/redirect/loop/hello.txt"), quick()), ErrorKind::limit_exceeded);
  HttpOptions few = quick();
  few.max_redirects = 2;
  EXPECT_EQ(kind_of(url("/redirect/3/hello.txt"), few), ErrorKind::limit_exceeded);
  EXPECT_EQ(kind_of(url("/redirect-to/http://localhost:1/secret"), quick()),
            ErrorKind::permission_denied);
  EXPECT_EQ(kind_of(url("/redirect-to/file:///etc/passwd"), quick()), ErrorKind::invalid_argument);
}

TEST_F(Http, CredentialsDoNotFollowARedirectToAnotherOrigin) {
  HttpOptions o = quick();
  o.allowed = nullptr;
  o.headers = {{"Authorization", "Bearer secret"}, {"X-Kept", "1"}};
  const std::string port = url("").substr(url("").rfind(':') + 1);
  const HttpResponse same = http_get(url("/redirect-to/" + url("/echo")), o, CancelToken());
  EXPECT_NE(same.body.find("Bearer secret"), std::string::npos) << same.body;
  const HttpResponse other =
      http_get(url("/redirect-to/http://localhost:" + port + "/echo"), o, CancelToken());
  EXPECT_EQ(other.body.find("Bearer secret"), std::string::npos) << other.body;
  EXPECT_NE(other.body.find("\"x-kept\": \"1\""), std::string::npos) << other.body;
}

TEST_F(Http, OnlyAllowedHttpUrlsAreFetched) {
  EXPECT_EQ(kind_of("file:///etc/passwd", quick()), ErrorKind::invalid_argument);
  EXPECT_EQ(kind_of("ftp://127.0.0.1/x", quick()), ErrorKind::invalid_argument);
  EXPECT_EQ(kind_of("http://localhost:1/x", quick()), ErrorKind::permission_denied);
  try {
    http_get("http://localhost:1/x", quick(), CancelToken());
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "URL \"http://localhost:1/x\" is not allowed");
  }
}

TEST_F(Http, TransportFailuresAreRetriedThenReported) {
  HttpOptions o = quick();
  o.allowed = nullptr;
  o.max_attempts = 2;
  try {
    http_get("http://127.0.0.1:1/x", o, CancelToken());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::network_error);
    EXPECT_NE(e.detail().find("after 2 attempts"), std::string::npos) << e.detail();
  }
  o = quick();
  o.max_attempts = 2;
  EXPECT_EQ(kind_of(url("/truncated/big.bin"), o), ErrorKind::network_error);
}

TEST_F(Http, SlowAnswersTimeOut) {
  HttpOptions o = quick();
  o.timeout_s = 1;
  o.max_attempts = 1;
  const auto start = std::chrono::steady_clock::now();
  try {
    http_get(url("/slow/4/hello.txt"), o, CancelToken());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::network_error);
    EXPECT_NE(e.detail().find("timed out"), std::string::npos) << e.detail();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 3);
}

TEST_F(Http, CancellationStopsATransferAndAWait) {
  const auto start = std::chrono::steady_clock::now();
  const CancelToken after_200ms([start] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(200);
  });
  EXPECT_EQ(kind_of(url("/slow/5/hello.txt"), quick(), after_200ms), ErrorKind::cancelled);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2);
  HttpOptions o = quick();
  o.backoff_s = o.backoff_max_s = 30;  // the wait before a retry
  const auto start2 = std::chrono::steady_clock::now();
  const CancelToken later([start2] {
    return std::chrono::steady_clock::now() - start2 > std::chrono::milliseconds(300);
  });
  EXPECT_EQ(kind_of(url("/flaky/5/hello.txt"), o, later), ErrorKind::cancelled);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start2).count(), 2);
}

TEST_F(Http, BodiesOverTheLimitStop) {
  HttpOptions o = quick();
  o.max_body_bytes = 1000;
  EXPECT_EQ(kind_of(url("/big.bin"), o), ErrorKind::limit_exceeded);
  o.max_body_bytes = 100000;
  EXPECT_EQ(http_get(url("/big.bin"), o, CancelToken()).body.size(), 100000u);
}

}  // namespace

TEST(HttpLimits, TheLongestRequestCountsEveryAttemptRedirectAndWait) {
  HttpOptions o;
  o.timeout_s = 60;
  o.max_attempts = 4;
  o.max_redirects = 5;
  o.backoff_max_s = 30;
  EXPECT_EQ(longest_request_s(o), 9 * 60 + 3 * 30);
  o.timeout_s = 1;
  o.max_attempts = 1;
  o.max_redirects = 0;
  EXPECT_EQ(longest_request_s(o), 1);
}
