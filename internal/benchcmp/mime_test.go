package benchcmp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	stdmime "mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"
	"github.com/jhillyerd/enmime"
	"github.com/mailwire/mailwire/mime"
)

// mimeCorpus builds, deterministically, the messages BenchmarkParseMIME
// walks: a plain text message; a text and HTML alternative in
// quoted-printable; a message with attachments of 100 KB to 5 MB in base64;
// and a deeply nested message with a forwarded message inside. About 11 MB
// in all.
func mimeCorpus() [][]byte {
	rng := rand.New(rand.NewPCG(42, 4242))
	words := strings.Fields("the quick brown fox jumps over lazy dog mail server message delivery queue retry bounce header body part attachment Grüße Köln café naïve résumé")
	text := func(n int) string {
		var b strings.Builder
		col := 0
		for b.Len() < n {
			w := words[rng.IntN(len(words))]
			if col+len(w) > 70 {
				b.WriteString("\r\n")
				col = 0
			}
			b.WriteString(w)
			b.WriteByte(' ')
			col += len(w) + 1
		}
		b.WriteString("\r\n")
		return b.String()
	}
	ascii := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			line := text(60)
			b.WriteString(strings.Map(func(r rune) rune {
				if r > 127 {
					return 'e'
				}
				return r
			}, line))
		}
		return b.String()
	}
	qp := func(s string) string {
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	b64 := func(n int) string {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(data)
		var b strings.Builder
		for len(enc) > 76 {
			b.WriteString(enc[:76])
			b.WriteString("\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc)
		b.WriteString("\r\n")
		return b.String()
	}
	head := "Return-Path: <alice@example.org>\r\n" +
		"Received: from mail.example.org (mail.example.org [192.0.2.1])\r\n\tby mx.example.com with ESMTPS id 4Xy; Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
		"From: Alice Example <alice@example.org>\r\n" +
		"To: Bob Example <bob@example.com>, carol@example.com\r\n" +
		"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n" +
		"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
		"Message-ID: <20261123100000.1234@example.org>\r\n" +
		"MIME-Version: 1.0\r\n"
	alt := func(bnd string) string {
		return "Content-Type: multipart/alternative; boundary=\"" + bnd + "\"\r\n\r\n" +
			"--" + bnd + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			qp(text(15_000)) + "\r\n" +
			"--" + bnd + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			qp("<html><body><p>"+strings.ReplaceAll(text(40_000), "\r\n", "</p>\r\n<p>")+"</p></body></html>") + "\r\n" +
			"--" + bnd + "--\r\n"
	}
	var msgs [][]byte
	// Plain text.
	msgs = append(msgs, []byte(head+"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"+ascii(20_000)))
	// Text and HTML.
	msgs = append(msgs, []byte(head+alt("----=_Part_0_123456.1700000000000")))
	// Attachments.
	var b strings.Builder
	b.WriteString(head + "Content-Type: multipart/mixed; boundary=\"----=_Part_1_mixed\"\r\n\r\nThis is a multi-part message in MIME format.\r\n")
	b.WriteString("------=_Part_1_mixed\r\n" + alt("----=_Part_2_alt"))
	for i, n := range []int{100_000, 700_000, 2_000_000, 5_000_000} {
		fmt.Fprintf(&b, "\r\n------=_Part_1_mixed\r\nContent-Type: application/octet-stream; name=\"file%d.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"file%d.bin\"\r\n\r\n", i, i)
		b.WriteString(b64(n))
	}
	b.WriteString("\r\n------=_Part_1_mixed--\r\n")
	msgs = append(msgs, []byte(b.String()))
	// Deep nesting, with a forwarded message at level 3.
	b.Reset()
	b.WriteString(head)
	const depth = 10
	for d := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"lvl%d\"\r\n\r\n", d)
		fmt.Fprintf(&b, "--lvl%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", d, qp(text(2_000)))
		fmt.Fprintf(&b, "--lvl%d\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", d, b64(10_000))
		if d == 3 {
			fmt.Fprintf(&b, "--lvl%d\r\nContent-Type: message/rfc822\r\n\r\n%s%s\r\n", d, head, alt("fwd-alt"))
		}
		fmt.Fprintf(&b, "--lvl%d\r\n", d)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ninnermost\r\n")
	for d := depth - 1; d >= 0; d-- {
		fmt.Fprintf(&b, "--lvl%d--\r\n", d)
	}
	msgs = append(msgs, []byte(b.String()))
	return msgs
}

func corpusSize(msgs [][]byte) int64 {
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	return n
}

func walkMailwire(msg []byte) (int64, error) {
	var total int64
	err := mime.Walk(bytes.NewReader(msg), func(p *mime.Part) error {
		n, err := io.Copy(io.Discard, p.Body())
		total += n
		return err
	})
	return total, err
}

func walkGoMessage(msg []byte) (int64, error) {
	e, err := gomessage.Read(bytes.NewReader(msg))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return 0, err
	}
	var total int64
	var walk func(e *gomessage.Entity) error
	walk = func(e *gomessage.Entity) error {
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return nil
				}
				if err != nil && !gomessage.IsUnknownCharset(err) {
					return err
				}
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		if t, _, _ := e.Header.ContentType(); t == "message/rfc822" {
			inner, err := gomessage.Read(e.Body)
			if err != nil && !gomessage.IsUnknownCharset(err) {
				return err
			}
			return walk(inner)
		}
		n, err := io.Copy(io.Discard, e.Body)
		total += n
		return err
	}
	return total, walk(e)
}

