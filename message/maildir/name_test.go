package maildir

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		in       string
		key      string
		size     int64
		wireSize int64
		flags    Flags
		info     string
	}{
		{"1063286476.M467383P2345.host", "1063286476.M467383P2345.host", -1, -1, "", ""},
		{"1063286476.M467383P2345.host:2,", "1063286476.M467383P2345.host", -1, -1, "", "2,"},
		{"1063286476.M467383P2345.host:2,S", "1063286476.M467383P2345.host", -1, -1, "S", "2,S"},
		// Dovecot's LMTP names: size and virtual size.
		{"1700000000.M1P2.mx,S=1234,W=1260:2,FS", "1700000000.M1P2.mx,S=1234,W=1260", 1234, 1260, "FS", "2,FS"},
		// Unsorted and duplicated letters are normalised; keywords kept.
		{"k,S=5:2,SbFaS", "k,S=5", 5, -1, "FSab", "2,SbFaS"},
		// Non-letters are dropped from flags.
		{"k:2,S,1F", "k", -1, -1, "FS", "2,S,1F"},
		// Experimental info kept raw, no flags.
		{"k:1,whatever", "k", -1, -1, "", "1,whatever"},
		// Bad sizes are ignored.
		{"k,S=abc,W=-1", "k,S=abc,W=-1", -1, -1, "", ""},
		// Last S= wins.
		{"k,S=1,S=2", "k,S=1,S=2", 2, -1, "", ""},
		// Escaped host characters.
		{`1.M2P3.a\057b\072c,S=9:2,T`, `1.M2P3.a\057b\072c,S=9`, 9, -1, "T", "2,T"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := ParseName(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.key, n.Key)
			assert.Equal(t, tt.size, n.Size)
			assert.Equal(t, tt.wireSize, n.WireSize)
			assert.Equal(t, tt.flags, n.Flags)
			assert.Equal(t, tt.info, n.Info)
		})
	}
}

func TestParseNameRejects(t *testing.T) {
	// Control characters too: a key is a line of the UID list, and one
	// with a line break (or a CR that line reading drops) would make the
	// list unreadable or the key lose its UID at every List.
	for _, in := range []string{"", ".", "..", ".hidden", "a/b", "a\x00b", ":2,S", "a\nb", "a\r", "a\x7f", "a:2,\nS"} {
		_, err := ParseName(in)
		assert.True(t, errors.Is(err, ErrBadName), "%q: %v", in, err)
	}
}

func TestNameString(t *testing.T) {
	assert.Equal(t, "k:2,", Name{Key: "k"}.String())
	assert.Equal(t, "k:2,FSa", Name{Key: "k", Flags: "aSF"}.String())
	assert.Equal(t, "k:1,x", Name{Key: "k", Info: "1,x"}.String())
}

func TestFlags(t *testing.T) {
	f := NewFlags(FlagSeen, FlagDraft, FlagSeen)
	assert.Equal(t, Flags("DS"), f)
	assert.True(t, f.Has(FlagSeen))
	assert.False(t, f.Has(FlagTrashed))
	f = f.With(FlagTrashed, 'a', '!', ',')
	assert.Equal(t, Flags("DSTa"), f)
	assert.Equal(t, "a", f.Keywords())
	assert.Equal(t, Flags("Ta"), f.Without(FlagSeen, FlagDraft))
	assert.Equal(t, "", NewFlags(FlagFlagged).Keywords())
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"1063286476.M467383P2345.host", "1700000000.M1P2.mx,S=1234,W=1260:2,FS",
		"k:2,SbFaS", "k:1,x", ":", ".x", "k,S=99999999999999999999", "a:2,:2,S",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			return
		}
		if n.Key == "" || strings.Contains(n.Key, ":") {
			t.Fatalf("bad key %q from %q", n.Key, s)
		}
		// Flags are sorted unique letters.
		for i := 0; i < len(n.Flags); i++ {
			if !validFlag(n.Flags[i]) || i > 0 && n.Flags[i-1] >= n.Flags[i] {
				t.Fatalf("flags %q not normalised", n.Flags)
			}
		}
		if n.Info == "" || strings.HasPrefix(n.Info, "2,") {
			// Round trip through the cur name.
			m, err := ParseName(n.String())
			if err != nil || m.Key != n.Key || m.Flags != n.Flags || m.Size != n.Size || m.WireSize != n.WireSize {
				t.Fatalf("round trip %q -> %q: %+v vs %+v (%v)", s, n.String(), n, m, err)
			}
		}
	})
}
