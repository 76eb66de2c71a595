package dkim

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

// FuzzDKIM dispatches on the first byte of the input over the parsers and
// canonicalisers, checking their properties:
//
//	0: ParseTagList does not panic
//	1: ParseSignature; a parsed signature formats and parses back equal
//	2: ParseKeyRecord; a parsed key formats and parses back to the same key
//	3: body canonicalisation, simple and relaxed: idempotent, and the
//	   same whatever the chunking
//	4: relaxed header canonicalisation is idempotent
//	5: Verify on the input as a whole message does not panic
func FuzzDKIM(f *testing.F) {
	f.Add(append([]byte{0}, "v=1; a=rsa-sha256; b=ab\r\n cd;"...))
	f.Add(append([]byte{1}, strings.SplitN(rfc8463Message, ":", 2)[1][:400]...))
	f.Add(append([]byte{1}, "v=1; a=ed25519-sha256; c=relaxed/simple; d=a.test; s=s; h=from:to; bh=AAAA; b=AAAA; l=5; t=1; x=2; i=@a.test; q=dns/txt; z=a:b; y=z"...))
	f.Add(append([]byte{2}, rfc8463DNS["brisbane._domainkey.football.example.com"][0]...))
	f.Add(append([]byte{2}, rfc6376Record...))
	f.Add(append([]byte{2}, "v=DKIM1; h=sha256; s=email; t=y:s; n=x; p="...))
	f.Add(append([]byte{3}, " C \r\nD \t E\r\n\r\n\r\nx\ry\n\n \t"...))
	f.Add(append([]byte{4}, "B : Y\t\r\n\tZ  \r\n"...))
	f.Add(append([]byte{5}, rfc8463Message...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		kind, in := data[0]%6, data[1:]
		switch kind {
		case 0:
			ParseTagList(string(in))
		case 1:
			sig, err := ParseSignature(string(in))
			if err != nil {
				return
			}
			_, value, _ := strings.Cut(sig.String(), ":")
			back, err := ParseSignature(value)
			if err != nil {
				t.Fatalf("formatted signature does not parse: %v\n%s", err, sig.String())
			}
			if !reflect.DeepEqual(sig, back) {
				t.Fatalf("round trip differs:\n%#v\n%#v", sig, back)
			}
		case 2:
			k, err := ParseKeyRecord(string(in))
			if err != nil {
				return
			}
			back, err := ParseKeyRecord(k.String())
			if err != nil {
				t.Fatalf("formatted key does not parse: %v\n%s", err, k.String())
			}
			if back.Revoked != k.Revoked || !reflect.DeepEqual(back.PublicKey, k.PublicKey) || !reflect.DeepEqual(back.Flags, k.Flags) {
				t.Fatalf("round trip differs:\n%#v\n%#v", k, back)
			}
		case 3:
			for _, c := range []Canonicalization{Simple, Relaxed} {
				once := canonBody(string(in), c, len(in)+1)
				if twice := canonBody(once, c, len(once)+1); twice != once {
					t.Fatalf("%s body canonicalisation not idempotent: %q -> %q -> %q", c, in, once, twice)
				}
				if chunked := canonBody(string(in), c, 3); chunked != once {
					t.Fatalf("%s body canonicalisation depends on chunking: %q vs %q", c, once, chunked)
				}
			}
		case 4:
			once := appendHeaderCanon(nil, in, Relaxed)
			if twice := appendHeaderCanon(nil, once, Relaxed); !bytes.Equal(once, twice) {
				t.Fatalf("relaxed header canonicalisation not idempotent: %q -> %q -> %q", in, once, twice)
			}
		case 5:
			dns := &fakeDNS{txt: rfc8463DNS}
			Verify(context.Background(), bytes.NewReader(in), &VerifyOptions{Resolver: dns, MaxHeaderBytes: 64 << 10})
		}
	})
}
