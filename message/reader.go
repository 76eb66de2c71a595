package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Default limits for reading a header; see Limits.
const (
	DefaultMaxHeaderBytes = 256 << 10 // 256 KiB, all fields together
	DefaultMaxFields      = 1000
	DefaultMaxLineLength  = 16 << 10 // 16 KiB per physical line
)

// Limits bound the memory spent reading a header. A zero field means the
// default. MaxHeaderBytes and MaxLineLength above 1 GiB count as 1 GiB.
type Limits struct {
	// MaxHeaderBytes bounds the size of the header, line ends included.
	// The default is DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxFields bounds the number of fields. The default is
	// DefaultMaxFields.
	MaxFields int
	// MaxLineLength bounds one physical line, its line end excluded.
	// RFC 5322 §2.1.1 allows 998 octets; real mail exceeds that, so the
	// default, DefaultMaxLineLength, is more generous.
	MaxLineLength int
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	// Fields are kept as 32-bit offsets into the header's bytes.
	l.MaxHeaderBytes = min(l.MaxHeaderBytes, maxLimit)
	l.MaxLineLength = min(l.MaxLineLength, maxLimit)
	return l
}

// maxLimit caps MaxHeaderBytes and MaxLineLength.
const maxLimit = 1 << 30

// Errors for a header over a limit, matched with errors.Is; they come wrapped
// in a *HeaderError.
var (
	ErrHeaderTooLarge = errors.New("message: header too large")
	ErrTooManyFields  = errors.New("message: too many header fields")
	ErrLineTooLong    = errors.New("message: header line too long")
)

// HeaderError is an error reading a header, with the line where it occurred.
type HeaderError struct {
	Line int   // 1-based line number in the header
	Err  error // ErrHeaderTooLarge, ErrTooManyFields, ErrLineTooLong or a read error
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("message: header line %d: %v", e.Line, e.Err)
}

func (e *HeaderError) Unwrap() error { return e.Err }

// Message is a message being read: its header, and its body as a stream.
type Message struct {
	Header Header
	// Body reads the body, from just after the blank line that ends the
	// header. It is not buffered beyond the reader's own buffer.
	Body io.Reader
}

// Read reads a message's header from r and returns the message with its body
// still unread, using the default Limits.
func Read(r io.Reader) (*Message, error) {
	return ReadWithLimits(r, Limits{})
}

// ReadWithLimits is Read with explicit limits.
func ReadWithLimits(r io.Reader, lim Limits) (*Message, error) {
	if br, ok := r.(*bufio.Reader); ok {
		m := &Message{Body: br}
		if err := readHeader(br, lim, &m.Header); err != nil {
			return nil, err
		}
		return m, nil
	}
	return readDirect(r, lim.withDefaults())
}

