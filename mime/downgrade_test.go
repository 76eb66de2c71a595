package mime

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leafContents returns the decoded bodies of the leaf parts by path, line
// breaks made LF for comparison.
func leafContents(t testing.TB, msg []byte) map[string]string {
	out := map[string]string{}
	mr := NewReader(bytes.NewReader(msg))
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.IsMultipart() || p.IsMessage() {
			continue
		}
		b, _ := io.ReadAll(p.Body())
		out[p.Path.String()] = normLF(string(b))
	}
	return out
}

func normLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func TestTo7bit(t *testing.T) {
	msg := "From: a@example.org\r\n" +
		"Subject: =?utf-8?q?caf=C3=A9?=\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\npreamble\r\n" +
		"--b\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\nGrüße\r\naus Köln\r\n" +
		"--b\r\n" +
		"Content-Type: application/octet-stream\r\n" +
		"Content-Transfer-Encoding: binary\r\n" +
		"\r\n\x00\x01\xff\n\r" +
		"\r\n--b\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\nalready 7bit\r\n" +
		"--b\r\n" +
		"Content-Type: message/rfc822\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\nSubject: inner\r\n\r\nünïcödé\r\n" +
		"--b--\r\nepilogue\r\n"
	var out bytes.Buffer
	require.NoError(t, To7bit(&out, strings.NewReader(msg)))
	st, _ := Analyze(bytes.NewReader(out.Bytes()))
	assert.True(t, st.Is7bit(), "%+v\n%s", st, out.String())
	assert.Equal(t, leafContents(t, []byte(msg)), leafContents(t, out.Bytes()))

	_, parts := walkAll(t, bytes.NewReader(out.Bytes()))
	assert.Equal(t, SevenBit, parts[0].ContentTransferEncoding())
	assert.Equal(t, QuotedPrintable, parts[1].ContentTransferEncoding())
	assert.Equal(t, Base64, parts[2].ContentTransferEncoding())
	assert.Equal(t, SevenBit, parts[3].ContentTransferEncoding())
	assert.Equal(t, SevenBit, parts[4].ContentTransferEncoding())
	assert.Equal(t, QuotedPrintable, parts[5].ContentTransferEncoding())
	assert.Equal(t, "preamble", string(parts[0].Preamble))
	assert.Equal(t, "epilogue\r\n", string(parts[0].Epilogue))
	// Fields already 7bit are kept byte for byte.
	assert.Contains(t, out.String(), "Subject: =?utf-8?q?caf=C3=A9?=\r\n")
	// The binary part is exact, not line-normalised.
	var bin []byte
	Walk(bytes.NewReader(out.Bytes()), func(p *Part) error {
		if p.Path.String() == "2" {
			bin, _ = io.ReadAll(p.Body())
		}
		return nil
	})
	assert.Equal(t, []byte("\x00\x01\xff\n\r"), bin)
}

func TestTo7bitHeaders(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, To7bit(&out, bytes.NewReader(readTestdata(t, "8bit-header.eml"))))
	st, _ := Analyze(bytes.NewReader(out.Bytes()))
	assert.True(t, st.Is7bit(), out.String())
	h, err := message.ReadHeader(bufioReader(out.Bytes()), message.Limits{})
	require.NoError(t, err)
	subj, _ := message.DecodeWords(h.Get("Subject"))
	assert.Equal(t, "Grüße", subj)
	from, err := message.ParseAddress(h.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, "Jörg", from.Name)

	// An 8-bit local part has no 7bit form.
	err = To7bit(io.Discard, strings.NewReader("From: jörg@example.org\r\n\r\nx"))
	assert.ErrorIs(t, err, message.ErrNonASCII)

	// A raw UTF-8 filename becomes RFC 2231.
	out.Reset()
	require.NoError(t, To7bit(&out, strings.NewReader("Content-Type: application/pdf; name=\"été.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n")))
	assert.Contains(t, out.String(), "name*=utf-8''%C3%A9t%C3%A9.pdf")
}

func TestTo7bitCorpus(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			in := readTestdata(t, e.Name())
			var out bytes.Buffer
			require.NoError(t, To7bit(&out, bytes.NewReader(in)))
			st, _ := Analyze(bytes.NewReader(out.Bytes()))
			assert.True(t, st.Is7bit(), "%+v", st)
			assert.Equal(t, leafContents(t, in), leafContents(t, out.Bytes()))
			// Converting again changes nothing.
			var again bytes.Buffer
			require.NoError(t, To7bit(&again, bytes.NewReader(out.Bytes())))
			assert.Equal(t, out.String(), again.String())
		})
	}
}

func FuzzTo7bit(f *testing.F) {
	f.Add([]byte(rfc2049Example))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xff\x00\r\n--b--\r\n"))
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil && !e.IsDir() {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := To7bit(&out, bytes.NewReader(in)); err != nil {
			return
		}
		st, _ := Analyze(bytes.NewReader(out.Bytes()))
		if st.EightBit > 0 || st.NUL > 0 {
			t.Fatalf("8-bit output: %+v\n%q", st, out.String())
		}
		a, b := leafContents(t, in), leafContents(t, out.Bytes())
		for k, v := range a {
			if b[k] != v {
				t.Fatalf("part %s: %q became %q\nin  %q\nout %q", k, v, b[k], in, out.String())
			}
		}
	})
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// A part longer than the read-ahead is re-encoded whatever its label says,
// so 8-bit bytes after the first maxSpool bytes still come out 7bit.
func TestTo7bitPartLongerThanSpool(t *testing.T) {
	var body strings.Builder
	for body.Len() < maxSpool+4096 {
		body.WriteString("plain ascii line of a long text part\r\n")
	}
	body.WriteString("late 8-bit: Grüße\r\n")
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.String() +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" +
		strings.Repeat("x", maxSpool) + "\xff\x00\r\n--b--\r\n"
	var out bytes.Buffer
	require.NoError(t, To7bit(&out, strings.NewReader(msg)))
	st, _ := Analyze(bytes.NewReader(out.Bytes()))
	assert.True(t, st.Is7bit(), "%+v", st)
	want, got := leafContents(t, []byte(msg)), leafContents(t, out.Bytes())
	assert.Equal(t, len(want), len(got))
	for k := range want {
		assert.True(t, want[k] == got[k], "part %s differs", k)
	}
	_, parts := walkAll(t, bytes.NewReader(out.Bytes()))
	require.Len(t, parts, 3)
	assert.Equal(t, QuotedPrintable, parts[1].ContentTransferEncoding())
	assert.Equal(t, Base64, parts[2].ContentTransferEncoding())
}
