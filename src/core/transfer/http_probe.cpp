#include "transfer/http_probe.h"

#include <curl/curl.h>

namespace geoetl {
namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

// libcurl calls this while it waits: a non-zero answer aborts the transfer.
int progress(void* token, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const CancelToken*>(token)->requested() ? 1 : 0;
}

}  // namespace

ProbeResult http_probe(const std::string& url, int connect_timeout_s, int timeout_s,
                       const CancelToken& cancel) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  ProbeResult r;
  CURL* curl = initialised ? curl_easy_init() : nullptr;
  if (curl == nullptr) {
    r.error = "libcurl could not be initialised";
    return r;
  }
  char message[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // the default resolver's SIGALRM is PostgreSQL's
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(connect_timeout_s));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout_s));
  curl_easy_setopt(curl, CURLOPT_RANGE, "0-0");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, message);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<CancelToken*>(&cancel));
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.error = message[0] != '\0' ? message : curl_easy_strerror(rc);
  }
  curl_easy_cleanup(curl);
  if (rc == CURLE_ABORTED_BY_CALLBACK) cancel.check();
  return r;
}

}  // namespace geoetl
