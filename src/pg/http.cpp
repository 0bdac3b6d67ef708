// geoetl._http(): one GET or POST through the core's HTTP client, for SQL pipelines that call
// JSON and XML APIs (geoetl.http_get and geoetl.http_post check their arguments and call it).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
}

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "boundary.h"
#include "fetch.h"
#include "transfer/http.h"
#include "settings.h"

namespace {

// The strings of a text[] (NULLs as ""), palloc'd: read before call_core, as it may ereport.
char** text_array(ArrayType* a, int* count) {
  Datum* items;
  bool* nulls;
  deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, count);
  char** out = static_cast<char**>(palloc(sizeof(char*) * static_cast<size_t>(*count + 1)));
  for (int i = 0; i < *count; i++)
    out[i] = nulls[i] ? pstrdup("") : text_to_cstring(DatumGetTextPP(items[i]));
  return out;
}

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
  for (int i = 0; i < 5; i++)
    if (PG_ARGISNULL(i)) return (Datum)0;
  const char* method = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* url = text_to_cstring(PG_GETARG_TEXT_PP(1));
  int n_names = 0, n_values = 0;
  char** names = text_array(PG_GETARG_ARRAYTYPE_P(2), &n_names);
  char** values = text_array(PG_GETARG_ARRAYTYPE_P(3), &n_values);
  text* body_text = PG_GETARG_TEXT_PP(4);
  const char* body = VARDATA_ANY(body_text);
  const size_t body_size = VARSIZE_ANY_EXHDR(body_text);
  auto* rsi = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  geoetl::pg::call_core([&] {
    geoetl::HttpOptions o = geoetl::pg::fetch_options(url);
    o.method = method;
    o.body.assign(body, body_size);
    o.max_body_bytes = static_cast<uint64_t>(geoetl::pg::http_max_body_mb()) << 20;
    for (int i = 0; i < n_names && i < n_values; i++) o.headers.emplace_back(names[i], values[i]);
    const geoetl::HttpResponse r = geoetl::http_get(url, o, geoetl::pg::interrupt_token());
    const std::string headers = headers_json(r.headers);
    geoetl::pg::pg_guard([&] {
      Datum v[3];
      bool n[3] = {false, false, false};
      v[0] = Int32GetDatum(static_cast<int32>(r.status));
      v[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(headers.c_str()));
      bytea* body = static_cast<bytea*>(palloc(VARHDRSZ + r.body.size()));
      SET_VARSIZE(body, VARHDRSZ + r.body.size());
      memcpy(VARDATA(body), r.body.data(), r.body.size());
      v[2] = PointerGetDatum(body);
      tuplestore_putvalues(rsi->setResult, rsi->setDesc, v, n);
    });
  });
  return (Datum)0;
}

}  // extern "C"
