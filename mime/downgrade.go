package mime

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/mailwire/mailwire/message"
)

// maxSpool is how much of a part To7bit reads ahead to decide whether it
// can be sent as it is; parts longer than this are re-encoded by their
// label alone.
const maxSpool = 1 << 20

// To7bit copies the message in src to dst converted for a relay without
// 8BITMIME (RFC 6152 §3): every part that is not already 7bit is
// re-encoded, text as quoted-printable and anything else as base64, and
// its Content-Transfer-Encoding changed; message/rfc822 and multipart
// parts labelled 8bit or binary are relabelled 7bit. The structure,
// headers, preambles and epilogues are kept, and the decoded content of
// every part is the same, except that line breaks of text (and of parts
// that were not encoded at all) are written as CRLF, the canonical form
// (RFC 2049 §4). 8-bit bytes in preambles and epilogues, which are not
// content, become '?'. Header fields with 8-bit text are RFC 2047 encoded (and
// Content-Type and Content-Disposition parameters RFC 2231 encoded); an
// 8-bit structured field that has no such encoding (an address local part,
// say) makes To7bit fail with an error wrapping message.ErrNonASCII, as
// such a message can only travel with SMTPUTF8.
//
// Memory use is bounded: at most 1 MiB of a part is read ahead. A header
// over the Reader's limits, which a Reader only records as a defect, makes
// To7bit fail with an error wrapping the *message.HeaderError, since the
// fields past the limit cannot be copied.
func To7bit(dst io.Writer, src io.Reader) error {
	bw := bufio.NewWriterSize(dst, 32<<10)
	mr := NewReader(src)
	type open struct {
		p        *Part
		boundary string
		wrote    bool // a delimiter was written
	}
	var stack []*open
	closeTop := func() error {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		s := "\r\n--" + o.boundary + "--\r\n"
		if !o.wrote && len(o.p.Preamble) == 0 {
			s = s[2:]
		}
		bw.WriteString(s)
		_, err := bw.Write(textBlock(o.p.Epilogue))
		return err
	}
	isAncestor := func(c, p *Part) bool {
		for q := p.Parent; q != nil; q = q.Parent {
			if q == c {
				return true
			}
		}
		return false
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if p.headerErr != nil {
			// The fields past the limit are lost: the message cannot be
			// copied faithfully.
			return fmt.Errorf("mime: header of part %q: %w", p.Path.String(), p.headerErr)
		}
		for len(stack) > 0 && !isAncestor(stack[len(stack)-1].p, p) {
			if err := closeTop(); err != nil {
				return err
			}
		}
		if p.Parent != nil && !p.Encapsulated && len(stack) > 0 {
			o := stack[len(stack)-1]
			s := "\r\n--" + o.boundary + "\r\n"
			if !o.wrote && len(o.p.Preamble) == 0 {
				s = s[2:]
			}
			o.wrote = true
			bw.WriteString(s)
		}
		h, err := header7bit(p)
		if err != nil {
			return err
		}
		switch {
		case p.IsMultipart() || p.IsMessage():
			switch p.ContentTransferEncoding() {
			case EightBit, Binary:
				h = ensureCopy(h, p.Header)
				h.Set("Content-Transfer-Encoding", SevenBit)
			}
			b := p.Boundary
			if p.IsMultipart() && (hasHigh([]byte(b)) || bytes.IndexByte([]byte(b), 0) >= 0) {
				// A boundary with 8-bit characters cannot be kept.
				b = RandomBoundary()
				params := map[string]string{}
				for k, v := range p.MediaType.Params {
					params[k] = v
				}
				params["boundary"] = b
				h = ensureCopy(h, p.Header)
				h.Set("Content-Type", FormatMediaType(p.MediaType.String(), params))
			}
			if err := writeHeader(bw, h); err != nil {
				return err
			}
			if p.IsMultipart() {
				bw.Write(textBlock(p.Preamble))
				stack = append(stack, &open{p: p, boundary: b})
			}
		default:
			if err := leaf7bit(bw, p, h); err != nil {
				return err
			}
		}
	}
	for len(stack) > 0 {
		if err := closeTop(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func ensureCopy(h, orig *message.Header) *message.Header {
	if h == orig {
		return h.Clone()
	}
	return h
}

func writeHeader(w io.Writer, h *message.Header) error {
	hw, err := message.NewWriter(w, h, nil)
	if err != nil {
		return err
	}
	return hw.Close()
}

// header7bit returns p's header, or a copy with 8-bit fields encoded and
// control characters replaced.
func header7bit(p *Part) (*message.Header, error) {
	h := p.Header
	eight := false
	for i := range h.Len() {
		raw := h.Field(i).Raw
		// A bare CR would become a line break when the header is
		// written with CRLF: rewrite such a header too.
		if hasHigh(raw) || hasBareCR(raw) || bytes.IndexByte(raw, 0) >= 0 {
			eight = true
			break
		}
	}
	if !eight {
		return h, nil
	}
	var out message.Header
	seenType, seenDisp := false, false
	for i := range h.Len() {
		f := h.Field(i)
		// Control characters (a bare CR, NUL) have no place in a
		// field; they become spaces, or '?' in the MIME fields, where
		// a space could change how the value parses.
		ctl := ' '
		name := lowerASCII(f.Name)
		if strings.HasPrefix(name, "content-") {
			ctl = '?'
		}
		v := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' || r == 0x7f {
				return ctl
			}
			return r
		}, f.Value)
		if v != f.Value || hasHigh([]byte(v)) {
			// The fields that give the structure are written as the
			// reader understood them, so that the copy reads the same.
			switch {
			case name == "content-type" && !seenType:
				v = p.MediaType.Format()
			case name == "content-disposition" && !seenDisp:
				v = p.Disposition().Format()
			}
		}
		seenType = seenType || name == "content-type"
		seenDisp = seenDisp || name == "content-disposition"
		out.Add(f.Name, v)
	}
	// Check now, so the error names the field; and check that what is
	// written is ASCII, whatever the header writer made of it.
	var buf bytes.Buffer
	if _, err := out.WriteTo(&buf); err != nil {
		return nil, err
	}
	if hasHigh(buf.Bytes()) {
		for i := range out.Len() {
			f := out.Field(i)
			var one message.Header
			one.Add(f.Name, f.Value)
			buf.Reset()
			one.WriteTo(&buf)
			if hasHigh(buf.Bytes()) {
				return nil, fmt.Errorf("mime: field %s: %w", f.Name, message.ErrNonASCII)
			}
		}
		return nil, message.ErrNonASCII
	}
	return &out, nil
}

