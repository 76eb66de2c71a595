# Reads a JSON array of Authentication-Results values on stdin, parses
# each with the "authres" module (python3-authres) and prints a JSON
# array of what it found; with --generate, prints values that module
# writes instead.
import json
import sys

import authres


def dump(h):
    return {
        "id": h.authserv_id,
        "results": [
            {
                "method": r.method,
                "version": r.version,
                "result": r.result,
                "reason": r.reason or "",
                "props": [[p.type, p.name, p.value] for p in r.properties],
            }
            for r in h.results
        ],
    }


if sys.argv[1:] == ["--generate"]:
    hs = [
        authres.AuthenticationResultsHeader(authserv_id="example.com", results=[
            authres.SPFAuthenticationResult(result="pass", smtp_mailfrom="example.net", result_comment="good spf"),
            authres.DKIMAuthenticationResult(result="fail", reason="bad signature", header_d="example.com", header_i="@example.com"),
        ]),
        authres.AuthenticationResultsHeader(authserv_id="mx.example.org", results=[
            authres.SMTPAUTHAuthenticationResult(result="pass", smtp_auth="sender@example.net"),
            authres.IPRevAuthenticationResult(result="pass", policy_iprev="192.0.2.200"),
        ]),
        authres.AuthenticationResultsHeader(authserv_id="example.org", version=1),
    ]
    out = []
    for h in hs:
        s = str(h)
        prefix = "Authentication-Results: "
        out.append(s[len(prefix):] if s.startswith(prefix) else s)
    json.dump(out, sys.stdout)
    sys.exit(0)

out = []
for v in json.load(sys.stdin):
    try:
        out.append(dump(authres.AuthenticationResultsHeader.parse_value(v)))
    except Exception as e:  # report, do not stop
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
