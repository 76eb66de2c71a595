package mime

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func kinds(ds []Defect) []DefectKind {
	var ks []DefectKind
	for _, d := range ds {
		ks = append(ks, d.Kind)
	}
	return ks
}

func TestParseMediaType(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		typ     string
		params  map[string]string
		langs   map[string]string
		defects []DefectKind
	}{
		// RFC 2045 §5.1 examples.
		{"rfc2045 plain", `text/plain; charset=us-ascii (Plain text)`, "text/plain",
			map[string]string{"charset": "us-ascii"}, nil, nil},
		{"rfc2045 quoted", `text/plain; charset="us-ascii"`, "text/plain",
			map[string]string{"charset": "us-ascii"}, nil, nil},
		{"case insensitive", `TEXT/Plain; CharSet=UTF-8`, "text/plain",
			map[string]string{"charset": "UTF-8"}, nil, nil},
		// RFC 2046 §5.1.1 example.
		{"rfc2046 boundary", `multipart/mixed; boundary=gc0p4Jq0M2Yt08jU534c0p`, "multipart/mixed",
			map[string]string{"boundary": "gc0p4Jq0M2Yt08jU534c0p"}, nil, nil},
		{"boundary with specials", `multipart/mixed; boundary="simple boundary"`, "multipart/mixed",
			map[string]string{"boundary": "simple boundary"}, nil, nil},
		// RFC 2231 §3, §4, §4.1 examples.
		{"rfc2231 continuation", "message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
			"message/external-body",
			map[string]string{"access-type": "URL", "url": "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"}, nil, nil},
		{"rfc2231 charset", `application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A`,
			"application/x-stuff", map[string]string{"title": "This is ***fun***"}, map[string]string{"title": "en-us"}, nil},
		{"rfc2231 mixed", "application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n title*2=\"isn't it!\"",
			"application/x-stuff", map[string]string{"title": "This is even more ***fun*** isn't it!"}, map[string]string{"title": "en"}, nil},
		// The RFC's own text of that example has no semicolons.
		{"rfc2231 no semicolons", "application/x-stuff\r\n title*0*=us-ascii'en'This%20is%20even%20more%20\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20\r\n title*2=\"isn't it!\"",
			"application/x-stuff", map[string]string{"title": "This is even more ***fun*** isn't it!"}, map[string]string{"title": "en"},
			[]DefectKind{DefectMissingSemicolon, DefectMissingSemicolon, DefectMissingSemicolon}},
		{"rfc2231 latin1", `attachment; filename*=iso-8859-1''r%E9sum%E9.pdf`, "", nil, nil, nil},
		{"rfc2231 out of order", `text/plain; a*1="b"; a*0="a"`, "text/plain", map[string]string{"a": "ab"}, nil, nil},
		{"rfc2231 gap", `text/plain; a*0="a"; a*2="c"`, "text/plain", map[string]string{"a": "a"}, nil, []DefectKind{DefectContinuation}},
		{"rfc2231 wins over plain", `text/plain; name="plain.txt"; name*=utf-8''%C3%A9.txt`, "text/plain", map[string]string{"name": "é.txt"}, nil, nil},
		{"unknown 2231 charset", `text/plain; a*=x-bogus''abc`, "text/plain", map[string]string{"a": "abc"}, nil, []DefectKind{DefectUnknownCharset}},
		{"bad percent", `text/plain; a*=utf-8''a%G1`, "text/plain", map[string]string{"a": "a%G1"}, nil, []DefectKind{DefectBadPercent}},
		// Malformations of real mail.
		{"trailing semicolon", `text/plain; charset=utf-8;`, "text/plain", map[string]string{"charset": "utf-8"}, nil, []DefectKind{DefectTrailingSemicolon}},
		{"double semicolon", `text/plain;; charset=utf-8`, "text/plain", map[string]string{"charset": "utf-8"}, nil, []DefectKind{DefectTrailingSemicolon}},
		{"duplicate", `text/plain; charset=utf-8; charset=latin1`, "text/plain", map[string]string{"charset": "utf-8"}, nil, []DefectKind{DefectDuplicateParam}},
		{"unquoted spaces", `application/pdf; name=my file.pdf`, "application/pdf", map[string]string{"name": "my file.pdf"}, nil, []DefectKind{DefectUnquotedSpecials}},
		{"unquoted specials", `application/pdf; name=a@b[1].pdf; x=y`, "application/pdf", map[string]string{"name": "a@b[1].pdf", "x": "y"}, nil, []DefectKind{DefectUnquotedSpecials}},
		{"unterminated quote", `text/plain; name="abc`, "text/plain", map[string]string{"name": "abc"}, nil, []DefectKind{DefectUnterminatedQuote}},
		{"missing semicolon", `text/plain charset=utf-8`, "text/plain", map[string]string{"charset": "utf-8"}, nil, []DefectKind{DefectMissingSemicolon}},
		{"encoded word filename", `application/pdf; name="=?UTF-8?B?w6l0w6kucGRm?="`, "application/pdf", map[string]string{"name": "été.pdf"}, nil, []DefectKind{DefectEncodedWordParam}},
		{"junk param", `text/plain; junk; charset=utf-8`, "text/plain", map[string]string{"charset": "utf-8"}, nil, []DefectKind{DefectSyntax}},
		{"escaped quote", `text/plain; name="a\"b\\c"`, "text/plain", map[string]string{"name": `a"b\c`}, nil, nil},
		{"comment", `text/plain (comment; here) ; charset=utf-8 (another)`, "text/plain", map[string]string{"charset": "utf-8"}, nil, nil},
		{"8bit value", "application/pdf; name=\"été.pdf\"", "application/pdf", map[string]string{"name": "été.pdf"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.typ == "" {
				d := ParseDisposition(tt.in)
				assert.Equal(t, "attachment", d.Type)
				assert.Equal(t, "résumé.pdf", d.Filename())
				return
			}
			mt, err := ParseMediaType(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.typ, mt.String())
			assert.Equal(t, tt.params, mt.Params)
			assert.Equal(t, tt.langs, mt.Languages)
			assert.Equal(t, tt.defects, kinds(mt.Defects), "%v", mt.Defects)
		})
	}
}

