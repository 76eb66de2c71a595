package mime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pyPart struct {
	Type     string `json:"type"`
	Filename string `json:"filename"`
	SHA256   string `json:"sha256"`
}

// pyParse has Python's email package parse a message and describe its leaf
// parts, depth first.
const pyParse = `
import sys, json, hashlib, email
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
out = []
for part in msg.walk():
    if part.is_multipart():
        continue
    data = part.get_payload(decode=True) or b''
    if part.get_content_maintype() == 'text' and not part.get_filename():
        data = data.replace(b'\r\n', b'\n')  # body text: compare lines
    out.append({'type': part.get_content_type(), 'filename': part.get_filename() or '', 'sha256': hashlib.sha256(data).hexdigest()})
print(json.dumps(out))
`

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestInteropPythonReadsComposed checks that Python's email package, which
// nobody here wrote, reads back every part of a composed mail byte for
// byte, file names included.
func TestInteropPythonReadsComposed(t *testing.T) {
	py := peer.Python(t, "email")
	m := &Mail{
		Text: "Hello,\nthe files are attached.\nGrüße\n",
		HTML: "<p>Hello, <img src=\"cid:logo\"></p>\n",
		Inline: []Attachment{
			{Filename: "logo.png", Data: randomBytes(7, 2000), ContentID: "logo"},
		},
		Attachments: []Attachment{
			{Filename: "report.pdf", Data: randomBytes(8, 50_000)},
			{Filename: "Übersicht für das Jahr 2026 mit einem sehr langen Namen.txt", Data: []byte("a\nb\r\nc\rd\n")},
			{Filename: "日本語.bin", Data: randomBytes(9, 1000)},
		},
		SevenBit: true,
	}
	m.Header.Add("From", "Zoë <zoe@example.org>")
	m.Header.Add("Subject", "Anhänge")
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "m.eml")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))
	out := peer.Run(t, 30*time.Second, py, "-c", pyParse, file)
	var got []pyPart
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	want := []pyPart{
		{"text/plain", "", sha([]byte("Hello,\nthe files are attached.\nGrüße\n"))},
		{"text/html", "", sha([]byte("<p>Hello, <img src=\"cid:logo\"></p>\n"))},
		{"image/png", "logo.png", sha(m.Inline[0].Data)},
		{"application/pdf", "report.pdf", sha(m.Attachments[0].Data)},
		{"text/plain", m.Attachments[1].Filename, sha(m.Attachments[1].Data)},
		{"application/octet-stream", "日本語.bin", sha(m.Attachments[2].Data)},
	}
	assert.Equal(t, want, got)
}

// pyCompose has Python's email package build a message with the data of
// the test and print it.
const pyCompose = `
import sys
from email.message import EmailMessage
from email import policy
msg = EmailMessage(policy=policy.SMTP)
msg['From'] = 'Zoë <zoe@example.org>'
msg['To'] = 'bob@example.com'
msg['Subject'] = 'Grüße aus Köln'
msg.set_content('Hallo Bob,\nviele Grüße!\n')
msg.add_alternative('<p>Hallo Bob,</p><p>viele Grüße!</p>\n', subtype='html')
data = bytes(range(256)) * 40
msg.add_attachment(data, maintype='application', subtype='octet-stream', filename='Übersicht für das Jahr 2026 mit einem sehr langen Namen.bin')
msg.add_attachment('line one\nline two\n', filename='notes.txt')
inner = EmailMessage()
inner['Subject'] = 'inner'
inner.set_content('inner body\n')
msg.add_attachment(inner)
sys.stdout.buffer.write(msg.as_bytes())
`

// TestInteropPythonComposed reads a message composed by Python's email
// package.
func TestInteropPythonComposed(t *testing.T) {
	py := peer.Python(t, "email")
	out := peer.Run(t, 30*time.Second, py, "-c", pyCompose)
	data := make([]byte, 0, 256*40)
	for range 40 {
		for i := range 256 {
			data = append(data, byte(i))
		}
	}
	type leaf struct{ path, typ, file, body string }
	var got []leaf
	err := Walk(bytes.NewReader([]byte(out)), func(p *Part) error {
		if p.IsMultipart() {
			return nil
		}
		b, err := io.ReadAll(p.Body())
		if p.IsMessage() {
			b = nil
		}
		got = append(got, leaf{p.Path.String(), p.MediaType.String(), p.Filename(), normLF(string(b))})
		require.Empty(t, p.Defects, p.Path.String())
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, []leaf{
		{"1.1", "text/plain", "", "Hallo Bob,\nviele Grüße!\n"},
		{"1.2", "text/html", "", "<p>Hallo Bob,</p><p>viele Grüße!</p>\n"},
		{"2", "application/octet-stream", "Übersicht für das Jahr 2026 mit einem sehr langen Namen.bin", normLF(string(data))},
		{"3", "text/plain", "notes.txt", "line one\nline two\n"},
		{"4", "message/rfc822", "", ""},
		{"4.1", "text/plain", "", "inner body\n"},
	}, got)
}

// TestInteropPythonReadsTo7bit has Python's email package read messages
// before and after To7bit: every part decodes to the same bytes.
func TestInteropPythonReadsTo7bit(t *testing.T) {
	py := peer.Python(t, "email")
	eight := "From: Jörg <jorg@example.org>\r\nSubject: Grüße\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\xfe\xff\r\n" +
		"--b--\r\n"
	inputs := map[string][]byte{"8bit": []byte(eight)}
	for _, name := range []string{"nested.eml", "rfc822-inside.eml", "8bit-header.eml"} {
		inputs[name] = readTestdata(t, name)
	}
	dir := t.TempDir()
	for name, in := range inputs {
		var out bytes.Buffer
		require.NoError(t, To7bit(&out, bytes.NewReader(in)), name)
		before := filepath.Join(dir, "before.eml")
		after := filepath.Join(dir, "after.eml")
		require.NoError(t, os.WriteFile(before, in, 0o600))
		require.NoError(t, os.WriteFile(after, out.Bytes(), 0o600))
		var a, b []pyPart
		require.NoError(t, json.Unmarshal([]byte(peer.Run(t, 30*time.Second, py, "-c", pyParse, before)), &a))
		require.NoError(t, json.Unmarshal([]byte(peer.Run(t, 30*time.Second, py, "-c", pyParse, after)), &b))
		assert.Equal(t, a, b, name)
		assert.NotEmpty(t, a, name)
	}
}
