package dnsmx

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"example.com", "example.com"},
		{"Example.COM.", "example.com"},
		{"mail-1.example.com", "mail-1.example.com"},
		{"r3--sn-abc.example", "r3--sn-abc.example"}, // hyphens in positions 3-4 are real host names
		{"localhost", "localhost"},
		{"123.example", "123.example"},
		// RFC 5890 §2.3.2.1 and RFC 3492 §7.1 style vectors.
		{"bücher.example", "xn--bcher-kva.example"},
		{"BÜCHER.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"XN--BCHER-KVA.example", "xn--bcher-kva.example"},
		{"faß.de", "xn--fa-hia.de"}, // nontransitional (IDNA2008)
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{"ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"}, // width mapping and ideographic full stop
		{"münchen.de.", "xn--mnchen-3ya.de"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example"},
	} {
		got, err := Normalize(tc.in)
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
}

func TestNormalizeRejects(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 63)+".", 4) // 256 octets
	for _, in := range []string{
		"", ".", "a..b", ".a", "-a.example", "a-.example", "ex_ample.com", "ex ample.com",
		"a.com\x00", "a@b.com", "[192.0.2.1]", "xn--zz.example", strings.Repeat("a", 64) + ".example",
		long, strings.Repeat("ä", 2000), "example.com..", "\xc80.example", "b\xfccher.example", "a/b.example", "exa\u200dmple.com",
	} {
		_, err := Normalize(in)
		require.Error(t, err, "%q", in)
		assert.ErrorIs(t, err, ErrInvalidDomain, "%q", in)
		var e *Error
		require.True(t, errors.As(err, &e))
		assert.False(t, e.Temporary())
	}
}

func TestParseLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want, format string }{
		{"[192.0.2.1]", "192.0.2.1", "[192.0.2.1]"},
		{"[IPv6:2001:db8::1]", "2001:db8::1", "[IPv6:2001:db8::1]"},
		{"[ipv6:2001:DB8:0:0:0:0:0:1]", "2001:db8::1", "[IPv6:2001:db8::1]"},
		{"[IPv6:::1]", "::1", "[IPv6:::1]"},
		{"[IPv6:::ffff:192.0.2.1]", "::ffff:192.0.2.1", "[192.0.2.1]"},
		{"[IPv6:2001:db8::192.0.2.1]", "2001:db8::c000:201", "[IPv6:2001:db8::c000:201]"},
	} {
		a, err := ParseLiteral(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, netip.MustParseAddr(tc.want), a, tc.in)
		assert.Equal(t, tc.format, FormatLiteral(a), tc.in)
	}
	for _, in := range []string{
		"", "[]", "192.0.2.1", "[192.0.2.1", "[192.0.2.256]", "[192.0.2]", "[192.0.2.01]",
		"[2001:db8::1]", "[IPv6:192.0.2.1]", "[IPv6:fe80::1%eth0]", "[IPv6:]", "[x-tag:stuff]",
		"[ 192.0.2.1]", "[IPv6:2001:db8::1::1]",
	} {
		_, err := ParseLiteral(in)
		assert.ErrorIs(t, err, ErrInvalidDomain, "%q", in)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "Bücher.example.", "xn--bcher-kva.example", "a..b", "-x.y", "例え.テスト", "r3--sn.x", "[192.0.2.1]", "ａ．ｂ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidDomain)
			return
		}
		require.NoError(t, checkLDH(n))
		require.Equal(t, strings.ToLower(n), n)
		again, err := Normalize(n)
		require.NoError(t, err, "normal form %q of %q must be accepted", n, s)
		require.Equal(t, n, again, "Normalize must be idempotent")
	})
}

func FuzzParseLiteral(f *testing.F) {
	for _, s := range []string{"[192.0.2.1]", "[IPv6:2001:db8::1]", "[IPv6:::ffff:1.2.3.4]", "[1.2.3]", "[IPv6:fe80::1%x]", "[tag:x]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseLiteral(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidDomain)
			return
		}
		require.True(t, a.IsValid())
		require.Empty(t, a.Zone())
		b, err := ParseLiteral(FormatLiteral(a))
		require.NoError(t, err)
		require.Equal(t, a.Unmap(), b.Unmap(), "round trip of %q", s)
	})
}
