package mime

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestComposeRoundTrip(t *testing.T) {
	pdf := randomBytes(1, 100_000)
	m := &Mail{
		Text: "Hello,\nthis is the text.\nÇa va?\n",
		HTML: "<p>Hello, <img src=\"cid:logo\"></p>\n",
		Inline: []Attachment{
			{Filename: "logo.png", Data: randomBytes(2, 3000), ContentID: "logo"},
		},
		Attachments: []Attachment{
			{Filename: "report.pdf", Data: pdf},
			{Filename: "Übersicht 2026 – sehr langer Dateiname für den Test.txt", Data: []byte("a\nb\r\nc\rd\x00")},
			{Filename: "stream.bin", Reader: bytes.NewReader(randomBytes(3, 70_000))},
			{Filename: "notes.txt", ContentType: "text/plain; charset=utf-8", Data: []byte("plain ascii\r\nlines\r\n")},
			{Filename: "long.txt", ContentType: "text/plain", Data: []byte(strings.Repeat("x", 2000))},
		},
	}
	m.Header.Add("From", "Zoë <zoe@example.org>")
	m.Header.Add("To", "bob@example.com")
	m.Header.Add("Subject", "Grüße und Anhänge")
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)

	// Canonical, 7bit-clean output (the text is mostly ASCII).
	st, _ := Analyze(bytes.NewReader(buf.Bytes()))
	assert.True(t, st.Is7bit(), "%+v", st)
	assert.LessOrEqual(t, st.LongestLine, 78)

	got, parts := walkAll(t, bytes.NewReader(buf.Bytes()))
	paths := []string{}
	for _, g := range got {
		paths = append(paths, g.Path+" "+g.Type)
		assert.Empty(t, g.Defects, g.Path)
	}
	assert.Equal(t, []string{
		" multipart/mixed",
		"1 multipart/alternative",
		"1.1 text/plain",
		"1.2 multipart/related",
		"1.2.1 text/html",
		"1.2.2 image/png",
		"2 application/pdf",
		"3 text/plain",
		"4 application/octet-stream",
		"5 text/plain",
		"6 text/plain",
	}, paths)
	assert.Equal(t, "Hello,\r\nthis is the text.\r\nÇa va?\r\n", got[2].Body)
	assert.Equal(t, "<p>Hello, <img src=\"cid:logo\"></p>\r\n", got[4].Body)
	assert.Equal(t, string(m.Inline[0].Data), got[5].Body)
	assert.Equal(t, "<logo>", parts[5].Header.Get("Content-ID"))
	assert.Equal(t, string(pdf), got[6].Body)
	assert.Equal(t, "report.pdf", parts[6].Filename())
	assert.Equal(t, "a\nb\r\nc\rd\x00", got[7].Body)
	assert.Equal(t, m.Attachments[1].Filename, parts[7].Filename())
	// RFC 2231 §3-4 on the wire: charset-tagged, percent-encoded
	// continuations, not an RFC 2047 encoded word (RFC 2047 §5 forbids one
	// in a parameter).
	disp := parts[7].Header.Get("Content-Disposition")
	assert.Contains(t, disp, `filename*0*=utf-8''%C3%9Cbersicht`)
	assert.Contains(t, disp, "filename*1*=")
	assert.NotContains(t, disp, "=?")
	assert.Equal(t, "attachment; filename=report.pdf", parts[6].Header.Get("Content-Disposition"))
	assert.Equal(t, string(randomBytes(3, 70_000)), got[8].Body)
	assert.Equal(t, "plain ascii\r\nlines\r\n", got[9].Body)
	assert.Equal(t, SevenBit, parts[9].ContentTransferEncoding())
	assert.Equal(t, strings.Repeat("x", 2000), got[10].Body)
	assert.Equal(t, QuotedPrintable, parts[10].ContentTransferEncoding())
	assert.Equal(t, "Grüße und Anhänge", decodedSubject(t, parts[0].Header.Get("Subject")))
	assert.Equal(t, "1.0", parts[0].Header.Get("MIME-Version"))
}

func decodedSubject(t *testing.T, s string) string {
	d, ok := decodeWords(s)
	require.True(t, ok, s)
	return d
}

func TestComposeEncodings(t *testing.T) {
	cyrillic := strings.Repeat("Привет, мир! ", 20)
	tests := []struct {
		name     string
		mail     Mail
		wantCTE  string
		wantType string
	}{
		{"ascii", Mail{Text: "hi\n"}, SevenBit, "text/plain"},
		{"mostly ascii", Mail{Text: "café au lait, s'il vous plaît"}, QuotedPrintable, "text/plain"},
		{"cyrillic 8bit", Mail{Text: cyrillic}, EightBit, "text/plain"},
		{"cyrillic 7bit only", Mail{Text: cyrillic, SevenBit: true}, Base64, "text/plain"},
		{"html only", Mail{HTML: "<b>x</b>"}, SevenBit, "text/html"},
		{"empty", Mail{}, SevenBit, "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := tt.mail.WriteTo(&buf)
			require.NoError(t, err)
			var body string
			var part *Part
			require.NoError(t, Walk(&buf, func(p *Part) error {
				part = p
				b, _ := io.ReadAll(p.Body())
				body = string(b)
				return nil
			}))
			assert.Equal(t, tt.wantCTE, part.ContentTransferEncoding())
			assert.Equal(t, tt.wantType, part.MediaType.String())
			assert.Equal(t, string(toCRLF([]byte(tt.mail.Text+tt.mail.HTML))), body)
		})
	}
}

func TestComposeErrors(t *testing.T) {
	m := Mail{Text: "x"}
	m.Header.Add("Subject", "bad\r\nBcc: injected@example.com")
	_, err := m.WriteTo(io.Discard)
	assert.Error(t, err, "a CR or LF in a header value is refused")

	m = Mail{Text: "x", Inline: []Attachment{{Filename: "a.png"}}}
	_, err = m.WriteTo(io.Discard)
	assert.Error(t, err)

	m = Mail{Text: "x", Attachments: []Attachment{{Filename: "a", ContentType: "garbage"}}}
	_, err = m.WriteTo(io.Discard)
	assert.Error(t, err)
}

func TestMultipartWriter(t *testing.T) {
	var buf bytes.Buffer
	mw := NewMultipartWriter(&buf)
	assert.ErrorIs(t, mw.SetBoundary(strings.Repeat("x", 71)), ErrBoundary)
	require.NoError(t, mw.SetBoundary("simple boundary"))
	assert.True(t, strings.HasPrefix(RandomBoundary(), "=_"))
	assert.NotEqual(t, RandomBoundary(), RandomBoundary())
	require.NoError(t, mw.Close())
	assert.Equal(t, "--simple boundary\r\n\r\n\r\n--simple boundary--\r\n", buf.String())
	_, err := mw.CreatePart(nil)
	assert.Error(t, err)
}
