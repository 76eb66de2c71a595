package dmarc

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzDMARC dispatches on the first byte: 0 parses a record and checks
// that its canonical form is stable; 1 unmarshals an aggregate report
// and checks that marshalling it gives a report that reads back the same.
func FuzzDMARC(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=r; pct=50; rua=mailto:a@example.com!10m,mailto:b@example.com; ruf=mailto:c@example.com; fo=0:1:d:s; rf=afrf; ri=3600",
		"v=DMARC1; rua=mailto:r@example.com",
		"v=DMARC1; p=bogus; rua=x:y!1t",
		"v=DMARC1",
		"v=DMARC1; p=none; pct=101; junk",
	} {
		f.Add(byte(0), s)
	}
	if data, err := os.ReadFile("testdata/aggregate.xml"); err == nil {
		f.Add(byte(1), string(data))
	}
	f.Add(byte(1), "<feedback><record><row><count>1</count></row></record></feedback>")
	f.Fuzz(func(t *testing.T, kind byte, s string) {
		switch kind % 2 {
		case 0:
			rec, err := ParseRecord(s)
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
					t.Fatalf("bad error for %q: %v", s, err)
				}
			}
			if rec == nil {
				if IsRecord(s) && err == nil {
					t.Fatalf("no record and no error for %q", s)
				}
				return
			}
			if !IsRecord(s) {
				t.Fatalf("parsed %q but IsRecord is false", s)
			}
			canon := rec.String()
			rec2, err := ParseRecord(canon)
			if err != nil {
				t.Fatalf("canonical form %q of %q: %v", canon, s, err)
			}
			if rec2.String() != canon {
				t.Fatalf("canonical form not stable: %q then %q", canon, rec2.String())
			}
		case 1:
			fb, err := ParseReport(strings.NewReader(s))
			if err != nil {
				return
			}
			out, err := fb.Marshal()
			if err != nil {
				// Text XML cannot carry (invalid UTF-8 is replaced,
				// but some characters are refused).
				return
			}
			fb2, err := ParseReport(strings.NewReader(string(out)))
			if err != nil {
				t.Fatalf("marshalled report does not parse: %v\n%s", err, out)
			}
			out2, err := fb2.Marshal()
			if err != nil || string(out2) != string(out) {
				t.Fatalf("report not stable: %v\n%s\n%s", err, out, out2)
			}
		}
	})
}
