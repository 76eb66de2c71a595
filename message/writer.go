package message

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Line lengths for generated header lines, RFC 5322 §2.1.1 and §2.2.3.
const (
	PreferredLineLength = 78  // lines are folded to this length where possible
	MaxLineLength       = 998 // no generated line is longer
)

// Errors from writing a header, matched with errors.Is; they come wrapped
// with the field name.
var (
	// ErrNewline: a CR or LF in a field name or value given to a generator.
	// Passing it through would let the value inject header fields.
	ErrNewline = errors.New("message: CR or LF in header field")
	// ErrFieldName: a field name outside RFC 5322 §2.2's printable ASCII.
	ErrFieldName = errors.New("message: invalid header field name")
	// ErrNonASCII: non-ASCII text in a structured field that has no
	// RFC 2047 encoding, written without WriteOptions.UTF8, such as a
	// non-ASCII local part of an address (a non-ASCII domain name is
	// written as A-labels instead).
	ErrNonASCII = errors.New("message: non-ASCII text in structured header field")
	// ErrControl: a control character other than tab in a structured field
	// value. (In unstructured text it is RFC 2047 encoded instead.)
	ErrControl = errors.New("message: control character in header field")
	// ErrWordTooLong: a word that cannot be folded to fit MaxLineLength.
	ErrWordTooLong = errors.New("message: header word longer than the line limit")
)

// WriteOptions change how a header is written.
type WriteOptions struct {
	// UTF8 writes non-ASCII text as raw UTF-8 (RFC 6532), for a message
	// that will travel with SMTPUTF8. Otherwise non-ASCII text in
	// unstructured fields and display names is RFC 2047 encoded.
	UTF8 bool
	// FieldsOnly leaves out the blank line that ends a header (Header.Write
	// only; NewWriter always writes it).
	FieldsOnly bool
}

// WriteTo writes the header and the blank line that ends it. Fields that were
// read are written as they were read; added fields are folded to 78
// characters where possible, with non-ASCII text RFC 2047 encoded. A header
// that was read without a blank line (the input ended) is written without one.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := h.write(cw, WriteOptions{}, false, false)
	return cw.n, err
}

// WriteFields is like WriteTo but writes only the fields, without the blank
// line that ends a header, each field ending in a line end. It suits fields
// put in front of an existing message, such as the trace fields a server
// adds on delivery (RFC 5322 §3.6.7).
func (h *Header) WriteFields(w io.Writer) (int64, error) {
	return h.Write(w, WriteOptions{FieldsOnly: true})
}

