package message

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

// The comparison with net/mail and go-message lives in internal/benchcmp;
// these track the package's own costs.

func benchData(b *testing.B, name string) []byte {
	data, err := os.ReadFile("../internal/benchcmp/testdata/message/" + name)
	if err != nil {
		b.Skip(err)
	}
	return data
}

func BenchmarkRead(b *testing.B) {
	data := benchData(b, "header.eml")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, m.Body)
	}
}

func BenchmarkParseAddressList(b *testing.B) {
	s := string(benchData(b, "addresslist.txt"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAddressList(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeWords(b *testing.B) {
	s := "=?UTF-8?Q?Re:_Quarterly_r=C3=A9sum=C3=A9_and_caf=C3=A9_budget?= =?UTF-8?B?IOKAlCDml6XmnKzoqp7jga7jg4bjgq3jgrnjg4g=?="
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeWords(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDate("Tue, 1 Jul 2003 10:52:37 +0200 (CEST)"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteHeader(b *testing.B) {
	var h Header
	h.Add("From", "André Pirard <andre@example.com>")
	h.Add("To", "Mary Smith <mary@example.net>, bob@example.org")
	h.Add("Subject", "Grüße aus Köln, a subject long enough to need folding somewhere")
	h.Add("Date", FormatDate(time.Date(2003, 7, 1, 10, 52, 37, 0, time.UTC)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
