package mime

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStructureRFC2046(t *testing.T) {
	s, err := ReadStructure(strings.NewReader(rfc2046Example))
	require.NoError(t, err)
	assert.Equal(t, "multipart", s.Type)
	assert.Equal(t, "mixed", s.Subtype)
	assert.Equal(t, "simple boundary", s.Params["boundary"])
	require.Len(t, s.Children, 2)
	b1 := "This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."
	b2 := "This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"
	assert.Equal(t, &Structure{Path: Path{1}, Type: "text", Subtype: "plain", Params: map[string]string{}, Encoding: "7bit",
		Size: int64(len(b1)), Lines: 1}, s.Children[0])
	assert.Equal(t, &Structure{Path: Path{2}, Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}, Encoding: "7bit",
		Size: int64(len(b2)), Lines: 2}, s.Children[1])
}

func TestStructureNested(t *testing.T) {
	data := readTestdata(t, "rfc822-inside.eml")
	s, err := ReadStructure(bytes.NewReader(data))
	require.NoError(t, err)
	require.Len(t, s.Children, 3)
	msg := s.Children[1]
	assert.Equal(t, "message", msg.Type)
	assert.Equal(t, Path{2}, msg.Path)
	// The encapsulated message runs from its first header line to the
	// end of the close-delimiter line of its multipart, as Dovecot counts
	// (see TestInteropDovecotBodyStructure); lines are line breaks.
	text := string(data)
	start := strings.Index(text, "From: Carol")
	end := strings.Index(text, "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: simple")
	inner := text[start:end]
	assert.Equal(t, int64(len(inner)), msg.Size)
	assert.Equal(t, int64(strings.Count(inner, "\n")), msg.Lines)
	require.NotNil(t, msg.Envelope)
	assert.Equal(t, "inner", msg.Envelope.Subject)
	assert.Equal(t, "Carol <carol@example.net>", msg.Envelope.From)
	require.Len(t, msg.Envelope.FromAddrs, 1)
	assert.Equal(t, "carol@example.net", msg.Envelope.FromAddrs[0].Addr)
	assert.Equal(t, msg.Envelope.FromAddrs, msg.Envelope.SenderAddrs, "Sender defaults to From")
	assert.Equal(t, "dave@example.com", msg.Envelope.ToAddrs[0].Addr)
	require.Len(t, msg.Children, 1)
	alt := msg.Children[0]
	assert.Equal(t, "alternative", alt.Subtype)
	assert.Equal(t, Path{2}, alt.Path)
	require.Len(t, alt.Children, 2)
	assert.Equal(t, Path{2, 2}, alt.Children[1].Path)
	assert.Equal(t, int64(len("<b>inner</b>")), alt.Children[1].Size)
	assert.Equal(t, int64(0), alt.Children[1].Lines)

	simple := s.Children[2]
	require.Len(t, simple.Children, 1)
	assert.Equal(t, Path{3, 1}, simple.Children[0].Path)
	assert.Equal(t, int64(len("just text")), simple.Children[0].Size)
	assert.Equal(t, int64(len("Subject: simple inner\r\n\r\njust text")), simple.Size)
	assert.Equal(t, int64(2), simple.Lines)
}

func TestStructureFields(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: image/png; name=x.png\r\n" +
		"Content-ID: <id1@example>\r\n" +
		"Content-Description: a picture\r\n" +
		"Content-Transfer-Encoding: BASE64\r\n" +
		"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n" +
		"Content-Disposition: attachment; filename=x.png\r\n" +
		"Content-Language: en, de\r\n" +
		"Content-Location: http://example.com/x.png\r\n" +
		"\r\nAAAA\r\nAAAA\r\n--b--\r\n"
	s, err := ReadStructure(strings.NewReader(msg))
	require.NoError(t, err)
	p := s.Children[0]
	assert.Equal(t, "<id1@example>", p.ID)
	assert.Equal(t, "a picture", p.Description)
	assert.Equal(t, "base64", p.Encoding)
	assert.Equal(t, "Q2hlY2sgSW50ZWdyaXR5IQ==", p.MD5)
	assert.Equal(t, "attachment", p.Disposition)
	assert.Equal(t, map[string]string{"filename": "x.png"}, p.DispositionParams)
	assert.Equal(t, []string{"en", "de"}, p.Language)
	assert.Equal(t, "http://example.com/x.png", p.Location)
	assert.Equal(t, int64(10), p.Size)
	assert.Equal(t, int64(0), p.Lines, "lines only for text and messages")
}

func TestStructureLFOnly(t *testing.T) {
	s, err := ReadStructure(bytes.NewReader(readTestdata(t, "lf-only.eml")))
	require.NoError(t, err)
	require.Len(t, s.Children, 2)
	// Sizes are those of the message with CRLF line ends (RFC 3501
	// §7.4.2, as Dovecot counts them); before, this was the stored 17.
	assert.Equal(t, int64(len("line one\r\nline two")), s.Children[0].Size)
	assert.Equal(t, int64(1), s.Children[0].Lines)
}
