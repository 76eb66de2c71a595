# Helper for interop_test.go: runs dkimpy (Debian python3-dkim).
#
#   dkimpy.py verify RECORDS.json < message
#       prints one line per DKIM-Signature: "pass" or "fail"
#   dkimpy.py sign SELECTOR DOMAIN KEYFILE ALG HCANON BCANON < message
#       prints the DKIM-Signature field followed by the message
import json
import sys

import dkim


def main():
    mode = sys.argv[1]
    msg = sys.stdin.buffer.read()
    if mode == "verify":
        with open(sys.argv[2]) as f:
            records = json.load(f)

        def dnsfunc(name, timeout=5):
            key = name.decode().rstrip(".").lower()
            rec = records.get(key)
            return rec.encode() if rec is not None else None

        d = dkim.DKIM(msg)
        n = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except dkim.DKIMException as e:
                sys.stderr.write("signature %d: %s\n" % (i, e))
                ok = False
            print("pass" if ok else "fail")
    elif mode == "sign":
        sel, dom, keyfile, alg, hc, bc = sys.argv[2:8]
        with open(keyfile, "rb") as f:
            key = f.read()
        sig = dkim.sign(msg, sel.encode(), dom.encode(), key,
                        canonicalize=(hc.encode(), bc.encode()),
                        signature_algorithm=alg.encode(),
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        sys.stdout.buffer.write(sig + msg)
    else:
        sys.exit("unknown mode " + mode)


main()
