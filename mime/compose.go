package mime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/mailwire/mailwire/message"
)

// Mail describes a message to compose: a header, a plain text and/or HTML
// body, inline images and attachments. WriteTo builds the MIME structure:
//
//	text and HTML         multipart/alternative
//	inline parts          multipart/related around the HTML (RFC 2387)
//	attachments           multipart/mixed around everything (RFC 2046 §5.1.3)
//
// and chooses each part's transfer encoding from its content (see
// Stats.Encoding): 7bit where possible, quoted-printable for mostly-ASCII
// text, 8bit for other text unless SevenBit is set, base64 for the rest.
// Text bodies have their line breaks made CRLF (RFC 2046 §4.1.1);
// attachments keep their bytes exactly.
type Mail struct {
	// Header holds the caller's fields: From, To, Subject, Date,
	// Message-ID and so on. Non-ASCII text in it is RFC 2047 encoded when
	// written. WriteTo adds MIME-Version and the Content-* fields; it
	// does not add Date or Message-ID.
	Header message.Header

	Text string // text/plain body, UTF-8
	HTML string // text/html body, UTF-8

	// Inline parts are shown inside the HTML, referred to as
	// "cid:"+ContentID.
	Inline []Attachment
	// Attachments are added as separate parts.
	Attachments []Attachment

	// SevenBit restricts the output to 7bit transfer encodings, for a
	// relay without 8BITMIME (RFC 6152).
	SevenBit bool
}

// Attachment is a part of a composed mail holding a file.
type Attachment struct {
	// Filename is sent in Content-Disposition (RFC 2183), with
	// RFC 2231 encoding when it is not plain ASCII, and as the
	// Content-Type name parameter for old readers.
	Filename string
	// ContentType is the media type, used as given. When it is empty
	// the type comes from the file name's extension (TypeByFilename),
	// else from the content (net/http.DetectContentType on its first
	// 512 bytes), else it is application/octet-stream; the result never
	// depends on the host's mime.types, so it is the same on every
	// machine (to use the host's table, set ContentType from the
	// standard library's mime.TypeByExtension). A guessed text type gets
	// charset=utf-8 when the content is valid UTF-8 (for a Reader, its
	// first 32 KiB), as the Text and HTML bodies have, or utf-16be/le
	// after a byte order mark; a file whose content only looks like
	// text, in no charset found, is sent as application/octet-stream.
	ContentType string
	// ContentID identifies an inline part, without angle brackets; a
	// random one is made when it is empty.
	ContentID string
	// Data is the content, or nil to read it from Reader.
	Data   []byte
	Reader io.Reader
}

// sampleSize is how much of an attachment given as a Reader is looked at
// to choose its type, charset and transfer encoding.
const sampleSize = 32 << 10

// ErrNoBody is returned by Mail.WriteTo when there is nothing to send.
var ErrNoBody = errors.New("mime: mail has no body")

// node is one entity of the tree WriteTo builds.
type node struct {
	header   message.Header
	sub      string // multipart subtype; "" for a leaf
	boundary string
	children []*node
	// leaf content
	data   []byte
	reader io.Reader
	text   bool // normalise line breaks to CRLF
	ctype  string
	cte    string
}

// WriteTo writes the mail to w in canonical form (CRLF line breaks).
func (m *Mail) WriteTo(w io.Writer) (int64, error) {
	root, err := m.tree()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: bufio.NewWriterSize(w, 32<<10)}
	h := m.Header.Clone()
	h.Del("MIME-Version")
	h.Add("MIME-Version", "1.0")
	for i := range root.header.Len() {
		f := root.header.Field(i)
		h.Set(f.Name, f.Value)
	}
	if _, err := h.WriteTo(cw); err != nil {
		return cw.n, err
	}
	if err := m.writeBody(cw, root); err != nil {
		return cw.n, err
	}
	return cw.n, cw.w.(*bufio.Writer).Flush()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// tree builds the structure and chooses encodings; readers are peeked.
func (m *Mail) tree() (*node, error) {
	var body *node
	textNode := func(s, sub string) *node {
		n := &node{data: []byte(s), text: true, ctype: "text/" + sub}
		n.data = toCRLF(n.data)
		var st Stats
		st.Write(n.data)
		n.cte = textEncoding(st.Result(), !m.SevenBit)
		n.header.Add("Content-Type", FormatMediaType(n.ctype, map[string]string{"charset": "utf-8"}))
		n.header.Add("Content-Transfer-Encoding", n.cte)
		return n
	}
	var plain, html *node
	if m.Text != "" || m.HTML == "" && len(m.Inline) == 0 {
		plain = textNode(m.Text, "plain")
	}
	if m.HTML != "" {
		html = textNode(m.HTML, "html")
	}
	if len(m.Inline) > 0 {
		if html == nil {
			return nil, errors.New("mime: inline parts need an HTML body")
		}
		rel := multi("related", html)
		for i := range m.Inline {
			n, err := attachmentNode(&m.Inline[i], true)
			if err != nil {
				return nil, err
			}
			rel.children = append(rel.children, n)
		}
		html = rel
	}
	switch {
	case plain != nil && html != nil:
		body = multi("alternative", plain, html)
	case plain != nil:
		body = plain
	case html != nil:
		body = html
	}
	if len(m.Attachments) > 0 {
		mixed := multi("mixed")
		if body != nil {
			mixed.children = append(mixed.children, body)
		}
		for i := range m.Attachments {
			n, err := attachmentNode(&m.Attachments[i], false)
			if err != nil {
				return nil, err
			}
			mixed.children = append(mixed.children, n)
		}
		body = mixed
	}
	if body == nil {
		return nil, ErrNoBody
	}
	return body, nil
}