// textBlock prepares a preamble or epilogue: a bare CR becomes a space (as
// a line break it could make a delimiter line of what was none), a bare LF
// a CRLF, 8-bit bytes and NUL '?'.
func textBlock(b []byte) []byte {
	if hasBareCR(b) {
		c := make([]byte, len(b))
		copy(c, b)
		for i := range c {
			if c[i] == '\r' && (i+1 == len(c) || c[i+1] != '\n') {
				c[i] = ' '
			}
		}
		b = c
	}
	return ascii(toCRLF(b))
}

// ascii replaces 8-bit bytes and NUL by '?': preambles and epilogues are
// not content (RFC 2046 §5.1.1 says to ignore them) and have no encoding.
func ascii(b []byte) []byte {
	if !hasHigh(b) && bytes.IndexByte(b, 0) < 0 {
		return b
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x80 || c == 0 {
			c = '?'
		}
		out[i] = c
	}
	return out
}

func hasBareCR(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return true
		}
	}
	return false
}

func hasHigh(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// leaf7bit writes a leaf part, re-encoding its body when needed.
func leaf7bit(w *bufio.Writer, p *Part, h *message.Header) error {
	cte := p.ContentTransferEncoding()
	text := p.MediaType.Type == "text"
	raw := p.Raw()
	spool, err := io.ReadAll(io.LimitReader(raw, maxSpool))
	if err != nil {
		return err
	}
	complete := len(spool) < maxSpool
	if complete {
		// Peek one more byte to know for sure.
		var one [1]byte
		n, _ := io.ReadFull(raw, one[:])
		if n > 0 {
			spool = append(spool, one[0])
			complete = false
		}
	}
	var st Stats
	st.Write(spool)
	s := st.Result()
	clean := s.EightBit == 0 && s.NUL == 0 && s.LongestLine <= maxLine && s.BareCR == 0
	body := io.MultiReader(bytes.NewReader(spool), raw)

	switch {
	case complete && clean && (cte == SevenBit || cte == Base64 || cte == QuotedPrintable || text || s.BareLF == 0):
		// Already 7bit once line breaks are CRLF.
		if cte == EightBit || cte == Binary {
			h = ensureCopy(h, p.Header)
			h.Set("Content-Transfer-Encoding", SevenBit)
		}
		if err := writeHeader(w, h); err != nil {
			return err
		}
		_, err := w.Write(toCRLF(spool))
		return err
	}
	// Decode, then encode again.
	var dec io.Reader = body
	switch cte {
	case Base64:
		dec = NewBase64Decoder(body)
	case QuotedPrintable:
		dec = NewQPDecoder(body)
	}
	newCTE := Base64
	if text {
		newCTE = QuotedPrintable
	}
	h = ensureCopy(h, p.Header)
	h.Set("Content-Transfer-Encoding", newCTE)
	if err := writeHeader(w, h); err != nil {
		return err
	}
	var enc io.WriteCloser
	var sink io.Writer
	if text {
		q := NewQPEncoder(w, false)
		enc = q
		sink = &crlfWriter{w: q}
	} else {
		b := NewBase64Encoder(w)
		enc, sink = b, b
	}
	if _, err := io.Copy(sink, dec); err != nil {
		return fmt.Errorf("mime: re-encoding part %s: %w", p.Path, err)
	}
	if c, ok := sink.(*crlfWriter); ok {
		if err := c.Close(); err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	// The encoders end with a line break only after a full line; the
	// delimiter that follows brings its own CRLF.
	return nil
}

// crlfWriter makes every line break (CRLF, bare CR, bare LF) CRLF.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
	buf    []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.buf = c.buf[:0]
	for _, b := range p {
		if c.lastCR {
			c.lastCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\r':
			c.buf = append(c.buf, '\r', '\n')
			c.lastCR = true
		case '\n':
			c.buf = append(c.buf, '\r', '\n')
		default:
			c.buf = append(c.buf, b)
		}
	}
	if _, err := c.w.Write(c.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *crlfWriter) Close() error { return nil }
