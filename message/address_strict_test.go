package message

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseAddressRefuses lists addr-specs that RFC 5322 §3.2 and §3.4.1 do
// not allow. The validating parsers refuse each with an *AddressError at
// the offset given; before, each was accepted, some changed (see the
// comments).
func TestParseAddressRefuses(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{".a@x.test", 0, "local part starts with a dot"},      // was ".a@x.test"
		{"a.@x.test", 1, "local part ends with a dot"},        // was "a.@x.test"
		{"a..b@x.test", 2, "two dots in a row in local part"}, // was "a..b@x.test"
		{"Joe <a.@x.test>", 6, "local part ends with a dot"},  // was "a.@x.test"
		{"a@x..test", 4, "two dots in a row in domain"},       // was "a@x..test"
		{"a@.x.test", 2, "domain starts with a dot"},          // an error already
		{"a@x.test.", 9, "domain ends with a dot"},
		{"a@x . . test", 6, "two dots in a row in domain"},       // obs-domain, an error already
		{"\"a\x00b\"@x.test", 2, "NUL character"},                // was "a\x00b@x.test"
		{"a@x.test (unclosed", 9, "comment not closed"},          // was "a@x.test"
		{"a@x.test (a (b)", 9, "comment not closed"},             // was "a@x.test"
		{"\"\rtest\"@example.org", 1, "CR not followed by LF"},   // was "test@example.org"
		{"\"\n\"@example.org", 1, "LF without CR"},               // was "@example.org"
		{"\"a\r\nb\"@example.org", 2, "line break not followed"}, // was "ab@example.org"
		{"a@x.test\r\n", 8, "line break not followed"},           // was "a@x.test"
		{"a@x.test,\r\nb@x.test", 9, "line break not followed"},  // was both addresses
		{"a\n@x.test", 1, "LF without CR"},                       // was "a@x.test"
		{"\"a\\\x00\"@x.test", 2, "quoted NUL, CR or LF"},        // was "a\x00@x.test"
		{"a@[1.2\\\r\\\n3]", 6, "quoted NUL, CR or LF"},          // was "a@[1.23]"
	}
	for _, tc := range tests {
		for name, parse := range map[string]func(string) error{
			"ParseAddress":     func(s string) error { _, err := ParseAddress(s); return err },
			"ParseAddressList": func(s string) error { _, err := ParseAddressList(s); return err },
		} {
			err := parse(tc.in)
			var ae *AddressError
			require.ErrorAs(t, err, &ae, "%s(%q)", name, tc.in)
			assert.Equal(t, tc.offset, ae.Offset, "%s(%q): %v", name, tc.in, err)
			assert.Contains(t, ae.Msg, tc.msg, "%s(%q)", name, tc.in)
		}
	}
	// Folding (CRLF followed by white space) is the line break allowed,
	// and unfolding keeps the white space.
	list, err := ParseAddressList("\"a\r\n b\" <a@x.test>,\r\n\tb@x.test (B\r\n c)")
	require.NoError(t, err)
	assert.Equal(t, []*Address{mb("a b", "a@x.test"), mb("B c", "b@x.test")}, list)
}

// TestParseAddressListLenient: one bad entry costs only itself. Before,
// ParseAddressList was the only reader, and every case below gave an error
// and no address at all.
func TestParseAddressListLenient(t *testing.T) {
	tests := []struct {
		in      string
		want    []*Address
		defects []string // the start of each defect's Msg, in order
	}{
		{"a@b.example, undisclosed", []*Address{mb("", "a@b.example"), mb("", "undisclosed")}, []string{"mailbox without a domain"}},
		{"Joe <joe>, b@x.test", []*Address{mb("Joe", "joe"), mb("", "b@x.test")}, []string{"mailbox without a domain"}},
		{"a@x.test, John Smith, b@x.test", []*Address{mb("", "a@x.test"), mb("", "b@x.test")}, []string{"expected \"@\""}},
		{"a.@x.test", []*Address{mb("", "a.@x.test")}, []string{"local part ends with a dot"}},
		{"a@x..test, c@y.test", []*Address{mb("", "a@x..test"), mb("", "c@y.test")}, []string{"two dots in a row in domain"}},
		{"a@x.test (unclosed", []*Address{mb("", "a@x.test")}, []string{"comment not closed"}},
		{"\"a\x00b\"@x.test, c@y.test", []*Address{mb("", "c@y.test")}, []string{"NUL in quoted string"}},
		{"\"\rtest\"@example.org, b@x.test", []*Address{mb("", "b@x.test")}, []string{"line break in quoted string"}},
		{"<@>, x@y.test", []*Address{mb("", "x@y.test")}, []string{"malformed domain"}},
		{"G: a@x.test, bad stuff, b@x.test;, c@x.test", []*Address{grp("G", mb("", "a@x.test"), mb("", "b@x.test")), mb("", "c@x.test")}, []string{"expected \"@\""}},
		{"a@x.test b@y.test, c@z.test", []*Address{mb("", "c@z.test")}, []string{"expected"}},
		{"", nil, nil},
	}
	for _, tc := range tests {
		got, defects := ParseAddressListLenient(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		var msgs []string
		for _, d := range defects {
			msgs = append(msgs, d.Msg)
		}
		require.Len(t, msgs, len(tc.defects), "%q: %q", tc.in, msgs)
		for i, d := range tc.defects {
			assert.True(t, strings.HasPrefix(msgs[i], d), "%q: defect %q, want %q", tc.in, msgs[i], d)
		}
		for _, a := range Mailboxes(got) {
			assert.NotContains(t, a.Addr, "\r")
			assert.NotContains(t, a.Addr, "\n")
			assert.NotContains(t, a.Addr, "\x00")
		}
	}
	// A domain-less mailbox has an empty domain.
	got, _ := ParseAddressListLenient("undisclosed")
	require.Len(t, got, 1)
	assert.Equal(t, "undisclosed", got[0].LocalPart())
	assert.Equal(t, "", got[0].Domain())
}

// TestParseDateYearDigits: a year is read exactly or refused. Before,
// digits past the ninth were dropped: 9999999999 read as 999999999.
func TestParseDateYearDigits(t *testing.T) {
	_, err := ParseDate("Mon, 20 Nov 9999999999 12:00:00 +0000")
	var de *DateError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.Msg, "more than 9 digits")
	_, err = ParseDate("Fri Nov 21 09:55:06 19970000000")
	require.ErrorAs(t, err, &de)

	d, err := ParseDate("Mon, 20 Nov 999999999 12:00:00 +0000")
	require.NoError(t, err)
	assert.Equal(t, 999999999, d.Year())
	d, err = ParseDate("Mon, 20 Nov 0000002024 12:00:00 +0000")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 11, 20, 12, 0, 0, 0, time.UTC), d)
}
