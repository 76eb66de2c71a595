package benchcmp

import (
	"bufio"
	"bytes"
	netmail "net/mail"
	"os"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"
	gotextproto "github.com/emersion/go-message/textproto"
	"github.com/mailwire/mailwire/message"
)

// The header has eight Received fields, two DKIM signatures, ARC fields, a
// 50-recipient To and a 25-recipient Cc, and encoded words: about 7 KB.
func loadMessage(b *testing.B, name string) []byte {
	data, err := os.ReadFile("testdata/message/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParseHeader reads the header of a message from a byte stream and
// fetches three fields, as a mail reader does first.
func BenchmarkParseHeader(b *testing.B) {
	data := loadMessage(b, "header.eml")
	b.Run("mailwire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			m, err := message.Read(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if m.Header.Get("Subject") == "" || m.Header.Get("From") == "" || m.Header.Get("Date") == "" {
				b.Fatal("missing field")
			}
		}
	})
	b.Run("netmail", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			m, err := netmail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if m.Header.Get("Subject") == "" || m.Header.Get("From") == "" || m.Header.Get("Date") == "" {
				b.Fatal("missing field")
			}
		}
	})
	b.Run("gomessage", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			h, err := gotextproto.ReadHeader(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				b.Fatal(err)
			}
			if h.Get("Subject") == "" || h.Get("From") == "" || h.Get("Date") == "" {
				b.Fatal("missing field")
			}
		}
	})
}

// BenchmarkParseHeaderAllFields reads the header and then every field's
// unfolded value, so that mailwire's lazy unfolding (done by Get, not by
// Read) buys nothing: each library does all its work.
func BenchmarkParseHeaderAllFields(b *testing.B) {
	data := loadMessage(b, "header.eml")
	b.Run("mailwire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			m, err := message.Read(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, v := range m.Header.All() {
				n += len(v)
			}
			if n == 0 {
				b.Fatal("no fields")
			}
		}
	})
	// The same work with each value unfolded into one reused buffer
	// instead of a string, for a caller that does not keep the values.
	b.Run("mailwire-append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		var buf []byte
		for b.Loop() {
			m, err := message.Read(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for i := range m.Header.Len() {
				buf = m.Header.AppendValue(buf[:0], i)
				n += len(m.Header.Name(i)) + len(buf)
			}
			if n == 0 {
				b.Fatal("no fields")
			}
		}
	})
	b.Run("netmail", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			m, err := netmail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, vs := range m.Header {
				for _, v := range vs {
					n += len(v)
				}
			}
			if n == 0 {
				b.Fatal("no fields")
			}
		}
	})
	b.Run("gomessage", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b)()
		for b.Loop() {
			h, err := gotextproto.ReadHeader(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for f := h.Fields(); f.Next(); {
				n += len(f.Value())
			}
			if n == 0 {
				b.Fatal("no fields")
			}
		}
	})
}

// BenchmarkParseAddressList parses a 75-address list with quoted and encoded
// display names.
func BenchmarkParseAddressList(b *testing.B) {
	s := string(loadMessage(b, "addresslist.txt"))
	const want = 75
	b.Run("mailwire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l, err := message.ParseAddressList(s)
			if err != nil || len(l) != want {
				b.Fatal(err, len(l))
			}
		}
	})
	b.Run("netmail", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l, err := netmail.ParseAddressList(s)
			if err != nil || len(l) != want {
				b.Fatal(err, len(l))
			}
		}
	})
	b.Run("gomessage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l, err := gomail.ParseAddressList(s)
			if err != nil || len(l) != want {
				b.Fatal(err, len(l))
			}
		}
	})
}

// TestMessageBenchInputsAgree checks that the three libraries read the
// benchmark inputs the same way, so that the comparison is fair.
func TestMessageBenchInputsAgree(t *testing.T) {
	data, err := os.ReadFile("testdata/message/header.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := message.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	nm, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Subject", "From", "Date", "To", "Cc", "DKIM-Signature"} {
		// net/textproto collapses the white space of folds; RFC 5322
		// §2.2.3 unfolding keeps it. Compare with runs of it collapsed.
		if strings.Join(strings.Fields(m.Header.Get(f)), " ") != nm.Header.Get(f) {
			t.Errorf("%s: mailwire %q, net/mail %q", f, m.Header.Get(f), nm.Header.Get(f))
		}
	}
	s, _ := os.ReadFile("testdata/message/addresslist.txt")
	a, err := message.ParseAddressList(string(s))
	if err != nil {
		t.Fatal(err)
	}
	n, err := netmail.ParseAddressList(string(s))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(n) {
		t.Fatalf("%d != %d", len(a), len(n))
	}
	for i := range a {
		if a[i].Name != n[i].Name || a[i].Addr != n[i].Address {
			t.Errorf("%d: %q %q != %q %q", i, a[i].Name, a[i].Addr, n[i].Name, n[i].Address)
		}
	}
}
