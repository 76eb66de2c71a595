package message

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadHeaderLenient: each case gives the fields (name: value) and the
// body ReadHeaderLenient reads, and what ReadHeader read before (strict).
func TestReadHeaderLenient(t *testing.T) {
	tests := []struct {
		name, in       string
		fields         []string
		body           string
		defects        int
		strictFields   int
		strictBodyHead string
	}{
		{"lost folding white space", "Content-Type: multipart/mixed;\r\nboundary=\"b\"\r\nSubject: s\r\n\r\nbody",
			[]string{"Content-Type: multipart/mixed;boundary=\"b\"", "Subject: s"}, "body", 1, 1, "boundary"},
		{"lost folding, last line", "Subject: s\nContent-Type: text/plain;\ncharset=utf-8\n\nbody",
			[]string{"Subject: s", "Content-Type: text/plain;charset=utf-8"}, "body", 1, 2, "charset"},
		{"lost folding, then a continuation", "A: 1\r\nx=2\r\n y\r\nB: 3\r\n\r\nbody",
			[]string{"A: 1x=2 y", "B: 3"}, "body", 1, 1, "x=2"},
		{"invalid name, fields after", "A: 1\r\nBad Name: 2\r\nB: 3\r\n\r\nbody",
			[]string{"A: 1", ": ", "B: 3"}, "body", 1, 1, "Bad Name"},
		{"no field, then body lines", "A: 1\r\nHello\r\nthere\r\n\r\nbody",
			[]string{"A: 1"}, "Hello\r\nthere\r\n\r\nbody", 1, 1, "Hello"},
		{"no field, no blank line", "A: 1\r\nHello\r\nB: 2\r\n",
			[]string{"A: 1"}, "Hello\r\nB: 2\r\n", 1, 1, "Hello"},
		{"delimiter line", "A: 1\r\n--b\r\nB: 2\r\n\r\nbody",
			[]string{"A: 1"}, "--b\r\nB: 2\r\n\r\nbody", 1, 1, "--b"},
		{"byte-order mark", "\xEF\xBB\xBFFrom: a@b.test\r\nSubject: s\r\n\r\nbody",
			[]string{"From: a@b.test", "Subject: s"}, "body", 1, 0, "\xEF\xBB\xBF"},
		{"mbox From line", "From a@b.test Mon Jan  1 00:00:00 2024\nFrom: a@b.test\n\nbody",
			[]string{": ", "From: a@b.test"}, "body", 1, 0, "From a@b.test"},
		{"obsolete From field is no mbox line", "From : a@b.test\n\nbody",
			[]string{"From: a@b.test"}, "body", 0, 1, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.in))
			h, cut, err := ReadHeaderLenient(br, Limits{})
			require.NoError(t, err)
			require.Nil(t, cut)
			var got []string
			for name, value := range h.All() {
				got = append(got, name+": "+value)
			}
			assert.Equal(t, tc.fields, got)
			rest, _ := io.ReadAll(br)
			assert.Equal(t, tc.body, string(rest))
			assert.Len(t, h.Defects(), tc.defects, "%v", h.Defects())
			// Written back as read, the header and body are the input,
			// but for a byte-order mark.
			var out bytes.Buffer
			h.WriteTo(&out)
			out.Write(rest)
			assert.Equal(t, strings.TrimPrefix(tc.in, "\xEF\xBB\xBF"), out.String())

			strict, body, err := parseHeaderBytes([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.strictFields, strict.Len())
			assert.True(t, strings.HasPrefix(string(body), tc.strictBodyHead), "%q", body)
		})
	}
}

func TestReadHeaderLenientLimits(t *testing.T) {
	// The limits apply to the whole header, repaired lines included.
	in := "A: 1\r\nx=2\r\nB: 3\r\nC: 4\r\n\r\nbody"
	br := bufio.NewReader(strings.NewReader(in))
	h, cut, err := ReadHeaderLenient(br, Limits{MaxFields: 2})
	require.NoError(t, err)
	require.NotNil(t, cut)
	assert.ErrorIs(t, cut.Err, ErrTooManyFields)
	assert.Equal(t, 4, cut.Err.Line)
	assert.Equal(t, 5, cut.Lines)
	assert.Equal(t, 2, h.Len())
	rest, _ := io.ReadAll(br)
	assert.Equal(t, "body", string(rest))
}