// readDirect reads a message header straight from r into one buffer that the
// header then keeps, so that the common case costs one buffer and no copy.
// The body starts with whatever was read beyond the header. A header that
// runs into a limit, or that the input ends inside, is read again by the
// line reader, which reports such cases.
func readDirect(r io.Reader, lim Limits) (*Message, error) {
	// The message and the reader of its body are allocated together.
	mb := new(struct {
		Message
		body bodyReader
	})
	m := &mb.Message
	// A reader that knows how much it holds (bytes.Reader, strings.Reader,
	// bytes.Buffer) gets a buffer no larger than its input, and one byte
	// more, so that the read that finds the end needs no larger buffer.
	size := 8192
	if l, ok := r.(interface{ Len() int }); ok {
		size = max(min(size, l.Len()+1), 64)
	}
	buf := make([]byte, 0, size)
	lastTry, empty := 0, 0
	for {
		if len(buf) == cap(buf) {
			if len(buf) > lim.MaxHeaderBytes+4 {
				return m.readSlow(buf, r, lim)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n == 0 && err == nil {
			// As bufio does, give up on a reader that returns nothing.
			if empty++; empty >= 100 {
				return nil, &HeaderError{Line: 1 + bytes.Count(buf, lf), Err: io.ErrNoProgress}
			}
			continue
		}
		empty = 0
		old := len(buf)
		buf = buf[:old+n]
		// Parse when a blank line arrives, or when the buffer has doubled
		// since the last attempt (which finds malformed lines while
		// keeping the total work linear on trickling input).
		if n > 0 && (len(buf) >= 2*lastTry || hasBlankLine(buf, old)) {
			lastTry = len(buf)
			k, st := m.Header.parseBuffered(buf, lim, true)
			switch st {
			case parsed:
				m.Header.parsed = true
				mb.body = bodyReader{rest: buf[k:], r: r}
				m.Body = &mb.body
				return m, nil
			case overLimit:
				return m.readSlow(buf, r, lim)
			}
		}
		if err != nil {
			if err == io.EOF {
				return m.readSlow(buf, r, lim)
			}
			return nil, &HeaderError{Line: 1 + bytes.Count(buf, lf), Err: err}
		}
	}
}

// hasBlankLine reports whether buf, of which buf[old:] is new, has a blank
// line ending in the new bytes, or starts with one.
func hasBlankLine(buf []byte, old int) bool {
	if old == 0 && len(buf) > 0 && (buf[0] == '\n' || buf[0] == '\r') {
		return true
	}
	from := max(old-2, 0)
	return bytes.Contains(buf[from:], []byte("\n\n")) || bytes.Contains(buf[from:], []byte("\n\r\n"))
}

func (m *Message) readSlow(buf []byte, r io.Reader, lim Limits) (*Message, error) {
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(buf), r))
	m.Header = Header{}
	if err := readHeader(br, lim, &m.Header); err != nil {
		return nil, err
	}
	m.Body = br
	return m, nil
}

