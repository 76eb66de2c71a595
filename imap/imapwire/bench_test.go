package imapwire

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

// dovecotResponse returns the FETCH response Dovecot sent for one of
// mime's sample messages.
func dovecotResponse(b *testing.B, name string) []byte {
	data, err := os.ReadFile(dovecotVectors)
	if err != nil {
		b.Fatal(err)
	}
	for _, part := range strings.Split(string(data), "# ") {
		if n, rest, ok := strings.Cut(part, "\r\n"); ok && n == name {
			return []byte(rest)
		}
	}
	b.Fatalf("no vector for %s", name)
	return nil
}

// BenchmarkDecodeFetch decodes a FETCH response recorded from Dovecot
// with FLAGS, INTERNALDATE, ENVELOPE, BODY and BODYSTRUCTURE of a message
// with a nested message/rfc822.
func BenchmarkDecodeFetch(b *testing.B) {
	resp := dovecotResponse(b, "rfc822-inside.eml")
	rd := bytes.NewReader(resp)
	br := bufio.NewReader(rd)
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(resp)
		br.Reset(rd)
		d := NewDecoder(br, Limits{})
		r, err := ReadResponse(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.(*FetchData).BodyStructure == nil {
			b.Fatal("no body structure")
		}
	}
}

// BenchmarkEncodeBodyStructure renders the BODYSTRUCTURE of a message with
// a nested message/rfc822, as a server does for each FETCH.
func BenchmarkEncodeBodyStructure(b *testing.B) {
	raw, err := os.ReadFile("../../mime/testdata/rfc822-inside.eml")
	if err != nil {
		b.Fatal(err)
	}
	s, err := mime.ReadStructure(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		e := NewEncoder(w)
		imap.FormatBodyStructure(e, s, true, false)
		if err := e.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