func TestParseMediaTypeNoType(t *testing.T) {
	for _, in := range []string{"", "text", "text/", "/plain", ";charset=utf-8", "(comment)"} {
		_, err := ParseMediaType(in)
		assert.ErrorIs(t, err, ErrNoMediaType, in)
	}
	mt, err := ParseMediaType("text; charset=utf-8")
	require.ErrorIs(t, err, ErrNoMediaType)
	assert.Equal(t, "utf-8", mt.Params["charset"], "parameters come back even then")
}

func TestMediaTypeIs(t *testing.T) {
	mt, _ := ParseMediaType("Multipart/Mixed; boundary=x")
	assert.True(t, mt.Is("multipart/mixed"))
	assert.True(t, mt.Is("MULTIPART/*"))
	assert.True(t, mt.Is("multipart"))
	assert.False(t, mt.Is("multipart/alternative"))
	assert.Equal(t, "x", mt.Param("Boundary"))
}

func TestFormatMediaType(t *testing.T) {
	tests := []struct {
		typ    string
		params map[string]string
		want   string
	}{
		{"text/plain", map[string]string{"charset": "utf-8"}, "text/plain; charset=utf-8"},
		{"Text/Plain", nil, "text/plain"},
		{"multipart/mixed", map[string]string{"boundary": "=_abc"}, `multipart/mixed; boundary="=_abc"`},
		{"attachment", map[string]string{"filename": `a "b".pdf`}, `attachment; filename="a \"b\".pdf"`},
		{"attachment", map[string]string{"filename": "été.pdf"}, `attachment; filename*=utf-8''%C3%A9t%C3%A9.pdf`},
		{"attachment", map[string]string{"filename": "a b c d e f g h i j k l m n o p q r s t u v w x y z 0123456789.txt"},
			`attachment; filename*0="a b c d e f g h i j k l m n o p q r s t u v w x y z 01234567"; filename*1="89.txt"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatMediaType(tt.typ, tt.params))
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	values := []string{
		"simple", "with space", `quote"and\backslash`, "été", "日本語のファイル名がとても長い場合のテストです。日本語のファイル名がとても長い場合.txt",
		"x;y=z", "tab\there", "'apostrophe'", "100%", "*star*", "",
	}
	for _, v := range values {
		s := FormatMediaType("application/octet-stream", map[string]string{"name": v, "x": "1"})
		mt, err := ParseMediaType(s)
		require.NoError(t, err, s)
		assert.Equal(t, v, mt.Params["name"], s)
		assert.Empty(t, mt.Defects, s)
		for _, line := range splitParams(s) {
			assert.LessOrEqual(t, len(line), 78, line)
		}
	}
}

// splitParams splits where a header writer may fold.
func splitParams(s string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ';' && s[i+1] == ' ' {
			out = append(out, s[start:i+1])
			start = i + 2
		}
	}
	return append(out, s[start:])
}

