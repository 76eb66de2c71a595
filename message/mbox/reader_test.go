package mbox

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type readMsg struct {
	sender, content string
	date            time.Time
}

func readAllMessages(t *testing.T, r *Reader) []readMsg {
	t.Helper()
	var out []readMsg
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(m)
		require.NoError(t, err)
		out = append(out, readMsg{m.Sender, string(b), m.Date})
	}
}

func contents(msgs []readMsg) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, m.content)
	}
	return out
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		variant Variant
		want    []string
	}{
		{"empty", "", Mboxrd, []string{}},
		{"RFC 4155 example shape",
			"From alice@a.example Tue Nov 24 03:34:08 2026\nSubject: 1\n\nbody 1\n\nFrom bob@b.example Tue Nov 24 03:35:08 2026\nSubject: 2\n\nbody 2\n\n",
			Mboxrd, []string{"Subject: 1\n\nbody 1\n", "Subject: 2\n\nbody 2\n"}},
		{"no terminator at end", "From a Tue Nov 24 03:34:08 2026\nx\n", Mboxrd, []string{"x\n"}},
		{"no final newline", "From a Tue Nov 24 03:34:08 2026\nx", Mboxrd, []string{"x"}},
		{"leading blank lines", "\n\r\nFrom a b\nx\n", Mboxrd, []string{"x\n"}},
		{"several blank lines kept but one", "From a b\nx\n\n\n\nFrom a b\ny\n", Mboxrd, []string{"x\n\n\n", "y\n"}},
		{"empty message", "From a b\n\nFrom a b\n\n", Mboxrd, []string{"", ""}},
		{"CRLF", "From a b\r\nS: 1\r\n\r\nbody\r\n\r\nFrom a b\r\nS: 2\r\n\r\n", Mboxrd, []string{"S: 1\r\n\r\nbody\r\n", "S: 2\r\n"}},
		{"mboxrd unquoting", "From a b\n>From x\n>>From y\n>>>From z\n> From no\n>Fromage\nFrom\n\n", Mboxrd,
			[]string{"From x\n>From y\n>>From z\n> From no\n>Fromage\nFrom\n"}},
		{"mboxo unquoting", "From a b\n>From x\n>>From y\n\n", Mboxo, []string{"From x\n>>From y\n"}},
		{"unquoted From line splits (lenient)", "From a b\nhi\nFrom the start\n", Mboxrd, []string{"hi\n", ""}},
		{"From in mid-line", "From a b\nsay From x\n", Mboxrd, []string{"say From x\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			r.Variant = tt.variant
			assert.Equal(t, tt.want, contents(readAllMessages(t, r)))
			// Same through one-byte reads on both sides.
			r = NewReader(iotest.OneByteReader(strings.NewReader(tt.in)))
			r.Variant = tt.variant
			var got []string
			for {
				m, err := r.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				b, err := io.ReadAll(iotest.OneByteReader(m))
				require.NoError(t, err)
				got = append(got, string(b))
			}
			if got == nil {
				got = []string{}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReaderSeparator(t *testing.T) {
	in := "From MAILER-DAEMON Tue Nov  4 03:34:08 2026\nx\n\n" +
		"From bob@example.test Mon Jan  2 15:04:05 2006 +0100\nx\n\n" +
		"From c@x Mon Jan 2 15:04:05 MST 2006\nx\n\n" +
		"From uucp Mon Jan 2 15:04:05 2006 remote from host\nx\n\n" +
		"From nodate\nx\n\n" +
		"From " + strings.Repeat("x", 5000) + " Mon Jan 2 15:04:05 2006\nlong\n"
	r := NewReader(strings.NewReader(in))
	msgs := readAllMessages(t, r)
	require.Len(t, msgs, 6)
	assert.Equal(t, "MAILER-DAEMON", msgs[0].sender)
	assert.Equal(t, time.Date(2026, 11, 4, 3, 34, 8, 0, time.UTC), msgs[0].date)
	assert.Equal(t, "bob@example.test", msgs[1].sender)
	assert.True(t, msgs[1].date.Equal(time.Date(2006, 1, 2, 14, 4, 5, 0, time.UTC)), msgs[1].date)
	assert.False(t, msgs[2].date.IsZero())
	assert.Equal(t, time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), msgs[3].date)
	assert.True(t, msgs[4].date.IsZero())
	assert.Equal(t, "nodate", msgs[4].sender)
	assert.Len(t, msgs[5].sender, MaxSeparator)
	assert.Equal(t, "long\n", msgs[5].content)
}

func TestReaderNotMbox(t *testing.T) {
	r := NewReader(strings.NewReader("Subject: hi\n\nFrom x y\n"))
	_, err := r.Next()
	require.ErrorIs(t, err, ErrFormat)
	_, err = r.Next()
	require.ErrorIs(t, err, ErrFormat)
}

func TestReaderSkipsUnread(t *testing.T) {
	r := NewReader(strings.NewReader("From a b\n" + strings.Repeat("line\n", 100000) + "\nFrom c d\nsecond\n"))
	_, err := r.Next()
	require.NoError(t, err)
	m, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "c", m.Sender)
	b, _ := io.ReadAll(m)
	assert.Equal(t, "second\n", string(b))
}

func TestReaderStrict(t *testing.T) {
	in := "From a Mon Jan 2 15:04:05 2006\nx\nFrom b Mon Jan 2 15:04:05 2006\nFrom here on\n\nFrom c Mon Jan 2 15:04:05 2006\ny\n"
	r := NewReader(strings.NewReader(in))
	r.Strict = true
	msgs := readAllMessages(t, r)
	require.Len(t, msgs, 2)
	assert.Equal(t, "x\nFrom b Mon Jan 2 15:04:05 2006\nFrom here on\n", msgs[0].content)
	assert.Equal(t, "c", msgs[1].sender)
	// Lenient mode splits at every From line.
	assert.Len(t, readAllMessages(t, NewReader(strings.NewReader(in))), 4)
}

func TestReaderContentLength(t *testing.T) {
	body := "From inside\n\nFrom also inside\n>From stays\n"
	good := "From a b\nSubject: x\nContent-Length: " + itoa(len(body)) + "\n\n" + body + "\nFrom c d\nContent-Length: 0\n\n\n"
	r := NewReader(strings.NewReader(good))
	r.ContentLength = true
	assert.Equal(t, []string{"Subject: x\nContent-Length: " + itoa(len(body)) + "\n\n" + body, "Content-Length: 0\n\n"},
		contents(readAllMessages(t, r)))
	// Off by default: the body is split and unquoted.
	assert.Len(t, readAllMessages(t, NewReader(strings.NewReader(good))), 4)

	// A wrong Content-Length falls back to separator scanning.
	bad := "From a b\nContent-Length: 3\n\nabcdef\nghi\n\nFrom c d\nz\n"
	r = NewReader(strings.NewReader(bad))
	r.ContentLength = true
	assert.Equal(t, []string{"Content-Length: 3\n\nabcdef\nghi\n", "z\n"}, contents(readAllMessages(t, r)))

	// Too large: the end of input ends the message.
	short := "From a b\nContent-Length: 999\n\nabc\n"
	r = NewReader(strings.NewReader(short))
	r.ContentLength = true
	assert.Equal(t, []string{"Content-Length: 999\n\nabc\n"}, contents(readAllMessages(t, r)))

	// Too large with messages after it: the messages it covers are part
	// of this one, and scanning resumes where the count ends.
	merged := "From a b\nContent-Length: 15\n\nabc\n\nFrom c d\nx\nyz\n\nFrom e f\nw\n"
	r = NewReader(strings.NewReader(merged))
	r.ContentLength = true
	assert.Equal(t, []string{"Content-Length: 15\n\nabc\n\nFrom c d\nx\nyz\n", "w\n"}, contents(readAllMessages(t, r)))

	// Body starting with an empty line, CRLF.
	crlf := "From a b\r\nContent-Length: 4\r\n\r\n\r\nx\r\n\r\nFrom c d\r\n"
	r = NewReader(strings.NewReader(crlf))
	r.ContentLength = true
	assert.Equal(t, []string{"Content-Length: 4\r\n\r\n\r\nx\r\n", ""}, contents(readAllMessages(t, r)))
}

var itoa = strconv.Itoa

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk error") }

func TestReaderPropagatesErrors(t *testing.T) {
	r := NewReader(io.MultiReader(strings.NewReader("From a b\nxyz"), errReader{}))
	m, err := r.Next()
	require.NoError(t, err)
	_, err = io.ReadAll(m)
	require.ErrorContains(t, err, "disk error")
	_, err = r.Next()
	require.ErrorContains(t, err, "disk error")
}