// Write is WriteTo with options: with opt.UTF8, non-ASCII text of added
// fields is written as UTF-8 (RFC 6532) rather than encoded or refused;
// with opt.FieldsOnly, it writes what WriteFields does.
func (h *Header) Write(w io.Writer, opt WriteOptions) (int64, error) {
	cw := &countWriter{w: w}
	err := h.write(cw, opt, false, opt.FieldsOnly)
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// write writes the header; with canon, raw fields have their line ends made
// CRLF and the header always ends with a CRLF blank line. With fieldsOnly,
// no blank line is written.
func (h *Header) write(w io.Writer, opt WriteOptions, canon, fieldsOnly bool) error {
	var buf []byte
	for i := range h.f {
		f := &h.f[i]
		if f.add == 0 {
			raw := h.buf[f.start:f.end]
			if canon {
				buf = appendCRLF(buf, raw)
				continue
			}
			buf = append(buf, raw...)
			// A last field read without a line end (the input ended)
			// needs one if anything follows it.
			if raw[len(raw)-1] != '\n' && (i < len(h.f)-1 || !h.parsed || len(h.sep) > 0 || fieldsOnly) {
				if raw[len(raw)-1] == '\r' {
					buf = append(buf, '\n') // complete the CRLF
				} else {
					buf = append(buf, crlf...)
				}
			}
			continue
		}
		var err error
		a := h.addedOf(f)
		buf, err = appendField(buf, a.name, a.value, opt)
		if err != nil {
			return err
		}
	}
	switch {
	case fieldsOnly:
	case canon || !h.parsed:
		buf = append(buf, crlf...)
	default:
		buf = append(buf, h.sep...)
	}
	_, err := w.Write(buf)
	return err
}

// appendCRLF appends the raw field b with every line end made CRLF, and a
// CRLF added if b does not end in a line end. A bare CR inside the field is
// not a line end to the reader, which took what follows as part of the
// value; so it becomes CRLF only before white space (a fold, which unfolds
// to the same value) and is dropped elsewhere: a CRLF there would start a
// new field, such as a Bcc the reader never saw, or end the header.
func appendCRLF(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\r':
			switch {
			case i+1 < len(b) && b[i+1] == '\n':
				i++
			case i+1 < len(b) && !isWSP(b[i+1]):
				continue
			}
			dst = append(dst, '\r', '\n')
		case '\n':
			dst = append(dst, '\r', '\n')
		default:
			dst = append(dst, c)
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' && b[len(b)-1] != '\r' {
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// addressFields are the fields whose values are address lists; their display
// names are encoded when the header is not written as UTF-8.
var addressFields = []string{
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Bcc",
	"Disposition-Notification-To",
}

// structuredFields are fields with their own syntax and no RFC 2047 encoding.
var structuredFields = []string{
	"Date", "Resent-Date", "Message-ID", "Resent-Message-ID", "In-Reply-To",
	"References", "Received", "Return-Path", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Content-ID", "Content-Disposition",
	"DKIM-Signature", "ARC-Seal", "ARC-Message-Signature",
	"ARC-Authentication-Results", "Authentication-Results", "Received-SPF",
}

func nameIn(name string, list []string) bool {
	for _, n := range list {
		if equalFoldString(name, n) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// appendField appends one generated field, encoded and folded, with CRLF.
func appendField(dst []byte, name, value string, opt WriteOptions) ([]byte, error) {
	if !validName([]byte(name)) {
		return dst, fmt.Errorf("%w: %q", ErrFieldName, name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return dst, fmt.Errorf("field %s: %w", name, ErrNewline)
	}
	// As fold does, so that encoded words are sized for the column where
	// they will start.
	value = strings.Trim(value, " \t")
	if hasControl(value) {
		if nameIn(name, addressFields) || nameIn(name, structuredFields) {
			return dst, fmt.Errorf("field %s: %w", name, ErrControl)
		}
		return fold(dst, name, encodeText(value, len(name)+2))
	}
	if !isASCII(value) {
		switch {
		case opt.UTF8:
			if !utf8.ValidString(value) {
				return dst, fmt.Errorf("field %s: invalid UTF-8", name)
			}
		case nameIn(name, addressFields):
			list, err := ParseAddressList(value)
			if err != nil {
				return dst, fmt.Errorf("field %s: %w", name, err)
			}
			if err := asciiAddrs(list); err != nil {
				return dst, fmt.Errorf("field %s: %w", name, err)
			}
			value = FormatAddressList(list)
		case nameIn(name, structuredFields):
			return dst, fmt.Errorf("field %s: %w", name, ErrNonASCII)
		default:
			value = encodeText(value, len(name)+2)
		}
	}
	return fold(dst, name, value)
}

// idnaProfile converts non-ASCII domains to A-labels for a header written
// without UTF-8, with the checks of a lookup (RFC 5891 §5, UTS #46).
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.Transitional(false),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(false),
)

// asciiAddrs makes the addr-specs of list ASCII for a header written without
// RFC 6532: a non-ASCII domain name is converted to A-labels (RFC 5890). A
// non-ASCII local part, or domain literal, has no ASCII form (RFC 2047 §5
// allows no encoded word in an addr-spec), so it is ErrNonASCII.
func asciiAddrs(list []*Address) error {
	for _, a := range list {
		if a.IsGroup {
			if err := asciiAddrs(a.Members); err != nil {
				return err
			}
			continue
		}
		if isASCII(a.Addr) {
			continue
		}
		local, dom, _ := splitAddr(a.Addr)
		if !isASCII(local) {
			return fmt.Errorf("%w: local part of %q", ErrNonASCII, a.Addr)
		}
		if strings.HasPrefix(dom, "[") {
			return fmt.Errorf("%w: domain literal in %q", ErrNonASCII, a.Addr)
		}
		ace, err := idnaProfile.ToASCII(dom)
		if err != nil || !isASCII(ace) {
			return fmt.Errorf("%w: domain of %q: %v", ErrNonASCII, a.Addr, err)
		}
		a.Addr = local + "@" + ace
	}
	return nil
}

// fold appends "name: value" CRLF, folded at white space (RFC 5322 §2.2.3) so
// that lines are at most PreferredLineLength long where a break allows it, or
// 76 if they hold an encoded word (RFC 2047 §2), and never longer than
// MaxLineLength. Encoded words contain no white space, so they are never
// split.
func fold(dst []byte, name, value string) ([]byte, error) {
	lineStart := len(dst)
	dst = append(dst, name...)
	dst = append(dst, ':')
	value = strings.Trim(value, " \t")
	if value == "" {
		return append(dst, crlf...), nil
	}
	headLen := len(dst) - lineStart
	i := 0
	first := true
	lineHasWord := false // the line holds an encoded word
	for i < len(value) {
		// A token is a run of white space (one space before the first)
		// then a run of non-white space.
		j := i
		for j < len(value) && isWSP(value[j]) {
			j++
		}
		for j < len(value) && !isWSP(value[j]) {
			j++
		}
		tok := value[i:j]
		if first {
			tok = " " + tok
			first = false
		}
		lineLen := len(dst) - lineStart
		word := isEncodedWord(tok)
		limit := PreferredLineLength
		if lineHasWord || word {
			limit = encodedLineLength
		}
		if lineLen+len(tok) > limit && lineLen > headLen && isWSP(tok[0]) {
			// A run of white space stays at the end of the line, as far
			// as the line has room, but for one character, which starts
			// the next: unfolding gives the same run, and the next line
			// keeps its room for the word.
			ws := 0
			for ws < len(tok) && isWSP(tok[ws]) {
				ws++
			}
			lim := PreferredLineLength
			if lineHasWord {
				lim = encodedLineLength
			}
			if k := min(ws-1, lim-lineLen); k > 0 {
				dst = append(dst, tok[:k]...)
				tok = tok[k:]
			}
			dst = append(dst, crlf...)
			lineStart = len(dst)
			lineLen = 0
			headLen = 0 // a later line may fold after its first token
			lineHasWord = false
		}
		lineHasWord = lineHasWord || word
		if lineLen+len(tok) > MaxLineLength {
			return dst, fmt.Errorf("field %s: %w", name, ErrWordTooLong)
		}
		dst = append(dst, tok...)
		i = j
	}
	return append(dst, crlf...), nil
}

// isEncodedWord reports whether tok, white space and all, looks like an
// encoded word, possibly inside the punctuation of a structured field.
func isEncodedWord(tok string) bool {
	i := strings.Index(tok, "=?")
	return i >= 0 && strings.Contains(tok[i+2:], "?=")
}

// Writer writes a message: the header when it is created, then the body
// through Write, with every line end made CRLF.
type Writer struct {
	w      *bufio.Writer
	lastCR bool
	err    error
}

// NewWriter writes h to w and returns a Writer for the body. The header is
// written with CRLF line ends; added fields are checked (a CR or LF in a value
// is ErrNewline), encoded unless opt.UTF8 and folded. h and opt may be nil.
func NewWriter(w io.Writer, h *Header, opt *WriteOptions) (*Writer, error) {
	var o WriteOptions
	if opt != nil {
		o = *opt
	}
	if h == nil {
		h = new(Header)
	}
	bw := bufio.NewWriter(w)
	if err := h.write(bw, o, true, false); err != nil {
		return nil, err
	}
	return &Writer{w: bw}, nil
}

// Write writes body bytes, turning bare LF and bare CR into CRLF.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	start := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if w.lastCR {
			w.lastCR = false
			if c == '\n' {
				start = i + 1
				continue
			}
		}
		if c != '\r' && c != '\n' {
			continue
		}
		if _, err := w.w.Write(p[start:i]); err != nil {
			w.err = err
			return start, err
		}
		w.w.WriteString("\r\n")
		start = i + 1
		w.lastCR = c == '\r'
	}
	if _, err := w.w.Write(p[start:]); err != nil {
		w.err = err
		return start, err
	}
	return len(p), nil
}

// Close flushes the message to the underlying writer, which it does not
// close.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}