func multi(sub string, children ...*node) *node {
	n := &node{sub: sub, boundary: RandomBoundary(), children: children}
	n.header.Add("Content-Type", FormatMediaType("multipart/"+sub, map[string]string{"boundary": n.boundary}))
	return n
}

// textEncoding chooses the encoding of a text body already in CRLF form.
func textEncoding(st Stats, allow8bit bool) string {
	switch {
	case st.Is7bit() && st.Control == 0:
		return SevenBit
	case st.NUL == 0 && st.Control == 0 && st.EightBit*6 <= st.Bytes || st.LongestLine > maxLine:
		return QuotedPrintable
	case allow8bit && st.Is8bit():
		return EightBit
	}
	return Base64
}

func attachmentNode(a *Attachment, inline bool) (*node, error) {
	n := &node{data: a.Data, reader: a.Reader}
	if n.data == nil && n.reader == nil {
		n.data = []byte{}
	}
	// Choose the type and encoding from the content, or from its first
	// 32 KiB, peeked so that the reader loses nothing.
	var sample []byte
	complete := true
	if n.data != nil {
		sample = n.data
	} else {
		br := bufio.NewReaderSize(n.reader, sampleSize)
		var err error
		sample, err = br.Peek(sampleSize)
		complete = err == io.EOF
		n.reader = br
	}
	ct := a.ContentType
	var charset string
	if ct == "" {
		ct, charset = guessType(a.Filename, sample, complete)
	}
	mt, err := ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("mime: attachment %q: bad content type %q", a.Filename, ct)
	}
	var st Stats
	st.Write(sample)
	r := st.Result()
	switch {
	case n.data != nil && r.Is7bit() && r.Control == 0 && mt.Type == "text":
		n.cte = SevenBit
	case mt.Type == "text" && r.NUL == 0 && (r.EightBit+r.Control+r.BareLF+r.BareCR)*6 <= r.Bytes:
		n.cte = QuotedPrintable
	default:
		n.cte = Base64
	}
	params := map[string]string{}
	for k, v := range mt.Params {
		params[k] = v
	}
	if charset != "" {
		params["charset"] = charset
	}
	if a.Filename != "" {
		params["name"] = a.Filename
	}
	n.header.Add("Content-Type", FormatMediaType(mt.String(), params))
	n.header.Add("Content-Transfer-Encoding", n.cte)
	disp := "attachment"
	if inline {
		disp = "inline"
		id := a.ContentID
		if id == "" {
			id = RandomBoundary()[2:] + "@mailwire"
			a.ContentID = id
		}
		n.header.Add("Content-ID", "<"+id+">")
	}
	dparams := map[string]string{}
	if a.Filename != "" {
		dparams["filename"] = a.Filename
	}
	n.header.Add("Content-Disposition", FormatMediaType(disp, dparams))
	return n, nil
}

// writeBody writes the body of n (its header has been written).
func (m *Mail) writeBody(w io.Writer, n *node) error {
	if n.sub == "" {
		return writeLeaf(w, n)
	}
	mw := NewMultipartWriter(w)
	mw.boundary = n.boundary
	for _, c := range n.children {
		pw, err := mw.CreatePart(&c.header)
		if err != nil {
			return err
		}
		if err := m.writeBody(pw, c); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeLeaf(w io.Writer, n *node) error {
	var src io.Reader
	if n.data != nil {
		src = bytes.NewReader(n.data)
	} else {
		src = n.reader
	}
	var enc io.WriteCloser
	switch n.cte {
	case QuotedPrintable:
		enc = NewQPEncoder(w, false)
	case Base64:
		enc = NewBase64Encoder(w)
	default:
		enc = nopCloser{w}
	}
	if _, err := io.Copy(enc, src); err != nil {
		return err
	}
	return enc.Close()
}

// toCRLF returns b with every line break (CRLF, LF or CR) made CRLF.
func toCRLF(b []byte) []byte {
	if !bytes.ContainsAny(b, "\r\n") {
		return b
	}
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte{'\n'}))
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}
