#include "transfer/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include "base/error.h"

namespace geoetl {

const std::string* HttpResponse::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

double retry_delay(const HttpOptions& o, int retry, double jitter, double retry_after_s) {
  double d = o.backoff_s * std::pow(2.0, retry - 1) * (0.75 + jitter / 2);
  if (retry_after_s >= 0) d = std::max(d, retry_after_s);
  return std::min(d, o.backoff_max_s);
}

int64_t longest_request_s(const HttpOptions& o) {
  const int64_t transfers = std::max(o.max_attempts, 1) + std::max(o.max_redirects, 0);
  const int64_t waits = std::max(o.max_attempts, 1) - 1;
  return transfers * o.timeout_s +  // CURLOPT_TIMEOUT: a whole transfer, connecting included
         waits * static_cast<int64_t>(std::ceil(o.backoff_max_s));
}

double parse_retry_after(const std::string& value, int64_t now) {
  size_t i = 0;
  while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) i++;
  size_t j = i;
  while (j < value.size() && std::isdigit(static_cast<unsigned char>(value[j]))) j++;
  if (j > i && j - i < 10 && value.find_first_not_of(" \t\r\n", j) == std::string::npos)
    return std::stod(value.substr(i, j - i));
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when == -1) return -1;
  return std::max<double>(0, static_cast<double>(when - now));
}

namespace {

struct Transfer {
  HttpSink* sink;
  const CancelToken* cancel;
  uint64_t max_bytes;
  uint64_t bytes = 0;
  bool too_big = false;
  bool sink_refused = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  t->bytes += len;
  if (t->max_bytes > 0 && t->bytes > t->max_bytes) {
    t->too_big = true;
    return 0;
  }
  if (!t->sink->write(data, len)) {
    t->sink_refused = true;
    return 0;
  }
  return len;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++;
  return s.substr(i);
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->headers.clear();  // a new response (after 100 Continue)
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->headers.emplace_back(name, trim(line.substr(colon + 1)));
  }
  return size * n;
}

int on_progress(void* token, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const CancelToken*>(token)->requested() ? 1 : 0;
}

// Transport failures worth another attempt: the server or the network may recover.
bool transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

bool retry_status(long status) {
  return status == 429 || status == 408 || (status >= 500 && status <= 599);
}

// Sleeps `seconds`, waking every 50 ms to see whether the query was cancelled.
void cancellable_sleep(double seconds, const CancelToken& cancel) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    cancel.check();
    const Clock::duration left = end - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), left));
  }
  cancel.check();
}

// "scheme://host:port" of a URL, in lower case.
std::string origin_of(const std::string& url) {
  const size_t start = url.find("://");
  const size_t end = start == std::string::npos ? url.size() : url.find_first_of("/?#", start + 3);
  std::string o = url.substr(0, end == std::string::npos ? url.size() : end);
  std::transform(o.begin(), o.end(), o.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return o;
}

bool http_scheme(const std::string& url) {
  std::string head = url.substr(0, 8);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One request, no redirects followed: fills `r` (status, headers, redirect target).
CURLcode perform_once(const std::string& url, const HttpOptions& o, bool post, curl_slist* headers,
                      Transfer* t, HttpResponse* r, std::string* location, std::string* reason) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  std::unique_ptr<CURL, CurlDeleter> curl(initialised ? curl_easy_init() : nullptr);
  if (!curl) throw Error(ErrorKind::internal, "libcurl could not be initialised");
  CURL* c = curl.get();
  char message[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // the default resolver's SIGALRM is PostgreSQL's
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout_s));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.timeout_s));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time_s));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // each target is checked first
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (o.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (post) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(o.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, o.body.c_str());
  }
  if (!o.ca_pem.empty()) {
    curl_blob ca{const_cast<char*>(o.ca_pem.data()), o.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!o.client_cert_pem.empty()) {  // mutual TLS, the certificate and key given as PEM text
    curl_blob cert{const_cast<char*>(o.client_cert_pem.data()), o.client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    if (!o.client_key_pem.empty()) {
      curl_blob key{const_cast<char*>(o.client_key_pem.data()), o.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
  curl_easy_setopt(c, CURLOPT_USERAGENT, "geoetl");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<CancelToken*>(t->cancel));
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_off_t length = -1;
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  r->content_length = length;
  char* target = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &target) == CURLE_OK && target != nullptr)
    *location = target;
  *reason = message[0] != '\0' ? message : curl_easy_strerror(rc);
  return rc;
}

}  // namespace

