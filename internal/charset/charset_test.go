package charset

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding"
)

func TestLookupKnown(t *testing.T) {
	names := []string{
		"us-ascii", "US-ASCII", "utf-8", "UTF8", " \"utf-8\" ",
		"iso-8859-1", "ISO-8859-2", "iso-8859-5", "iso-8859-7", "iso-8859-9", "iso-8859-15", "ISO_8859-1:1987", "latin1",
		"windows-1250", "windows-1251", "Windows-1252", "windows-1258", "cp1252",
		"koi8-r", "KOI8-U", "gb2312", "GBK", "gb18030", "big5", "shift_jis", "Shift-JIS",
		"euc-jp", "iso-2022-jp", "euc-kr", "ks_c_5601-1987",
		"utf-16", "utf-16le", "utf-16be", "utf-32", "utf-7", "UTF-7",
		"cp850", "ibm850", "IBM437", "cp866", "macintosh", "tis-620", "utf-8*en",
	}
	for _, n := range names {
		e, err := Lookup(n)
		require.NoError(t, err, n)
		require.NotNil(t, e, n)
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, n := range []string{"", "x-no-such-charset", "utf-9", "cp"} {
		_, err := Lookup(n)
		require.Error(t, err, n)
		var ue *UnknownError
		require.True(t, errors.As(err, &ue), n)
		assert.Equal(t, n, ue.Name)
		assert.ErrorIs(t, err, ErrUnknown)
	}
	_, err := NewReader("bogus", strings.NewReader("x"))
	require.Error(t, err)
	_, err = DecodeString("bogus", "x")
	require.Error(t, err)
}

func TestFastPath(t *testing.T) {
	for _, n := range []string{"utf-8", "UTF-8", "us-ascii", "ascii"} {
		e, err := Lookup(n)
		require.NoError(t, err)
		assert.Equal(t, encoding.Nop, e)
		assert.True(t, IsUTF8(n))
		r := strings.NewReader("h\xe9llo")
		got, err := NewReader(n, r)
		require.NoError(t, err)
		assert.Same(t, r, got, "no transform for %s", n)
		s, err := DecodeString(n, "h\xe9llo")
		require.NoError(t, err)
		assert.Equal(t, "h\xe9llo", s)
	}
	assert.False(t, IsUTF8("iso-8859-1"))
}

func TestDecode(t *testing.T) {
	tests := []struct{ cs, in, want string }{
		{"iso-8859-1", "Andr\xe9", "André"},
		{"ISO-8859-15", "\xa4", "€"},
		{"windows-1252", "\x80", "€"},
		{"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет"},
		{"iso-8859-2", "\xb1", "ą"},
		{"shift_jis", "\x93\xfa\x96\x7b", "日本"},
		{"euc-jp", "\xc6\xfc\xcb\xdc", "日本"},
		{"iso-2022-jp", "\x1b$BF|K\\\x1b(B", "日本"},
		{"gb2312", "\xd6\xd0\xce\xc4", "中文"},
		{"gb18030", "\xd6\xd0\xce\xc4", "中文"},
		{"big5", "\xa4\xa4\xa4\xe5", "中文"},
		{"euc-kr", "\xc7\xd1\xb1\xdb", "한글"},
		{"utf-16le", "h\x00i\x00", "hi"},
		{"utf-16be", "\x00h\x00i", "hi"},
		{"utf-16", "\xff\xfeh\x00i\x00", "hi"},
		{"utf-16", "\x00h\x00i", "hi"},
		{"utf-32", "\x00\x00\x00h", "h"},
		{"utf-7", "Hi Mom -+Jjo--!", "Hi Mom -☺-!"},
	}
	for _, tc := range tests {
		got, err := DecodeString(tc.cs, tc.in)
		require.NoError(t, err, tc.cs)
		assert.Equal(t, tc.want, got, tc.cs)

		r, err := NewReader(tc.cs, strings.NewReader(tc.in))
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(b), tc.cs)

		bb, err := Decode(tc.cs, []byte(tc.in))
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(bb), tc.cs)
	}
}

