package imap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFetchItems(t *testing.T) {
	tests := []struct {
		in   string
		want []FetchItem
		out  string // the formatted form when it differs from in
	}{
		{in: "ALL", want: FetchMacroAll, out: "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"},
		{in: "fast", want: FetchMacroFast, out: "(FLAGS INTERNALDATE RFC822.SIZE)"},
		{in: "FULL", want: FetchMacroFull, out: "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)"},
		{in: "UID", want: []FetchItem{{Attr: FetchUID}}},
		{in: "(UID FLAGS MODSEQ)", want: []FetchItem{{Attr: FetchUID}, {Attr: FetchFlags}, {Attr: FetchModSeq}}},
		{in: "(rfc822.size rfc822 rfc822.header rfc822.text bodystructure envelope internaldate)",
			want: []FetchItem{{Attr: FetchRFC822Size}, {Attr: FetchRFC822}, {Attr: FetchRFC822Header}, {Attr: FetchRFC822Text},
				{Attr: FetchBodyStructure}, {Attr: FetchEnvelope}, {Attr: FetchInternalDate}},
			out: "(RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT BODYSTRUCTURE ENVELOPE INTERNALDATE)"},
		{in: "BODY[]", want: []FetchItem{{Attr: FetchBodySection}}},
		{in: "BODY.PEEK[]<0.100>", want: []FetchItem{{Attr: FetchBodySection, Peek: true, Partial: &Partial{0, 100}}}},
		{in: "BODY[1.2.3]", want: []FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{1, 2, 3}}}}},
		{in: "BODY[1.2.MIME]", want: []FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{1, 2}, Specifier: SpecMIME}}}},
		{in: "BODY[4.2.TEXT]", want: []FetchItem{{Attr: FetchBodySection, Section: Section{Part: []uint32{4, 2}, Specifier: SpecText}}}},
		{in: "BODY[HEADER]", want: []FetchItem{{Attr: FetchBodySection, Section: Section{Specifier: SpecHeader}}}},
		{in: "BODY.PEEK[HEADER.FIELDS (DATE FROM)]", want: []FetchItem{{Attr: FetchBodySection, Peek: true,
			Section: Section{Specifier: SpecHeaderFields, Fields: []string{"DATE", "FROM"}}}}},
		{in: `BODY[1.HEADER.FIELDS.NOT ("X Y" Subject)]<10.20>`, want: []FetchItem{{Attr: FetchBodySection,
			Section: Section{Part: []uint32{1}, Specifier: SpecHeaderFieldsNot, Fields: []string{"X Y", "Subject"}}, Partial: &Partial{10, 20}}}},
		{in: "BINARY[1]", want: []FetchItem{{Attr: FetchBinary, Section: Section{Part: []uint32{1}}}}},
		{in: "BINARY.PEEK[2.1]<5.6>", want: []FetchItem{{Attr: FetchBinary, Peek: true, Section: Section{Part: []uint32{2, 1}}, Partial: &Partial{5, 6}}}},
		{in: "BINARY.SIZE[]", want: []FetchItem{{Attr: FetchBinarySize}}},
		{in: "BODY", want: []FetchItem{{Attr: FetchBody}}},
	}
	for _, tt := range tests {
		got, err := ParseFetchItems(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		out := formatString(func(f Formatter) { FormatFetchItems(f, got) })
		if tt.out == "" {
			tt.out = tt.in
		}
		assert.Equal(t, tt.out, out)
		again, err := ParseFetchItems(out)
		require.NoError(t, err)
		assert.Equal(t, got, again, "round trip of %s", out)
	}
	for _, bad := range []string{"", "()", "(UID", "UID)", "FOO", "BODY[", "BODY[HEADER", "BODY[0]", "BODY[1.]",
		"BODY[MIME]", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]", "BODY[]<1>", "BODY[]<1.0>", "BINARY[TEXT]",
		"BINARY.SIZE[1]<0.1>", "(ALL)", "BODY[X]", "UID FLAGS", "BODY[]<99999999999999999999.1>"} {
		_, err := ParseFetchItems(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestFetchItemResponseName(t *testing.T) {
	it := FetchItem{Attr: FetchBodySection, Peek: true, Section: Section{Specifier: SpecHeader}, Partial: &Partial{100, 50}}
	assert.Equal(t, "BODY[HEADER]<100>", it.ResponseName())
	back, err := ParseFetchItem("BODY[HEADER]<100>", true)
	require.NoError(t, err)
	assert.Equal(t, &Partial{Offset: 100}, back.Partial)
	assert.True(t, it.SetsSeen() == false)
	assert.True(t, FetchItem{Attr: FetchRFC822}.SetsSeen())
	assert.True(t, FetchItem{Attr: FetchBinary}.SetsSeen())
	assert.False(t, FetchItem{Attr: FetchRFC822Header}.SetsSeen())
}
