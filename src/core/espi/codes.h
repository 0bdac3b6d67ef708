// ESPI code lists turned into text: units of measure (ReadingType uom, IEC 61968-9 codes as
// NAESB REQ.21 lists them) and currencies (ISO 4217 numeric codes).
#pragma once

#include <string>

namespace geoetl {

// "Wh" for 72, "therm" for 169, "ft3" for 119, ...; "uom:<code>" for a code not in the list.
std::string espi_unit_name(int uom);

// "USD" for 840, "EUR" for 978, ...; "" for 0 (not applicable); "iso4217:<code>" for a code not
// in the list.
std::string espi_currency_code(int numeric);

}  // namespace geoetl