// bodyReader reads the bytes read past the header, then the rest of r.
type bodyReader struct {
	rest []byte
	r    io.Reader
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if len(b.rest) > 0 {
		n := copy(p, b.rest)
		b.rest = b.rest[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// ReadHeader reads a header from br and leaves br at the first byte of the
// body, just after the blank line. Lines may end in CRLF or a bare LF.
//
// Reading is lenient: a line that is not a field (no colon, or a name with
// characters outside printable US-ASCII, RFC 5322 §2.2) ends the header and is
// left in br as the first line of the body, as MTAs do; a continuation line
// before any field is kept as a nameless field. Both are recorded in the
// header's Defects. A line whose colon lies beyond br's buffer (4096 bytes by
// default) counts as not a field. White space between a field name and its colon (RFC 5322
// §4.5, obsolete syntax) is accepted.
//
// Exceeding a limit returns a *HeaderError wrapping ErrHeaderTooLarge,
// ErrTooManyFields or ErrLineTooLong, with br left inside the header;
// ReadHeaderWithin instead keeps the fields before the limit and reads on to
// the body.
func ReadHeader(br *bufio.Reader, lim Limits) (*Header, error) {
	h := new(Header)
	if err := readHeader(br, lim, h); err != nil {
		return nil, err
	}
	return h, nil
}

func readHeader(br *bufio.Reader, lim Limits, h *Header) error {
	lim = lim.withDefaults()
	h.parsed = true
	// Fast path: the whole header is already in br's buffer.
	if _, err := br.Peek(1); err == nil {
		data, _ := br.Peek(br.Buffered())
		if n, st := h.parseBuffered(data, lim, false); st == parsed {
			br.Discard(n)
			return nil
		}
	}
	return readLines(br, lim, h, nil)
}

// readLines reads a header line by line into h, with lim's defaults filled
// in. With cut nil, a limit exceeded is an error; otherwise it is recorded in
// cut, the fields read so far are kept, and the rest of the header is read
// through br without being kept (see ReadHeaderWithin).
func readLines(br *bufio.Reader, lim Limits, h *Header, cut *HeaderOverflow) error {
	hint := br.Buffered()
	if hint < 512 {
		hint = 512
	}
	if hint > lim.MaxHeaderBytes {
		hint = lim.MaxHeaderBytes
	}
	buf := make([]byte, 0, hint)
	fields := make([]field, 0, 16)
	line := 0
	var read int64    // bytes of the header's lines read, blank line excluded
	skipping := false // a limit was exceeded: lines are read, not kept
	for {
		line++
		p, err := br.Peek(1)
		if len(p) == 0 {
			if err == io.EOF {
				break
			}
			return &HeaderError{Line: line, Err: err}
		}
		c := p[0]
		wsp := c == ' ' || c == '\t'
		cont := false
		switch {
		case c == '\n':
			br.Discard(1)
			h.sep = lf
			goto done
		case c == '\r':
			p, _ = br.Peek(2)
			if len(p) == 2 && p[1] == '\n' {
				br.Discard(2)
				h.sep = crlf
				goto done
			}
			h.defects = append(h.defects, Defect{line, "line starting with bare CR; header ended, rest read as body"})
			goto done
		case wsp:
			cont = true
			if len(fields) == 0 && !skipping {
				h.defects = append(h.defects, Defect{line, "continuation line before the first field; kept as a nameless field"})
				cont = false
			}
		}
		nameEnd, colon := -1, -1
		if !wsp {
			colon = findColon(br)
			if colon <= 0 {
				h.defects = append(h.defects, Defect{line, "line is not a header field; header ended, rest read as body"})
				goto done
			}
			p, _ = br.Peek(colon)
			nameEnd = colon
			for nameEnd > 0 && isWSP(p[nameEnd-1]) {
				nameEnd--
			}
			if nameEnd == 0 || !validName(p[:nameEnd]) {
				h.defects = append(h.defects, Defect{line, "invalid field name; header ended, rest read as body"})
				goto done
			}
		}
		if skipping {
			n, eof, err := skipLine(br)
			read += n
			if err != nil {
				return &HeaderError{Line: line, Err: err}
			}
			if eof {
				break
			}
			continue
		}
		var over error // the limit this line exceeds
		if !cont && len(fields) >= lim.MaxFields {
			over = ErrTooManyFields
		}
		start := len(buf)
		// Read the physical line, which may be longer than br's buffer.
		n := 0
		ended, eof := false, false // the line's end was read; it was the input's
		for over == nil {
			s, err := br.ReadSlice('\n')
			n += len(s)
			if len(buf)+len(s) > lim.MaxHeaderBytes {
				over = ErrHeaderTooLarge
				switch err {
				case nil:
					ended = true
				case io.EOF:
					ended, eof = true, true
				case bufio.ErrBufferFull:
				default:
					if cut != nil {
						return &HeaderError{Line: line, Err: err}
					}
				}
				break
			}
			buf = append(buf, s...)
			if err == nil {
				ended = true
				break
			}
			if err == bufio.ErrBufferFull {
				if n > lim.MaxLineLength+2 {
					over = ErrLineTooLong
					break
				}
				continue
			}
			if err == io.EOF {
				ended, eof = true, true
				break
			}
			return &HeaderError{Line: line, Err: err}
		}
		read += int64(n)
		if over == nil {
			content := n
			if content > 0 && buf[len(buf)-1] == '\n' {
				content--
				if content > 0 && buf[len(buf)-2] == '\r' {
					content--
					h.crlfs++
				}
			}
			if content > lim.MaxLineLength {
				over = ErrLineTooLong
			}
		}
		if over != nil {
			if cut == nil {
				return &HeaderError{Line: line, Err: over}
			}
			buf, fields = cut.begin(h, &HeaderError{Line: line, Err: over}, buf, fields, start, cont)
			skipping = true
			if !ended {
				m, e, err := skipLine(br)
				read += m
				if err != nil {
					return &HeaderError{Line: line, Err: err}
				}
				eof = e
			}
			if eof {
				break
			}
			continue
		}
		if cont {
			fields[len(fields)-1].end = int32(len(buf))
			continue
		}
		fields = append(fields, field{start: int32(start), end: int32(len(buf)), nameEnd: int32(nameEnd), colon: int32(colon)})
		if buf[len(buf)-1] != '\n' {
			break // EOF
		}
	}
done:
	h.buf = buf
	h.f = fields
	if cut != nil && cut.Err != nil {
		cut.Skipped = read - int64(len(buf))
		cut.Lines = line - 1
		if h.sep != nil {
			cut.Lines++ // the blank line
		}
	}
	return nil
}

// parseBuffered parses a header that lies wholly in data, with the same
// results as the line-by-line reader below. It leaves h unchanged and reports
// needMore when data does not hold the whole header, or overLimit when a
// limit is reached (the line-by-line reader then reports the error);
// otherwise it returns the number of bytes the header took, blank line
// included. With share, h keeps data's memory instead of a copy.
func (h *Header) parseBuffered(data []byte, lim Limits, share bool) (int, parseStatus) {
	var defects []Defect
	// Fields are gathered in a stack array and copied out at the end, in
	// one allocation of the right size.
	var stack [64]field
	fs := stack[:0]
	pos, line, sep := 0, 0, 0
	crlfs := 0
scan:
	for {
		line++
		if pos >= len(data) {
			return 0, needMore
		}
		switch c := data[pos]; {
		case c == '\n':
			sep = 1
			break scan
		case c == '\r':
			if pos+1 >= len(data) {
				return 0, needMore
			}
			if data[pos+1] == '\n' {
				sep = 2
				break scan
			}
			defects = append(defects, Defect{line, "line starting with bare CR; header ended, rest read as body"})
			break scan
		}
		nl := bytes.IndexByte(data[pos:], '\n')
		if nl < 0 {
			return 0, needMore
		}
		content := nl
		if content > 0 && data[pos+nl-1] == '\r' {
			content--
		}
		if content > lim.MaxLineLength {
			return 0, overLimit
		}
		end := int32(pos + nl + 1)
		if c := data[pos]; c == ' ' || c == '\t' {
			if len(fs) == 0 {
				defects = append(defects, Defect{line, "continuation line before the first field; kept as a nameless field"})
				fs = append(fs, field{start: int32(pos), end: end, nameEnd: -1, colon: -1})
			} else {
				fs[len(fs)-1].end = end
			}
		} else {
			l := data[pos : pos+nl]
			colon := bytes.IndexByte(l, ':')
			if colon <= 0 {
				defects = append(defects, Defect{line, "line is not a header field; header ended, rest read as body"})
				break scan
			}
			ne := colon
			for ne > 0 && isWSP(l[ne-1]) {
				ne--
			}
			if ne == 0 || !validName(l[:ne]) {
				defects = append(defects, Defect{line, "invalid field name; header ended, rest read as body"})
				break scan
			}
			if len(fs) >= lim.MaxFields {
				return 0, overLimit
			}
			fs = append(fs, field{start: int32(pos), end: end, nameEnd: int32(ne), colon: int32(colon)})
		}
		if content < nl {
			crlfs++ // a line of the header that ends in CRLF
		}
		pos = int(end)
		if pos > lim.MaxHeaderBytes {
			return 0, overLimit
		}
	}
	buf := data[:pos:pos]
	if !share {
		buf = make([]byte, pos)
		copy(buf, data)
	}
	fields := make([]field, len(fs))
	copy(fields, fs)
	h.buf, h.f, h.defects, h.crlfs = buf, fields, defects, int32(crlfs)
	switch sep {
	case 1:
		h.sep = lf
	case 2:
		h.sep = crlf
	}
	return pos + sep, parsed
}

type parseStatus int

const (
	parsed    parseStatus = iota
	needMore              // data ends before the header does
	overLimit             // a limit is exceeded; the line reader reports it
)

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
	cr   = []byte("\r")
)

// findColon returns the offset of the first colon on the line at the head of
// br, or -1 if the line has none (or a name longer than br's buffer). It only
// waits for more input when what is buffered does not settle the question.
func findColon(br *bufio.Reader) int {
	n := br.Buffered()
	if n < 1 {
		n = 1
	}
	for {
		p, err := br.Peek(n)
		for i, c := range p {
			if c == ':' {
				return i
			}
			if c == '\n' {
				return -1
			}
		}
		if err != nil || n >= br.Size() {
			return -1
		}
		n *= 2
		if n > br.Size() {
			n = br.Size()
		}
	}
}

// validName reports whether b is a field name: RFC 5322 §2.2, printable
// US-ASCII characters except colon.
func validName(b []byte) bool {
	for _, c := range b {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return len(b) > 0
}

// readAllHeader is ReadHeader over a byte slice, for tests and fuzzing.
func parseHeaderBytes(b []byte) (*Header, []byte, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	h, err := ReadHeader(br, Limits{})
	if err != nil {
		return nil, nil, err
	}
	rest, _ := io.ReadAll(br)
	return h, rest, nil
}