func TestSafeFilename(t *testing.T) {
	assert.Equal(t, "passwd", SafeFilename("../../etc/passwd"))
	assert.Equal(t, "x.exe", SafeFilename(`C:\evil\x.exe`))
	assert.Equal(t, "", SafeFilename(".."))
	assert.Equal(t, "ab", SafeFilename("a\x00\nb"))
}

func FuzzParseMediaType(f *testing.F) {
	for _, s := range []string{
		`text/plain; charset="us-ascii"`,
		"application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
		`multipart/mixed; boundary="=_x"; `,
		`a/b; name="=?UTF-8?B?w6l0w6kucGRm?="`,
		`a/b (c(d)e) ; x=y z; w="unterminated`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mt, err := ParseMediaType(s)
		if err != nil {
			return
		}
		// What we format, we parse back to the same parameters.
		out := mt.Format()
		mt2, err := ParseMediaType(out)
		if err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if mt2.String() != mt.String() {
			t.Fatalf("type %q became %q", mt.String(), mt2.String())
		}
		for k, v := range mt.Params {
			if !validAttribute(k) {
				continue
			}
			if mt2.Params[k] != v {
				t.Fatalf("param %q: %q became %q via %q", k, v, mt2.Params[k], out)
			}
		}
	})
}

// RFC 2047 §8's examples, as they appear in file names of real mail.
func TestEncodedWordFilenames(t *testing.T) {
	tests := map[string]string{
		"=?US-ASCII?Q?Keith_Moore?=":                        "Keith Moore",
		"=?ISO-8859-1?Q?Andr=E9?= Pirard":                   "André Pirard",
		"=?ISO-8859-1?Q?a?=":                                "a",
		"=?ISO-8859-1?Q?a?= b":                              "a b",
		"=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=":             "ab",
		"=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=":            "ab",
		"=?ISO-8859-1?Q?a_b?=":                              "a b",
		"=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=":            "a b",
		"=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=": "If you can read this yo",
	}
	for in, want := range tests {
		d := ParseDisposition(`attachment; filename="` + in + `"`)
		assert.Equal(t, want, d.Params["filename"], in)
		assert.Equal(t, []DefectKind{DefectEncodedWordParam}, kinds(d.Defects), in)
	}
	// Other parameters are left alone: a boundary may look like a word.
	mt, err := ParseMediaType(`multipart/mixed; boundary="=?x?q?y?="`)
	require.NoError(t, err)
	assert.Equal(t, "=?x?q?y?=", mt.Params["boundary"])
}

func TestParseMediaTypeHostile(t *testing.T) {
	// Many parameters and continuations: linear work, bounded defects.
	var b strings.Builder
	b.WriteString("text/plain")
	for i := range 20000 {
		fmt.Fprintf(&b, "; p%d*%d*=x; junk%d", i, i%3, i)
	}
	mt, err := ParseMediaType(b.String())
	require.NoError(t, err)
	assert.LessOrEqual(t, len(mt.Defects), maxDefects)
	assert.Len(t, mt.Params, 20000)
}

// Parameters without semicolons, and values followed by comments, are
// parsed in linear time: a quadratic parser takes minutes on these.
func TestParseMediaTypeMissingSemicolonsLinear(t *testing.T) {
	n := 400000
	if testing.Short() || raceEnabled {
		n = 100000
	}
	for name, v := range map[string]string{
		"no semicolons": "text/plain; a=x" + strings.Repeat(" b=c", n),
		"empty values":  "text/plain; a=x" + strings.Repeat(" b=", n),
		"spaces":        "text/plain; a=x" + strings.Repeat(" ", 4*n) + "y",
		"comments":      "text/plain; a=x" + strings.Repeat(" ( b=c", n) + strings.Repeat(")", n) + " z",
	} {
		mt, err := ParseMediaType(v)
		require.NoError(t, err, name)
		assert.Equal(t, "text/plain", mt.String(), name)
		assert.LessOrEqual(t, len(mt.Defects), maxDefects, name)
	}
	mt, err := ParseMediaType("text/plain; a=x b=c (comment) ; d=e")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "x", "b": "c", "d": "e"}, mt.Params)
}
