#!/usr/bin/env python3
"""An independent sum of an ESPI feed's readings, with Python's ElementTree (not geoetl's parser):
    espi_sum.py FILE  ->  one line per usage point id and flow direction:
    "<usage point id> <flow> <readings> <sum of value x 10^powerOfTenMultiplier, 6 decimals>"
Entries are joined the simple way the Green Button samples allow: each MeterReading's
IntervalBlocks by their up link, its ReadingType by its related links, its usage point by its
self href (.../UsagePoint/<id>/MeterReading/<n>). Of readings with the same start and duration
under one MeterReading the first counts (the whole-year sample writes one hour twice), as in
geoetl.energy_reading."""
import re
import sys
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
ESPI = "{http://naesb.org/espi}"

root = ET.parse(sys.argv[1]).getroot()
links, contents = [], []
for e in root.iter(ATOM + "entry"):
    ls = {}
    for link in e.findall(ATOM + "link"):
        ls.setdefault(link.get("rel"), []).append(link.get("href"))
    links.append(ls)
    contents.append(e.find(ATOM + "content"))
types = {}
for ls, c in zip(links, contents):
    rt = c.find(ESPI + "ReadingType") if c is not None else None
    if rt is not None:
        types[ls["self"][0]] = (int(rt.findtext(ESPI + "flowDirection", "0")),
                                int(rt.findtext(ESPI + "powerOfTenMultiplier", "0")))
totals = {}
seen = set()
for ls, c in zip(links, contents):
    if c is None or c.find(ESPI + "MeterReading") is None:
        continue
    mr = ls["self"][0]
    up = re.search(r"/UsagePoint/([^/]+)/MeterReading", mr).group(1)
    flow, power = next(types[h] for h in ls.get("related", []) if h in types)
    for ls2, c2 in zip(links, contents):
        if c2 is None or ls2.get("up", [None])[0] != mr + "/IntervalBlock":
            continue
        for r in c2.iter(ESPI + "IntervalReading"):
            period = r.find(ESPI + "timePeriod")
            reading = (mr, period.findtext(ESPI + "start").strip(), period.findtext(ESPI + "duration").strip())
            if reading in seen:
                continue
            seen.add(reading)
            key = (up, flow)
            n, s = totals.get(key, (0, 0.0))
            totals[key] = (n + 1, s + int(r.findtext(ESPI + "value")) * 10.0 ** power)
for (up, flow), (n, s) in sorted(totals.items()):
    print("%s %d %d %.6f" % (up, flow, n, s))