func walkEnmime(msg []byte) (int64, error) {
	env, err := enmime.ReadEnvelope(bytes.NewReader(msg))
	if err != nil {
		return 0, err
	}
	// enmime decodes every part into memory while parsing; count it.
	var total int64
	var walk func(p *enmime.Part)
	walk = func(p *enmime.Part) {
		for ; p != nil; p = p.NextSibling {
			total += int64(len(p.Content))
			walk(p.FirstChild)
		}
	}
	walk(env.Root)
	return total, nil
}

func walkStdlib(msg []byte) (int64, error) {
	m, err := netmail.ReadMessage(bufio.NewReader(bytes.NewReader(msg)))
	if err != nil {
		return 0, err
	}
	var total int64
	var entity func(h textproto.MIMEHeader, body io.Reader) error
	entity = func(h textproto.MIMEHeader, body io.Reader) error {
		mt, params, _ := stdmime.ParseMediaType(h.Get("Content-Type"))
		if mt == "" {
			mt = "text/plain"
		}
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := entity(p.Header, p); err != nil {
					return err
				}
			}
		case mt == "message/rfc822":
			inner, err := netmail.ReadMessage(bufio.NewReader(body))
			if err != nil {
				return err
			}
			return entity(textproto.MIMEHeader(inner.Header), inner.Body)
		}
		dec := body
		switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
		case "base64":
			dec = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			dec = quotedprintable.NewReader(body)
		}
		n, err := io.Copy(io.Discard, dec)
		total += n
		return err
	}
	return total, entity(textproto.MIMEHeader(m.Header), m.Body)
}

// BenchmarkParseMIME walks every part of a corpus of realistic messages and
// decodes each body to io.Discard.
func BenchmarkParseMIME(b *testing.B) {
	msgs := mimeCorpus()
	impls := []struct {
		name string
		walk func([]byte) (int64, error)
	}{
		{"mailwire", walkMailwire},
		{"gomessage", walkGoMessage},
		{"enmime", walkEnmime},
		{"stdlib", walkStdlib},
	}
	// All of them must see the same decoded content.
	want, _ := walkMailwire(msgs[2])
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			got, err := impl.walk(msgs[2])
			if err != nil {
				b.Fatal(err)
			}
			if got < want*9/10 || got > want*11/10 {
				b.Fatalf("decoded %d bytes, mailwire %d", got, want)
			}
			b.SetBytes(corpusSize(msgs))
			b.ReportAllocs()
			stop := reportCPU(b)
			for b.Loop() {
				for _, m := range msgs {
					if _, err := impl.walk(m); err != nil {
						b.Fatal(err)
					}
				}
			}
			stop()
		})
	}
}

// TestMIMECorpusAgreement checks that the walkers decode the same bytes.
func TestMIMECorpusAgreement(t *testing.T) {
	for i, m := range mimeCorpus() {
		mw, err := walkMailwire(m)
		if err != nil {
			t.Fatal(err)
		}
		std, err := walkStdlib(m)
		if err != nil {
			t.Fatal(err)
		}
		gm, err := walkGoMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if mw != std || mw != gm {
			t.Errorf("message %d: mailwire %d, stdlib %d, go-message %d bytes", i, mw, std, gm)
		}
	}
}
