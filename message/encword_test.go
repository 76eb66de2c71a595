package message

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailwire/mailwire/internal/charset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeWords(t *testing.T) {
	tests := []struct{ in, want string }{
		// RFC 2047 §8 examples.
		{"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"},
		{"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld Jørn Simonsen"},
		{"=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"},
		{"=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
			"If you can read this you understand the example."},
		{"=?ISO-8859-1?Q?Olle_J=E4rnefors?=", "Olle Järnefors"},
		{"=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?=", "Patrik Fältström"},
		{"(=?ISO-8859-1?Q?a?=)", "(a)"},
		{"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
		{"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
		{"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
		{"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
		{"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
		{"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
		{"(=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)", "(םולש ןב ילטפנ)"},
		// Others.
		{"plain text", "plain text"},
		{"=?utf-8?b?w6k=?=", "é"},
		{"=?UTF-8?B?w6k?=", "é"}, // missing padding
		{"=?utf-8*fr?q?=C3=A9?=", "é"},
		{"=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "é"}, // character split across words
		{"a =?utf-8?q?b?= c", "a b c"},
		{"=?koi8-r?B?8NLJ18XU?=", "Привет"},
		{"=?iso-2022-jp?B?GyRCRnxLXBsoQg==?=", "日本"},
		{"=?utf-8?q?x?=y", "xy"},
		{"=? not a word", "=? not a word"},
		{"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
		{"=?utf-8?q?a b?=", "=?utf-8?q?a b?="},
	}
	for _, tc := range tests {
		got, err := DecodeWords(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestDecodeWordsMalformed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=?x-unknown?q?abc?=", "=?x-unknown?q?abc?="},
		{"a =?utf-8?b?!!!?= b", "a =?utf-8?b?!!!?= b"},
		{"=?utf-8?q?=ZZ?= =?utf-8?q?ok?=", "=?utf-8?q?=ZZ?= ok"},
	}
	for _, tc := range tests {
		got, err := DecodeWords(tc.in)
		require.Error(t, err, tc.in)
		var we *WordError
		require.True(t, errors.As(err, &we))
		assert.Equal(t, tc.want, got, tc.in)
	}
	_, err := DecodeWords("=?x-unknown?q?abc?=")
	var ue *charset.UnknownError
	assert.True(t, errors.As(err, &ue))
}

func TestEncodeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello world", "Hello world"},
		{"Héllo world", "=?UTF-8?Q?H=C3=A9llo?= world"},
		{"say Héllo wörld now", "say =?UTF-8?Q?H=C3=A9llo_w=C3=B6rld?= now"},
		{"日本語", "=?UTF-8?B?5pel5pys6Kqe?="},
		{"looks =?like?q?word?=", "looks =?UTF-8?Q?=3D=3Flike=3Fq=3Fword=3F=3D?="},
	}
	for _, tc := range tests {
		got := EncodeText(tc.in)
		assert.Equal(t, tc.want, got)
		back, err := DecodeWords(got)
		require.NoError(t, err)
		assert.Equal(t, tc.in, back)
	}
}

func TestEncodeLongText(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("日本語のテキスト", 20),
		strings.Repeat("é", 200),
		strings.Repeat("aé", 100) + " and more text " + strings.Repeat("😀", 30),
	} {
		enc := EncodeText(in)
		for _, w := range strings.Fields(enc) {
			assert.LessOrEqual(t, len(w), MaxWordLength, w)
			if strings.HasPrefix(w, "=?") {
				// Each word decodes to whole characters by itself.
				d, err := DecodeWords(w)
				require.NoError(t, err)
				assert.True(t, utf8.ValidString(d), w)
			}
		}
		back, err := DecodeWords(enc)
		require.NoError(t, err)
		assert.Equal(t, in, back)
	}
}

func FuzzDecodeWords(f *testing.F) {
	for _, s := range []string{
		"=?ISO-8859-1?Q?Andr=E9?= Pirard",
		"=?utf-8?b?w6k=?= =?utf-8?q?=C3?= =?utf-8?q?=A9?=",
		"=?x?q?a?=", "=?", "=?utf-8?q?", "=?utf-7?q?+AGE-?=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, _ := DecodeWords(s)
		if utf8.ValidString(s) && !utf8.ValidString(d) {
			t.Fatalf("%q decodes to invalid UTF-8 %q", s, d)
		}
		if utf8.ValidString(s) {
			enc := EncodeText(s)
			back, err := DecodeWords(enc)
			if err != nil {
				t.Fatalf("decode(encode(%q)) = %v", s, err)
			}
			// EncodeText keeps white space outside the encoded span and
			// inside it exactly.
			if back != s {
				t.Fatalf("round trip %q -> %q -> %q", s, enc, back)
			}
		}
	})
}

func TestEncodePhrase(t *testing.T) {
	assert.Equal(t, "Joe Bloggs", EncodePhrase("Joe Bloggs"))
	assert.Equal(t, "=?UTF-8?Q?J=C3=B6rg?=", EncodePhrase("Jörg"))
	_, err := DecodeWords("=?bogus?q?x?=")
	assert.Contains(t, err.Error(), "bogus")
	_, err = ParseDate("nope")
	assert.Contains(t, err.Error(), "nope")
	assert.Equal(t, "message: Date: missing", Problem{"Date", "missing"}.Error())
	assert.Equal(t, "message: x", Problem{"", "x"}.Error())
}