HttpResponse http_get(const std::string& url, const HttpOptions& o, HttpSink* sink,
                      const CancelToken& cancel) {
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& [name, value] : o.headers) {
    if (name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      throw Error(ErrorKind::invalid_argument, "invalid HTTP header \"" + name + "\"",
                  "Header names cannot hold ':' or line breaks, nor values line breaks.");
    curl_slist* l = curl_slist_append(headers.release(), (name + ": " + value).c_str());
    if (l == nullptr) throw std::bad_alloc();
    headers.reset(l);
  }
  static thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (o.method != "GET" && o.method != "POST" && o.method != "HEAD")
    throw Error(ErrorKind::invalid_argument, "unsupported HTTP method \"" + o.method + "\"", {},
                "Use GET, HEAD or POST.");
  bool post = o.method == "POST";
  std::string current = url;
  int redirects = 0;
  HttpResponse r;
  for (int attempt = 1;; attempt++) {
    if (!http_scheme(current))
      throw Error(ErrorKind::invalid_argument, "\"" + current + "\" is not an http(s) URL", {},
                  "Only http:// and https:// URLs are fetched.");
    if (o.allowed && !o.allowed(current))
      throw Error(ErrorKind::permission_denied,
                  redirects == 0 ? "URL \"" + current + "\" is not allowed"
                                 : "a redirect to \"" + current + "\" is not allowed",
                  {}, "Add its prefix to geoetl.allowed_sources (superuser).");
    cancel.check();
    Transfer t{sink, &cancel, o.max_body_bytes, 0, false, false, {}};
    sink->begin();
    r = HttpResponse();
    std::string location, reason;
    const CURLcode rc = perform_once(current, o, post, headers.get(), &t, &r, &location, &reason);
    r.headers = std::move(t.headers);
    r.final_url = current;
    r.attempts = attempt;
    r.body_bytes = t.bytes;
    if (rc == CURLE_ABORTED_BY_CALLBACK) cancel.check();
    if (t.too_big)
      throw Error(ErrorKind::limit_exceeded, "the response of \"" + current + "\" is larger than " +
                                                 std::to_string(o.max_body_bytes) + " bytes");
    if (t.sink_refused)
      throw Error(ErrorKind::io_error, "cannot store the response of \"" + current + "\"");
    const bool failed = rc != CURLE_OK;
    if (!failed && r.status >= 300 && r.status < 400 && !location.empty()) {
      if (++redirects > o.max_redirects)
        throw Error(ErrorKind::limit_exceeded,
                    "too many redirects from \"" + url + "\" (more than " +
                        std::to_string(o.max_redirects) + ")",
                    "last: " + location);
      if (origin_of(location) != origin_of(current)) {  // credentials stay with their origin
        std::unique_ptr<curl_slist, SlistDeleter> kept;
        for (curl_slist* h = headers.get(); h != nullptr; h = h->next) {
          std::string name(h->data, std::min(std::strlen(h->data), std::strcspn(h->data, ":")));
          std::transform(name.begin(), name.end(), name.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
          if (name == "authorization" || name == "cookie") continue;
          curl_slist* l = curl_slist_append(kept.release(), h->data);
          if (l == nullptr) throw std::bad_alloc();
          kept.reset(l);
        }
        headers = std::move(kept);
      }
      current = location;
      if (r.status != 307 && r.status != 308) post = false;  // what browsers and curl do
      attempt--;                                             // a redirect is not a failed attempt
      continue;
    }
    const bool retry = failed ? transient(rc) : retry_status(r.status);
    if (!retry || attempt >= o.max_attempts) {
      if (failed)
        throw Error(ErrorKind::network_error, "cannot fetch \"" + current + "\"",
                    reason + (attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)"
                                          : std::string()));
      return r;
    }
    double after = -1;
    if (const std::string* v = r.header("retry-after"))
      after = parse_retry_after(*v, static_cast<int64_t>(std::time(nullptr)));
    cancellable_sleep(retry_delay(o, attempt, unit(random), after), cancel);
  }
}

namespace {
class MemorySink : public HttpSink {
 public:
  explicit MemorySink(std::string* out) : out_(out) {}
  void begin() override { out_->clear(); }
  bool write(const char* data, size_t size) override {
    out_->append(data, size);
    return true;
  }

 private:
  std::string* out_;
};
}  // namespace

HttpResponse http_get(const std::string& url, const HttpOptions& options,
                      const CancelToken& cancel) {
  std::string body;
  MemorySink sink(&body);
  HttpResponse r = http_get(url, options, &sink, cancel);
  r.body = std::move(body);
  return r;
}

}  // namespace geoetl
