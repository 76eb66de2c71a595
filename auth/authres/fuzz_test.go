package authres

import (
	"errors"
	"strings"
	"testing"
)

// FuzzAuthRes parses a value; when it parses, the one-line and folded
// forms must parse to the same Results, format to the same text again,
// and hold no line break other than folds.
func FuzzAuthRes(f *testing.F) {
	for _, tc := range appendixB {
		f.Add(tc.value)
	}
	for _, s := range []string{
		"example.com; dmarc=pass action=none header.from=example.com; compauth=pass reason=100",
		`"a b"; x=y (c \( d) reason="q\"r" smtp.mailfrom="a b"@example.com policy.iprev=2001:db8::1`,
		"example.com 2; spf=pass",
		"example.com; spf=pass;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("bad error for %q: %v", s, err)
			}
			return
		}
		one := r.String()
		if strings.ContainsAny(one, "\r\n") {
			t.Fatalf("line break in String of %q: %q", s, one)
		}
		folded, err := r.Format()
		if err != nil {
			t.Fatalf("Format of parsed %q: %v", s, err)
		}
		if strings.ReplaceAll(folded, "\r\n", "") != one {
			t.Fatalf("folded %q does not unfold to %q", folded, one)
		}
		for _, form := range []string{one, folded} {
			r2, err := Parse(form)
			if err != nil {
				t.Fatalf("%q (from %q) does not parse: %v", form, s, err)
			}
			if r2.String() != one {
				t.Fatalf("not stable: %q -> %q -> %q", s, one, r2.String())
			}
		}
	})
}
