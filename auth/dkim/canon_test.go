package dkim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func canonBody(in string, c Canonicalization, chunk int) string {
	var buf bytes.Buffer
	bc := newBodyCanon(&buf, c)
	p := []byte(in)
	for len(p) > 0 {
		n := min(chunk, len(p))
		bc.Write(p[:n])
		p = p[n:]
	}
	bc.Close()
	return buf.String()
}

func TestBodyCanon(t *testing.T) {
	tests := []struct {
		name, in, simple, relaxed string
	}{
		{"empty", "", "\r\n", ""},
		{"only empty lines", "\r\n\r\n\r\n", "\r\n", ""},
		{"one line", "abc\r\n", "abc\r\n", "abc\r\n"},
		{"no final line end", "abc", "abc\r\n", "abc\r\n"},
		{"trailing empty lines", "abc\r\n\r\n\r\n", "abc\r\n", "abc\r\n"},
		{"inner empty lines kept", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},
		{"white space", " a  \t b \t\r\n", " a  \t b \t\r\n", " a b\r\n"},
		{"white-space-only lines at end", "a\r\n  \r\n\t\r\n", "a\r\n  \r\n\t\r\n", "a\r\n"},
		{"white-space-only line inside", "a\r\n \t\r\nb", "a\r\n \t\r\nb\r\n", "a\r\n\r\nb\r\n"},
		{"bare LF", "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"bare CR is content", "a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
		{"final bare CR", "a\r", "a\r\r\n", "a\r\r\n"},
		{"CR before empty lines", "a\r\n\r", "a\r\n\r\r\n", "a\r\n\r\r\n"},
		{"space only body", "   ", "   \r\n", ""},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 2, 3, 1 << 20} {
			assert.Equal(t, tt.simple, canonBody(tt.in, Simple, chunk), "%s simple chunk %d", tt.name, chunk)
			assert.Equal(t, tt.relaxed, canonBody(tt.in, Relaxed, chunk), "%s relaxed chunk %d", tt.name, chunk)
		}
	}
}

func TestHeaderCanon(t *testing.T) {
	tests := []struct {
		raw, simple, relaxed string
	}{
		{"Subject: hi\r\n", "Subject: hi\r\n", "subject:hi\r\n"},
		{"Subject:hi", "Subject:hi\r\n", "subject:hi\r\n"},
		{"SUBJECT \t:  a \r\n  b\t \r\n", "SUBJECT \t:  a \r\n  b\t \r\n", "subject:a b\r\n"},
		{"To: a\n b\n", "To: a\r\n b\r\n", "to:a b\r\n"},
		{"X-Empty:\r\n", "X-Empty:\r\n", "x-empty:\r\n"},
		{"X-Empty:   \r\n", "X-Empty:   \r\n", "x-empty:\r\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.simple, string(appendHeaderCanon(nil, []byte(tt.raw), Simple)), "%q", tt.raw)
		assert.Equal(t, tt.relaxed, string(appendHeaderCanon(nil, []byte(tt.raw), Relaxed)), "%q", tt.raw)
	}
}

func TestStripBValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"DKIM-Signature: a=1; b=abc; bh=def", "DKIM-Signature: a=1; b=; bh=def"},
		{"DKIM-Signature: a=1; bh=def; b = ab\r\n c", "DKIM-Signature: a=1; bh=def; b ="},
		{"DKIM-Signature: b=x;", "DKIM-Signature: b=;"},
		{"DKIM-Signature:bh=1;b=2\r\n", "DKIM-Signature:bh=1;b=\r\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(stripBValue([]byte(tt.in))), "%q", tt.in)
	}
}
