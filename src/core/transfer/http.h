// HTTP GET with libcurl, as jobs that pull data need it: timeouts, redirects that are each
// checked against the allow-list, retries with backoff on connection errors, 429 and 5xx
// (honouring Retry-After), and cancellation through a CancelToken (PostgreSQL's interrupts).
// The body goes to a sink: memory for API calls, a file for downloads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/cancel.h"

namespace geoetl {

struct HttpOptions {
  std::string method = "GET";  // GET, HEAD (no body; content_length says the size) or POST
  std::string body;            // POST: sent as is (say its Content-Type in headers)
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  int connect_timeout_s = 10;
  int timeout_s = 60;         // one attempt, from connect to the last byte
  int low_speed_time_s = 30;  // an attempt slower than 1 byte/s for this long is aborted
  int max_redirects = 5;
  int max_attempts = 4;       // first try + retries
  double backoff_s = 0.5;     // before the first retry; doubled each time, +-25% jitter
  double backoff_max_s = 30;  // longest wait between attempts (Retry-After included)
  // Whether a URL may be fetched: asked for the first one and every redirect target.
  std::function<bool(const std::string& url)> allowed;
  // A client certificate and its private key (PEM text) for servers that want mutual TLS.
  std::string client_cert_pem, client_key_pem;
  // The certificate authorities (PEM text) to trust instead of the system's; "" for the system's.
  std::string ca_pem;
  // Stops the transfer (Error limit_exceeded) when a body grows beyond it; 0: no limit.
  uint64_t max_body_bytes = 0;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;                                          // HttpSink::memory only
  std::string final_url;                                     // after redirects
  int attempts = 0;
  uint64_t body_bytes = 0;
  int64_t content_length = -1;  // announced; -1 when not
  const std::string* header(const std::string& lower_name) const;
};

// Where a response body goes. begin() is called before each attempt's body (a retry starts
// again), write() with each piece; false from write() stops the transfer.
class HttpSink {
 public:
  virtual ~HttpSink() = default;
  virtual void begin() = 0;
  virtual bool write(const char* data, size_t size) = 0;
};

// GET (or HEAD, or POST) url. A 301, 302 or 303 after a POST is followed with a GET, a 307 or 308
// with the same POST. Returns the final response, whatever its status, once no retry is left or
// needed. Throws Error: permission_denied (url or a redirect not allowed), invalid_argument (not
// http/https), network_error (no response: with libcurl's reason, after the retries),
// limit_exceeded (too many redirects or a body over max_body_bytes), cancelled.
HttpResponse http_get(const std::string& url, const HttpOptions& options, HttpSink* sink,
                      const CancelToken& cancel);

// The same, keeping the body in HttpResponse::body.
HttpResponse http_get(const std::string& url, const HttpOptions& options,
                      const CancelToken& cancel);

// The wait before retry `retry` (1 for the first): backoff * 2^(retry-1), +-25% (unit
// `jitter` in [0, 1)), at most backoff_max; a Retry-After of `retry_after_s` (>= 0) is honoured
// within backoff_max.
double retry_delay(const HttpOptions& options, int retry, double jitter, double retry_after_s);

// The longest http_get() with these options may take, in seconds: every attempt and every
// redirect at its full timeout, and the longest wait before each retry.
int64_t longest_request_s(const HttpOptions& options);

// Seconds from a Retry-After value (delta seconds or an HTTP date, relative to `now`); -1 if
// it is neither.
double parse_retry_after(const std::string& value, int64_t now);

}  // namespace geoetl
