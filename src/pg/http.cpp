// geoetl._http(): one GET or POST through the core's HTTP client, for SQL pipelines that call
// JSON and XML APIs (geoetl.http_get and geoetl.http_post check their arguments and call it).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "boundary.h"
#include "fetch.h"
#include "result_row.h"
#include "transfer/http.h"
#include "settings.h"

namespace {

// A JSON string of `s`; bytes outside ASCII become '?' (header values are ASCII by the RFC).
void append_json_string(std::string* out, const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  *out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += ch;
    } else if (c < 0x20) {
      *out += "\\u00";
      *out += hex[c >> 4];
      *out += hex[c & 15];
    } else {
      *out += c >= 0x80 ? '?' : ch;
    }
  }
  *out += '"';
}

// Header names and values as JSON text; a repeated name's values are joined with ", ".
std::string headers_json(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::pair<std::string, std::string>> merged;
  for (const auto& [name, value] : headers) {
    auto it = merged.begin();
    while (it != merged.end() && it->first != name) ++it;
    if (it == merged.end())
      merged.emplace_back(name, value);
    else
      it->second += ", " + value;
  }
  std::string json = "{";
  for (size_t i = 0; i < merged.size(); i++) {
    if (i > 0) json += ", ";
    append_json_string(&json, merged[i].first);
    json += ": ";
    append_json_string(&json, merged[i].second);
  }
  return json + "}";
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(geoetl_http);
Datum geoetl_http(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  const geoetl::pg::SqlArgs args(fcinfo);
  for (int i = 0; i < 5; i++)
    if (args.is_null(i)) return (Datum)0;
  const char* method = args.text(0, "method");
  const char* url = args.text(1, "url");
  const auto names = args.text_array(2, "header_names", geoetl::pg::NullElements::refuse);
  const auto values = args.text_array(3, "header_values", geoetl::pg::NullElements::refuse);
  if (names.count != values.count)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("header_names and header_values differ in length: %d and %d",
                           names.count, values.count)));
  const text* body_text = DatumGetTextPP(args.datum(4, "body"));
  const char* body = VARDATA_ANY(body_text);
  const size_t body_size = VARSIZE_ANY_EXHDR(body_text);
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::HttpOptions o = geoetl::pg::fetch_options(url);
    o.method = method;
    o.body.assign(body, body_size);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::http_max_body_mb()) << 20;
    for (int i = 0; i < names.count; i++) o.headers.emplace_back(names.items[i], values.items[i]);
    const geoetl::HttpResponse r = geoetl::http_get(url, o, geoetl::pg::interrupt_token());
    const std::string headers = headers_json(r.headers);
    geoetl::pg::pg_guard([&] {
      geoetl::pg::ResultRow row(rsi->setDesc);
      row.set("status", INT4OID, Int32GetDatum(static_cast<int32>(r.status)));
      row.set("headers", JSONBOID, DirectFunctionCall1(jsonb_in, CStringGetDatum(headers.c_str())));
      row.set("body", BYTEAOID, PointerGetDatum(geoetl::pg::bytea_of(r.body)));
      row.put(rsi);
    });
  });
  return (Datum)0;
}

}  // extern "C"
