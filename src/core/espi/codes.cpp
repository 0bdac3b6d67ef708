#include "espi/codes.h"

namespace geoetl {
namespace {

struct Code {
  int code;
  const char* text;
};

// The uom values NAESB REQ.21 lists (UnitSymbolKind).
constexpr Code units[] = {
    {5, "A"},         {6, "K"},         {23, "degC"},    {29, "V"},         {31, "J"},
    {33, "Hz"},       {38, "W"},        {42, "m3"},      {61, "VA"},        {63, "VAr"},
    {65, "cosTheta"}, {67, "V2"},       {69, "A2"},      {71, "VAh"},       {72, "Wh"},
    {73, "VArh"},     {106, "Ah"},      {119, "ft3"},    {122, "ft3/h"},    {125, "m3/h"},
    {128, "USgal"},   {129, "USgal/h"}, {130, "impgal"}, {131, "impgal/h"}, {132, "BTU"},
    {133, "BTU/h"},   {134, "L"},       {137, "L/h"},    {140, "PaG"},      {155, "PaA"},
    {169, "therm"},
};

// ISO 4217 numeric codes of the currencies utilities bill in.
constexpr Code currencies[] = {
    {36, "AUD"},  {124, "CAD"}, {156, "CNY"}, {208, "DKK"}, {344, "HKD"},
    {356, "INR"}, {392, "JPY"}, {410, "KRW"}, {484, "MXN"}, {554, "NZD"},
    {578, "NOK"}, {702, "SGD"}, {710, "ZAR"}, {752, "SEK"}, {756, "CHF"},
    {826, "GBP"}, {840, "USD"}, {978, "EUR"}, {986, "BRL"},
};

template <size_t N>
const char* find(const Code (&list)[N], int code) {
  for (const Code& c : list)
    if (c.code == code) return c.text;
  return nullptr;
}

}  // namespace

std::string espi_unit_name(int uom) {
  const char* name = find(units, uom);
  return name ? name : "uom:" + std::to_string(uom);
}

std::string espi_currency_code(int numeric) {
  if (numeric == 0) return "";
  const char* code = find(currencies, numeric);
  return code ? code : "iso4217:" + std::to_string(numeric);
}

}  // namespace geoetl
