package auth

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 4013 §3 examples, and a few more.
func TestSASLprep(t *testing.T) {
	tests := []struct {
		in, out string
		bad     bool
	}{
		{"I\u00ADX", "IX", false},  // soft hyphen mapped to nothing
		{"user", "user", false},    // no transformation
		{"USER", "USER", false},    // case preserved
		{"\u00AA", "a", false},     // NFKC
		{"\u2168", "IX", false},    // NFKC
		{"\u0007", "", true},       // prohibited
		{"\u0627\u0031", "", true}, // bidi: must end with RAL
		{"a\u00A0b", "a b", false}, // non-ASCII space to SPACE
		{"\u0627\u0031\u0628", "\u0627\u0031\u0628", false},
		{"a\u0627", "", true},    // mixed L and RAL
		{"\uE000", "", true},     // private use
		{"\U000E0041", "", true}, // tagging
		{"p\u00e4ss", "p\u00e4ss", false},
		{"pa\u0308ss", "p\u00e4ss", false}, // composed
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := SASLprep(tt.in)
		if tt.bad {
			assert.ErrorIs(t, err, ErrMalformed, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.out, got, "%q", tt.in)
	}
}

// Equivalent passwords under SASLprep authenticate with SCRAM and PLAIN.
func TestSASLprepSCRAM(t *testing.T) {
	st := NewMemoryStore()
	require.NoError(t, st.SetPassword("u", "I\u2168"))
	c, _ := NewSCRAMClient("SCRAM-SHA-256", "u", "IIX", nil)
	s, _ := NewServer("SCRAM-SHA-256", st, nil)
	require.NoError(t, run(c, s))
	require.NoError(t, st.CheckPassword(context.Background(), "u", "I\u00ADIX"))
	// A password SASLprep refuses is used as it is, on both sides.
	require.NoError(t, st.SetPassword("v", "bell\u0007"))
	c, _ = NewSCRAMClient("SCRAM-SHA-256", "v", "bell\u0007", nil)
	s, _ = NewServer("SCRAM-SHA-256", st, nil)
	require.NoError(t, run(c, s))
}

func FuzzSASLprep(f *testing.F) {
	for _, s := range []string{"I\u00ADX", "\u2168", "\u0627\u0031", "user", "a\u00A0b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := SASLprep(s)
		if err != nil {
			return
		}
		// Idempotent.
		p2, err := SASLprep(p)
		if err != nil || p2 != p {
			t.Fatalf("SASLprep(%q) = %q, again %q, %v", s, p, p2, err)
		}
	})
}
