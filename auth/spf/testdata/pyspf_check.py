"""Evaluate SPF cases with pyspf against zone data given as JSON.

Reads {"zone": {name: {"TXT": [str], "A": [str], "MX": [[pref, host]],
"PTR": [str], "CNAME": str, "TIMEOUT": [qtype]}}, "cases": [{"i", "s",
"h"}]} on stdin and prints a JSON list of [result, explanation], one per
case. No DNS traffic: spf.DNSLookup is replaced by a lookup in the zone.
"""
import json
import sys

import spf

data = json.load(sys.stdin)
zone = {k.lower().rstrip('.'): v for k, v in data["zone"].items()}


def lookup(name, qtype, strict=True, timeout=None, *args, **kwargs):
    name = str(name).lower().rstrip('.')
    rrs = zone.get(name)
    if rrs is None:
        return []
    if qtype in rrs.get("TIMEOUT", []):
        raise spf.TempError('DNS timeout for %s %s' % (name, qtype))
    out = []
    if "CNAME" in rrs:
        out.append(((name, 'CNAME'), rrs["CNAME"].rstrip('.')))
    for v in rrs.get(qtype, []):
        if qtype == 'TXT':
            out.append(((name, qtype), [v.encode('utf-8')]))
        elif qtype == 'MX':
            out.append(((name, qtype), (v[0], v[1].rstrip('.'))))
        elif qtype == 'PTR':
            out.append(((name, qtype), v.rstrip('.')))
        else:
            out.append(((name, qtype), v))
    return out


spf.DNSLookup = lookup
results = []
for c in data["cases"]:
    q = spf.query(i=c["i"], s=c["s"], h=c["h"], receiver="receiver.example.net", querytime=0)
    res, code, expl = q.check()
    results.append([res, expl])
print(json.dumps(results))
