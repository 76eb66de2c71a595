package mime

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStructureRepairs covers body structures as IMAP counts them. Each
// case says what the reader gave before.
func TestStructureRepairs(t *testing.T) {
	t.Run("boundary never appears", func(t *testing.T) {
		// Before: a multipart with no children, which IMAP's grammar
		// (RFC 3501 §9, 1*body) cannot express.
		s, err := ReadStructure(bytes.NewReader(readTestdata(t, "repair/no-boundary.eml")))
		require.NoError(t, err)
		require.Len(t, s.Children, 1)
		c := s.Children[0]
		assert.Equal(t, Path{1}, c.Path)
		assert.Equal(t, "text/plain", c.Type+"/"+c.Subtype)
		assert.Equal(t, int64(len("This multipart's boundary\r\nnever appears.\r\n")), c.Size)
		assert.Equal(t, s.Size, c.Size)
		assert.Equal(t, int64(2), c.Lines)
		assert.Equal(t, []DefectKind{DefectNoParts}, kinds(c.Defects))
		assert.Contains(t, kinds(s.Defects), DefectNoParts)
	})
	t.Run("multipart without boundary parameter", func(t *testing.T) {
		s, err := ReadStructure(strings.NewReader("Content-Type: multipart/mixed\r\n\r\nabc\r\n"))
		require.NoError(t, err)
		require.Len(t, s.Children, 1)
		assert.Equal(t, int64(5), s.Children[0].Size)
	})
	t.Run("stored with LF", func(t *testing.T) {
		// Before: sizes of the stored bytes (148, 7, 51, 15 here), not
		// those IMAP gives (164, 8, 55, 16).
		lf := readTestdata(t, "repair/lf-nested.eml")
		require.NotContains(t, string(lf), "\r")
		s, err := ReadStructure(bytes.NewReader(lf))
		require.NoError(t, err)
		c, err := ReadStructure(bytes.NewReader(bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))))
		require.NoError(t, err)
		assert.Equal(t, sizes(c), sizes(s))
		assert.Equal(t, []string{" multipart/mixed 164 0", "1 text/plain 8 1", "2 message/rfc822 55 4", "2.1 text/plain 16 1"}, sizes(s))
	})
	t.Run("line that lost its folding white space", func(t *testing.T) {
		// Before: the header ended at "boundary=...", the multipart had
		// no boundary, and the attachment was lost in an opaque body.
		s, err := ReadStructure(bytes.NewReader(readTestdata(t, "repair/lost-fold.eml")))
		require.NoError(t, err)
		require.Len(t, s.Children, 2)
		assert.Equal(t, "attachment", s.Children[1].Disposition)
		assert.Equal(t, map[string]string{"filename": "a.bin"}, s.Children[1].DispositionParams)
		assert.Equal(t, []DefectKind{DefectHeader}, kinds(s.Defects))
		var env *Envelope
		Walk(bytes.NewReader(readTestdata(t, "repair/lost-fold.eml")), func(p *Part) error {
			if p.Parent == nil {
				env = EnvelopeOf(p.Header)
				assert.Equal(t, "still the header", p.Header.Get("X-After"))
			}
			return nil
		})
		assert.Equal(t, "a wrapped line lost its white space", env.Subject)
	})
	t.Run("line that is no field, then body", func(t *testing.T) {
		// As before: the header ends there.
		msg := "Subject: x\r\nHello there\r\nsecond line\r\n\r\nmore\r\n"
		var body string
		Walk(strings.NewReader(msg), func(p *Part) error {
			b := new(bytes.Buffer)
			b.ReadFrom(p.Body())
			body = b.String()
			return nil
		})
		assert.Equal(t, "Hello there\r\nsecond line\r\n\r\nmore\r\n", body)
	})
	t.Run("byte-order mark", func(t *testing.T) {
		// Before: no field at all (the first name held the mark), and
		// the header was read as body: size 98, lines 5.
		s, err := ReadStructure(bytes.NewReader(readTestdata(t, "repair/bom.eml")))
		require.NoError(t, err)
		assert.Equal(t, int64(len("body\r\n")), s.Size)
		assert.Equal(t, int64(1), s.Lines)
		assert.Equal(t, []DefectKind{DefectHeader}, kinds(s.Defects))
	})
	t.Run("mbox From line in message/rfc822", func(t *testing.T) {
		// Before: the inner header ended at the From line, and the
		// envelope was empty.
		s, err := ReadStructure(bytes.NewReader(readTestdata(t, "repair/rfc822-from-line.eml")))
		require.NoError(t, err)
		m := s.Children[1]
		require.NotNil(t, m.Envelope)
		assert.Equal(t, "inner subject", m.Envelope.Subject)
		assert.Equal(t, "someone@example.org", m.Envelope.FromAddrs[0].Addr)
		assert.Equal(t, "b@example.org", m.Envelope.ToAddrs[0].Addr)
		assert.Equal(t, int64(len("inner body")), m.Children[0].Size) // the CRLF belongs to the delimiter
		assert.Equal(t, int64(133), m.Size, "the whole message, From line included")
	})
	t.Run("duplicate content fields", func(t *testing.T) {
		// Before: no defect. The first field wins, as with Dovecot.
		s, err := ReadStructure(bytes.NewReader(readTestdata(t, "repair/dup-fields.eml")))
		require.NoError(t, err)
		c := s.Children[0]
		assert.Equal(t, "text/plain", c.Type+"/"+c.Subtype)
		assert.Equal(t, "7bit", c.Encoding)
		assert.Equal(t, "inline", c.Disposition)
		assert.Equal(t, []DefectKind{DefectDuplicateField, DefectDuplicateField, DefectDuplicateField}, kinds(c.Defects))
		Walk(bytes.NewReader(readTestdata(t, "repair/dup-fields.eml")), func(p *Part) error {
			if p.Index == 1 {
				assert.Equal(t, "text/plain", p.MediaType.String())
				assert.Equal(t, "7bit", p.ContentTransferEncoding())
				assert.Equal(t, "inline", p.Disposition().Type)
				assert.False(t, p.IsAttachment())
			}
			return nil
		})
	})
}

// TestEnvelopeLenient: one bad address costs only itself. Before, an
// address list with any bad entry gave no addresses at all.
func TestEnvelopeLenient(t *testing.T) {
	var h message.Header
	h.Add("From", "a@b.example")
	h.Add("To", "a@b.example, undisclosed")
	h.Add("Cc", "x@y.example, John Smith, \"\\\"z@y.example")
	e := EnvelopeOf(&h)
	require.Len(t, e.ToAddrs, 2)
	assert.Equal(t, "undisclosed", e.ToAddrs[1].LocalPart())
	assert.Equal(t, "", e.ToAddrs[1].Domain())
	require.Len(t, e.CcAddrs, 1)
	assert.Equal(t, "x@y.example", e.CcAddrs[0].Addr)
	assert.Equal(t, []DefectKind{DefectAddress, DefectAddress, DefectAddress}, kinds(e.Defects))
	assert.Contains(t, e.Defects[0].Detail, "To: offset 13")
	assert.Contains(t, e.Defects[1].Detail, "Cc:")
}