// RFC 2152 §"Examples" vectors.
func TestUTF7Decode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A+ImIDkQ.", "A\u2262\u0391."},
		{"Hi Mom -+Jjo--!", "Hi Mom -\u263a-!"},
		{"+ZeVnLIqe-", "日本語"},
		{"Item 3 is +AKM-1.", "Item 3 is £1."},
		{"1 +- 1 = 2", "1 + 1 = 2"},
		{"+AGEAYgBj-", "abc"},
		{"+AGEAYgBj", "abc"},
		{"+2D3eAA-", "\U0001f600"}, // surrogate pair
		{"+2D0-", "\ufffd"},        // lone high surrogate
		{"+3gA-", "\ufffd"},        // lone low surrogate
		{"+AG-", "\ufffd"},         // leftover non-zero bits
		{"+AGEA-", "a\ufffd"},      // 6+ leftover bits
		{"a\xffb", "a\ufffdb"},     // 8-bit byte
		{"+", "+"},                 // lone plus at end
		{"+ x", "+ x"},             // plus then non-base64
		{"+AGE +AGI-", "a b"},      // run ended by space
		{"+2D3YPd4A-", "\ufffd\U0001f600"},
	}
	for _, tc := range tests {
		got, err := UTF7.NewDecoder().String(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestUTF7Encode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hi Mom -\u263a-!", "Hi Mom -+Jjo--+ACE-"},
		{"A\u2262\u0391.", "A+ImIDkQ-."},
		{"1 + 1", "1 +- 1"},
		{"日本語", "+ZeVnLIqe-"},
		{"\U0001f600", "+2D3eAA-"},
	}
	for _, tc := range tests {
		got, err := UTF7.NewEncoder().String(tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		back, err := UTF7.NewDecoder().String(got)
		require.NoError(t, err)
		assert.Equal(t, tc.in, back)
	}
}

// TestUTF7SmallBuffers feeds the decoder through a reader that returns one byte
// at a time, so every state crosses a Transform call boundary.
func TestUTF7SmallBuffers(t *testing.T) {
	in := "Hi +2D3eAA- and +ZeVnLIqe- 1 +- 1"
	r, err := NewReader("utf-7", &oneByte{s: in})
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "Hi \U0001f600 and 日本語 1 + 1", string(b))
}

type oneByte struct{ s string }

func (o *oneByte) Read(p []byte) (int, error) {
	if o.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}

func FuzzUTF7(f *testing.F) {
	for _, s := range []string{"A+ImIDkQ.", "Hi Mom -+Jjo--!", "+ZeVnLIqe-", "+", "+-", "+2D3eAA-", "+AG-", "a\xffb", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := UTF7.NewDecoder().String(s)
		if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("decode %q: invalid UTF-8 %q", s, out)
		}
		// Encoding valid UTF-8 then decoding gives it back.
		if utf8.ValidString(s) {
			enc, err := UTF7.NewEncoder().String(s)
			if err != nil {
				t.Fatalf("encode %q: %v", s, err)
			}
			back, err := UTF7.NewDecoder().String(enc)
			if err != nil || back != s {
				t.Fatalf("round trip %q -> %q -> %q (%v)", s, enc, back, err)
			}
		}
	})
}

func TestLookupCodePageAliases(t *testing.T) {
	for _, n := range []string{"cp-850", "ibm-437", "IBM-866", "cp-1252"} {
		e, err := Lookup(n)
		require.NoError(t, err, n)
		require.NotNil(t, e, n)
	}
	s, err := DecodeString("ibm-437", "\x82")
	require.NoError(t, err)
	assert.Equal(t, "é", s)
	_, err = Lookup("cp-99999")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cp-99999")
	assert.Equal(t, "UTF-7", UTF7.(interface{ String() string }).String())
	_, err = Decode("nope", nil)
	require.Error(t, err)
}
