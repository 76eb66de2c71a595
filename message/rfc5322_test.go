package message

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendixA describes what each example message of RFC 5322 Appendix A must
// parse to. The files in testdata/rfc5322 are the examples as printed, with
// CRLF line ends.
var appendixA = map[string]struct {
	from, to, cc   []*Address
	date           time.Time
	msgID          string
	refs           []string
	body           string
	received       int
	resentTo       []*Address
	sender, subjct string
}{
	"A.1.1-1": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example", subjct: "Saying Hello",
		body: "This is a message just to say hello.\r\nSo, \"Hello\".\r\n"},
	"A.1.1-2": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		sender: "Michael Jones <mjones@machine.example>",
		date:   time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example", subjct: "Saying Hello"},
	"A.1.2-1": {from: []*Address{mb("Joe Q. Public", "john.q.public@example.com")},
		to:   []*Address{mb("Mary Smith", "mary@x.test"), mb("", "jdoe@example.org"), mb("Who?", "one@y.test")},
		cc:   []*Address{mb("", "boss@nil.test"), mb(`Giant; "Big" Box`, "sysservices@example.net")},
		date: time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC), msgID: "5678.21-Nov-1997@example.com", body: "Hi everyone.\r\n"},
	"A.1.3-1": {from: []*Address{mb("Pete", "pete@silly.example")},
		to:   []*Address{grp("A Group", mb("Ed Jones", "c@a.test"), mb("", "joe@where.test"), mb("John", "jdoe@one.test"))},
		cc:   []*Address{grp("Undisclosed recipients")},
		date: time.Date(1969, 2, 14, 3, 2, 54, 0, time.UTC), msgID: "testabcd.1234@silly.example", body: "Testing.\r\n"},
	"A.2-1": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example"},
	"A.2-2": {from: []*Address{mb("Mary Smith", "mary@example.net")}, to: []*Address{mb("John Doe", "jdoe@machine.example")},
		date: time.Date(1997, 11, 21, 16, 1, 10, 0, time.UTC), msgID: "3456@example.net", refs: []string{"1234@local.machine.example"},
		subjct: "Re: Saying Hello"},
	"A.2-3": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith: Personal Account", "smith@home.example")},
		date: time.Date(1997, 11, 21, 17, 0, 0, 0, time.UTC), msgID: "abcd.1234@local.machine.test",
		refs: []string{"1234@local.machine.example", "3456@example.net"}},
	"A.3-1": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example"},
	"A.3-2": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		resentTo: []*Address{mb("Jane Brown", "j-brown@other.example")},
		date:     time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example"},
	"A.4-1": {from: []*Address{mb("John Doe", "jdoe@node.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.node.example", received: 2},
	"A.5-1": {from: []*Address{mb("Pete", "pete@silly.test")},
		to:   []*Address{grp("A Group", mb("Chris Jones", "c@public.example"), mb("", "joe@example.org"), mb("John", "jdoe@one.test"))},
		cc:   []*Address{grp("Hidden recipients")},
		date: time.Date(1969, 2, 14, 3, 2, 0, 0, time.UTC), msgID: "testabcd.1234@silly.test", body: "Testing.\r\n"},
	"A.6.1-1": {from: []*Address{mb("Joe Q. Public", "john.q.public@example.com")},
		to:   []*Address{mb("Mary Smith", "mary@example.net"), mb("", "jdoe@test.example")},
		date: time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC), msgID: "5678.21-Nov-1997@example.com"},
	"A.6.2-1": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 9, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example"},
	"A.6.3-1": {from: []*Address{mb("John Doe", "jdoe@machine.example")}, to: []*Address{mb("Mary Smith", "mary@example.net")},
		date: time.Date(1997, 11, 21, 15, 55, 6, 0, time.UTC), msgID: "1234@local.machine.example", subjct: "Saying Hello",
		body: "This is a message just to say hello.\r\nSo, \"Hello\".\r\n"},
}

func TestRFC5322AppendixA(t *testing.T) {
	files, err := filepath.Glob("testdata/rfc5322/*.eml")
	require.NoError(t, err)
	require.Len(t, files, len(appendixA))
	for _, file := range files {
		name := filepath.Base(file)
		name = name[:len(name)-len(".eml")]
		want, ok := appendixA[name]
		require.True(t, ok, name)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			m, err := Read(bytes.NewReader(data))
			require.NoError(t, err)
			h := &m.Header
			assert.Empty(t, h.Defects())

			from, err := ParseAddressList(h.Get("From"))
			require.NoError(t, err)
			assert.Equal(t, want.from, from)
			to, err := ParseAddressList(h.Get("To"))
			require.NoError(t, err)
			assert.Equal(t, want.to, to)
			cc, err := ParseAddressList(h.Get("Cc"))
			require.NoError(t, err)
			assert.Equal(t, want.cc, cc)
			if want.resentTo != nil {
				rt, err := ParseAddressList(h.Get("Resent-To"))
				require.NoError(t, err)
				assert.Equal(t, want.resentTo, rt)
			}
			if want.sender != "" {
				s, err := ParseAddress(h.Get("Sender"))
				require.NoError(t, err)
				assert.Equal(t, want.sender, s.String())
			}
			if want.subjct != "" {
				assert.Equal(t, want.subjct, h.Get("Subject"))
			}
			d, err := ParseDate(h.Get("Date"))
			require.NoError(t, err)
			assert.True(t, want.date.Equal(d), "date %v, want %v", d, want.date)
			id, err := ParseMessageID(h.Get("Message-ID"))
			require.NoError(t, err)
			assert.Equal(t, want.msgID, id)
			if want.refs != nil {
				assert.Equal(t, want.refs, ParseMessageIDList(h.Get("References")))
				irt := ParseMessageIDList(h.Get("In-Reply-To"))
				assert.Equal(t, want.refs[len(want.refs)-1:], irt)
			}
			assert.Equal(t, want.received, h.Count("Received"))
			for _, v := range h.Values("Received") {
				r, err := ParseReceived(v)
				require.NoError(t, err)
				assert.NotEmpty(t, r.From)
				assert.NotEmpty(t, r.By)
			}
			body, err := io.ReadAll(m.Body)
			require.NoError(t, err)
			if want.body != "" {
				assert.Equal(t, want.body, string(body))
			}

			// Every example is a valid message.
			assert.Empty(t, Validate(h))

			// Unmodified, the message is written back byte for byte.
			var out bytes.Buffer
			_, err = h.WriteTo(&out)
			require.NoError(t, err)
			out.Write(body)
			assert.Equal(t, string(data), out.String())

			// Formatting the parsed addresses and parsing them again
			// gives the same addresses.
			for _, list := range [][]*Address{from, to, cc} {
				again, err := ParseAddressList(FormatAddressList(list))
				require.NoError(t, err)
				assert.Equal(t, list, again)
			}
		})
	}
}
