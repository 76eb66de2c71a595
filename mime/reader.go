package mime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/mailwire/mailwire/message"
)

// Default limits of a Reader; see Limits.
const (
	DefaultMaxDepth    = 32
	DefaultMaxParts    = 10000
	DefaultMaxPreamble = 64 << 10
)

// maxBoundary is the longest boundary the reader accepts. RFC 2046 §5.1.1
// allows 70 characters; longer ones are tolerated up to this length (with a
// defect) and beyond it the multipart is read as an opaque body.
const maxBoundary = 256

// bufSize is the reader's buffer: the only memory a Reader needs per
// message, whatever the size of the parts.
const bufSize = 64 << 10

// Limits bound what a Reader accepts. A zero field means its default.
type Limits struct {
	// Header bounds each header (the message's and every part's), with
	// the defaults of message.Limits. A header over it is not an error:
	// the fields before the limit are kept, the rest is skipped, and the
	// part gets a DefectHeader (see the package documentation).
	Header message.Limits
	// MaxDepth bounds nesting of multiparts and message/rfc822 parts
	// (DefaultMaxDepth). A part deeper than this is read as an opaque
	// body and a DefectDepth is recorded.
	MaxDepth int
	// MaxParts bounds the number of entities in a message
	// (DefaultMaxParts); beyond it NextPart returns ErrTooManyParts.
	MaxParts int
	// MaxPreamble bounds the bytes kept of each preamble and epilogue
	// (DefaultMaxPreamble). The rest is read and dropped, with a
	// DefectTruncated.
	MaxPreamble int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultMaxParts
	}
	if l.MaxPreamble <= 0 {
		l.MaxPreamble = DefaultMaxPreamble
	}
	return l
}

// ErrTooManyParts is returned by NextPart when a message has more entities
// than Limits.MaxParts.
var ErrTooManyParts = errors.New("mime: too many parts")

// Path is a part number as IMAP gives it (RFC 3501 §6.4.5): 1, 1.2, 1.2.3.
// The top-level multipart of a message, and a multipart directly inside a
// message/rfc822 part, have the path of the message that holds them (empty
// for the top level), as IMAP gives them no number of their own.
type Path []int

// String formats p as dot-separated numbers ("" for the empty path).
func (p Path) String() string {
	var b []byte
	for i, n := range p {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

// ParsePath parses a dotted part number such as "1.2.3".
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, nil
	}
	var p Path
	for f := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || f[0] == '0' {
			return nil, fmt.Errorf("mime: bad part number %q", s)
		}
		p = append(p, n)
	}
	return p, nil
}

// A Part is one entity of a message: the message itself, a body part of a
// multipart, or the message inside a message/rfc822 part.
type Part struct {
	Header    *message.Header
	MediaType MediaType // parsed Content-Type; text/plain by default (RFC 2045 §5.2)
	Path      Path
	Depth     int   // 0 for the message itself
	Parent    *Part // the enclosing multipart or message/rfc822 part; nil at the top
	Index     int   // 1-based position among the parent multipart's parts; 0 otherwise

	// Encapsulated is true for the message inside a message/rfc822 part.
	Encapsulated bool

	// Boundary, Preamble and Epilogue are set for a multipart. Preamble
	// is complete when NextPart returns the multipart; Epilogue once the
	// multipart's close-delimiter has been read (after its last part).
	// Neither includes the line break that belongs to the next delimiter
	// (RFC 2046 §5.1.1).
	Boundary string
	Preamble []byte
	Epilogue []byte

	// Offset is the position of the first byte of the part's header in
	// the message; BodyOffset of the first byte of its body.
	Offset, BodyOffset int64
	// Size and Lines are the size in octets and the number of line
	// breaks of the body as it was sent (before decoding), counted as
	// Dovecot does for IMAP. They are set when the part has ended: after
	// the next call of NextPart, or when NextPart has returned io.EOF.
	// Lines is counted only by ReadStructure and Readers with CountLines
	// set.
	Size, Lines int64

	// Defects lists malformations tolerated while reading this part:
	// its header's (DefectHeader, including a header cut at
	// Limits.Header), its Content-Type's and, once the body has been
	// read through Body, its transfer encoding's.
	Defects []Defect

	// headerErr is the limit the header exceeded, when it was cut.
	headerErr error
	cte       string // ContentTransferEncoding as the header was read

	r       *Reader
	gen     int // r.gen when this part's body was current
	frame   int // index in r.stack of the multipart holding the part; -1 at the top
	leaf    bool
	ended   bool
	nlStart int64
	body    io.Reader
	dec     io.Reader
}

// IsMultipart reports whether the part is a multipart whose parts the
// reader returns next.
func (p *Part) IsMultipart() bool { return p.Boundary != "" }

// IsMessage reports whether the part is a message/rfc822 (or
// message/global) part whose content the reader returns next as an
// Encapsulated part.
func (p *Part) IsMessage() bool { return !p.leaf && p.Boundary == "" }

// ContentTransferEncoding returns the normalised Content-Transfer-Encoding
// ("7bit" when absent, RFC 2045 §6.1).
func (p *Part) ContentTransferEncoding() string {
	v := normalizeCTE(p.Header.Get("Content-Transfer-Encoding"))
	if v == "" {
		return SevenBit
	}
	return v
}

// Disposition returns the parsed Content-Disposition (Type "" when absent).
func (p *Part) Disposition() Disposition {
	return ParseDisposition(p.Header.Get("Content-Disposition"))
}

// Filename returns the part's file name: the Content-Disposition filename,
// else the Content-Type name parameter, reduced as SafeFilename does.
func (p *Part) Filename() string {
	if f := p.Disposition().Filename(); f != "" {
		return f
	}
	return SafeFilename(p.MediaType.Params["name"])
}

// IsAttachment reports whether the part is meant to be saved rather than
// shown: Content-Disposition attachment, or a leaf part that is not text
// and has a file name.
func (p *Part) IsAttachment() bool {
	if !p.leaf {
		return false
	}
	switch p.Disposition().Type {
	case "attachment":
		return true
	case "inline":
		return false
	}
	return p.MediaType.Type != "text" && p.Filename() != ""
}

var errStale = errors.New("mime: part body read after NextPart")

// Raw returns the part's body as it was sent, transfer encoding included.
// It is valid until the next call of NextPart. For a multipart or
// message/rfc822 part it reads nothing: their content comes as parts.
func (p *Part) Raw() io.Reader {
	if p.body == nil {
		p.body = &partReader{p: p}
	}
	return p.body
}

// Body returns the part's body with the transfer encoding removed
// (RFC 2045 §6): base64 and quoted-printable are decoded, other encodings
// read as they are. It is valid until the next call of NextPart.
func (p *Part) Body() io.Reader {
	if p.dec != nil {
		return p.dec
	}
	raw := p.Raw()
	switch p.cte {
	case Base64:
		d := p.r.b64
		if d == nil {
			d = b64Pool.Get().(*Base64Decoder)
			p.r.b64 = d
		}
		d.Reset(raw)
		p.dec = &defectReader{d, p, d.Defects}
	case QuotedPrintable:
		d := p.r.qp
		if d == nil {
			d = qpPool.Get().(*QPDecoder)
			p.r.qp = d
		}
		d.Reset(raw)
		p.dec = &defectReader{d, p, d.Defects}
	default:
		// An unknown encoding (DefectBadEncoding) reads as it is.
		p.dec = raw
	}
	return p.dec
}

// Text returns the body decoded to UTF-8 from the charset parameter
// (us-ascii by default, RFC 2046 §4.1.2). For an unknown charset it
// returns the undecoded body together with a *CharsetError, so the bytes
// stay reachable.
func (p *Part) Text() (io.Reader, error) {
	cs := p.MediaType.Params["charset"]
	if cs == "" {
		cs = "us-ascii"
	}
	return CharsetReader(cs, p.Body())
}

// defectReader copies a decoder's defects into the part at the end.
type defectReader struct {
	r       io.Reader
	p       *Part
	defects func() []Defect
}

func (d *defectReader) Read(b []byte) (int, error) {
	// The decoder is shared by the Reader's parts: a stale part must
	// not read through it.
	if d.p.gen != d.p.r.gen {
		return 0, errStale
	}
	n, err := d.r.Read(b)
	if err != nil {
		if ds := d.defects(); len(ds) > 0 {
			d.p.Defects = append(d.p.Defects, ds...)
			d.defects = func() []Defect { return nil }
		}
	}
	return n, err
}

// WriteTo writes the decoded body to w in large blocks, which io.Copy
// prefers to the small reads of w's ReadFrom (io.Discard's, for one).
func (d *defectReader) WriteTo(w io.Writer) (int64, error) {
	buf := d.p.r.scratch()
	var total int64
	for {
		n, err := d.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// scratch returns the Reader's copy buffer.
func (r *Reader) scratch() []byte {
	if r.copyBuf == nil {
		r.copyBuf = copyPool.Get().(*[copySize]byte)
	}
	return r.copyBuf[:]
}

const copySize = 48 << 10

type partReader struct{ p *Part }

// WriteTo writes the raw body straight from the Reader's buffer.
func (pr *partReader) WriteTo(w io.Writer) (int64, error) {
	p := pr.p
	if p.gen != p.r.gen {
		return 0, errStale
	}
	if !p.leaf {
		return 0, nil
	}
	r := p.r
	var total int64
	for r.inRegion {
		buf, err := r.peekRegion()
		if len(buf) > 0 {
			n, werr := w.Write(buf)
			r.consume(buf[:n])
			total += int64(n)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil && err != io.EOF {
			return total, err
		}
	}
	return total, nil
}

func (pr *partReader) Read(b []byte) (int, error) {
	p := pr.p
	if p.gen != p.r.gen {
		return 0, errStale
	}
	if !p.leaf {
		return 0, io.EOF
	}
	return p.r.readRegion(b)
}

// frame is an open multipart.
type frame struct {
	part  *Part
	delim []byte // "--" + boundary
	n     int    // parts seen so far
}

// Reader reads a MIME message one entity at a time, depth first, in one
// pass and without buffering beyond its fixed buffer: a body of any size
// streams through.
type Reader struct {
	// CountLines makes the reader count the lines of each body
	// (Part.Lines), at a small cost.
	CountLines bool

	lim    Limits
	src    countReader
	br     *bufio.Reader
	stack  []frame
	open   []*Part // parts not yet ended, outermost first
	cur    *Part   // the part whose body is being read
	gen    int
	nparts int

	// Region state: the body, preamble or epilogue being read ends at
	// the next delimiter of any open multipart.
	inRegion  bool
	lineStart bool // the region starts at the beginning of a line
	hit       hit
	pending   *Part // next: a header to read for this parent, or nil
	next      nextKind

	nl int64 // line breaks consumed (counted when CountLines)

	// Where the last region ended, for the Size and Lines of the parts
	// that end with it.
	regionEnd   int64
	regionEndNL int64
	err         error
	done        bool

	b64     *Base64Decoder
	qp      *QPDecoder
	copyBuf *[copySize]byte
}

type nextKind uint8

const (
	nextHeader       nextKind = iota // a part header comes next
	nextAfterRegion                  // the current region must end first
	nextEncapsulated                 // the message inside cur comes next
	nextEOF
)

// hit describes how a region ended.
type hit struct {
	eof   bool
	frame int  // index in stack
	close bool // close-delimiter
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// NewReader returns a Reader of the message in r with default Limits.
func NewReader(r io.Reader) *Reader { return NewReaderLimits(r, Limits{}) }

// NewReaderLimits returns a Reader with the given limits.
func NewReaderLimits(r io.Reader, lim Limits) *Reader {
	mr := &Reader{lim: lim.withDefaults()}
	mr.src.r = r
	mr.br = brPool.Get().(*bufio.Reader)
	mr.br.Reset(&mr.src)
	mr.next = nextHeader
	return mr
}

// Buffers are reused across Readers: a Reader gives them back when it has
// read its message to the end (or failed), so walking many small messages
// costs no large allocations.
var (
	brPool   = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	b64Pool  = sync.Pool{New: func() any { return NewBase64Decoder(nil) }}
	qpPool   = sync.Pool{New: func() any { return NewQPDecoder(nil) }}
	copyPool = sync.Pool{New: func() any { return new([copySize]byte) }}
)

// release returns the buffers to their pools. Parts still held see their
// bodies as stale (the generation check) and never touch them.
func (r *Reader) release() {
	if r.br != nil {
		r.br.Reset(nil)
		brPool.Put(r.br)
		r.br = nil
	}
	if r.b64 != nil {
		r.b64.Reset(nil)
		b64Pool.Put(r.b64)
		r.b64 = nil
	}
	if r.qp != nil {
		r.qp.Reset(nil)
		qpPool.Put(r.qp)
		r.qp = nil
	}
	if r.copyBuf != nil {
		copyPool.Put(r.copyBuf)
		r.copyBuf = nil
	}
}

func (r *Reader) offset() int64 { return r.src.n - int64(r.br.Buffered()) }

// NextPart returns the next entity of the message, depth first: the
// message itself first, then (for a multipart) its parts, each followed by
// its own parts, and for a message/rfc822 part the message it holds. The
// body of the previous part is skipped if it was not read. At the end it
// returns io.EOF.
//
// A malformed part, or one whose header exceeds Limits.Header, is returned
// with its Defects; only ErrTooManyParts and errors reading the input stop
// the walk, and the error then sticks.
func (r *Reader) NextPart() (*Part, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.gen++
	for {
		switch r.next {
		case nextAfterRegion:
			if err := r.skipRegion(); err != nil {
				return nil, r.fail(err)
			}
			if err := r.afterHit(); err != nil {
				return nil, r.fail(err)
			}
		case nextEOF:
			r.endParts(-1)
			return nil, r.fail(io.EOF)
		case nextHeader, nextEncapsulated:
			p, err := r.readPart()
			if err != nil {
				return nil, r.fail(err)
			}
			return p, nil
		}
	}
}

func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	r.gen++
	r.release()
	return err
}

// readPart reads a header and sets up what follows it.
func (r *Reader) readPart() (*Part, error) {
	if r.nparts >= r.lim.MaxParts {
		return nil, ErrTooManyParts
	}
	r.nparts++
	p := &Part{r: r, gen: r.gen, frame: len(r.stack) - 1}
	p.Offset = r.offset()
	if r.next == nextEncapsulated {
		parent := r.cur
		p.Parent = parent
		p.Encapsulated = true
		p.Depth = parent.Depth + 1
		p.Path = parent.Path
	} else if len(r.stack) > 0 {
		f := &r.stack[len(r.stack)-1]
		f.n++
		p.Parent = f.part
		p.Index = f.n
		p.Depth = f.part.Depth + 1
		p.Path = append(append(Path(nil), f.part.Path...), f.n)
	}
	h, cut, err := r.readHeader()
	if err != nil {
		return nil, err
	}
	p.Header = h
	p.BodyOffset = r.offset()
	p.nlStart = r.nl
	r.open = append(r.open, p)
	r.cur = p
	p.Defects = appendHeaderDefects(p.Defects, r.headerDefects(h), h.Len(), cut)
	if cut != nil {
		p.headerErr = cut.Err
	}

	ct := h.Get("Content-Type")
	mt, err := ParseMediaType(ct)
	switch {
	case cut != nil && !h.Has("Content-Type"):
		// The header was cut before a Content-Type, if it had one: the
		// type is unknown, and RFC 2049 §2 (7) reads an unknown type
		// as application/octet-stream. The default of RFC 2045 §5.2,
		// text/plain, is for a header known to have no Content-Type.
		mt = MediaType{Type: "application", Subtype: "octet-stream", Params: map[string]string{}}
	case err != nil:
		// RFC 2045 §5.2: default to text/plain; us-ascii. A multipart
		// parent of type digest defaults its parts to message/rfc822
		// (RFC 2046 §5.1.5).
		if ct != "" {
			mt.Defects = append(mt.Defects, Defect{Kind: DefectSyntax, Detail: "Content-Type " + ct})
		}
		mt.Type, mt.Subtype = "text", "plain"
		if ct == "" && p.Parent != nil && !p.Encapsulated && p.Parent.MediaType.Is("multipart/digest") {
			mt.Type, mt.Subtype = "message", "rfc822"
		}
		if mt.Params == nil {
			mt.Params = map[string]string{}
		}
	}
	p.MediaType = mt
	p.Defects = append(p.Defects, mt.Defects...)
	// RFC 2049 §2 (3): a body in an unknown transfer encoding cannot be
	// decoded; Body reads it as it is. Recorded here, so that a walk that
	// reads no body (ReadStructure) sees it too.
	p.cte = p.ContentTransferEncoding()
	if !knownCTE(p.cte) {
		p.Defects = append(p.Defects, Defect{Kind: DefectBadEncoding, Detail: p.cte})
	}

	tooDeep := p.Depth >= r.lim.MaxDepth
	switch {
	case mt.Type == "multipart":
		b := mt.Params["boundary"]
		switch {
		case b == "":
			p.Defects = append(p.Defects, Defect{Kind: DefectMissingBoundary})
		case len(b) > maxBoundary:
			p.Defects = append(p.Defects, Defect{Kind: DefectBadBoundary, Detail: "boundary too long to use"})
		case tooDeep:
			p.Defects = append(p.Defects, Defect{Kind: DefectDepth})
		default:
			if !validBoundary(b) {
				p.Defects = append(p.Defects, Defect{Kind: DefectBadBoundary, Detail: b})
			}
			p.Boundary = b
			r.stack = append(r.stack, frame{part: p, delim: []byte("--" + b)})
			pre, err := r.readKept(&p.Defects)
			if err != nil {
				return nil, err
			}
			p.Preamble = pre
			if err := r.afterHit(); err != nil {
				return nil, err
			}
			return p, nil
		}
	case (mt.Is("message/rfc822") || mt.Is("message/global")) && !isEncodedCTE(p):
		if tooDeep {
			p.Defects = append(p.Defects, Defect{Kind: DefectDepth})
			break
		}
		r.next = nextEncapsulated
		p.numberSingle()
		return p, nil
	}
	p.numberSingle()
	p.leaf = true
	r.beginRegion()
	r.next = nextAfterRegion
	return p, nil
}

// numberSingle gives a part that is not a multipart number 1 at the top
// level and inside a message/rfc822 part (RFC 3501 §6.4.5).
func (p *Part) numberSingle() {
	if p.Parent == nil || p.Encapsulated {
		p.Path = append(append(Path(nil), p.Path...), 1)
	}
}

// isEncodedCTE reports whether a message/rfc822 part was sent base64 or
// quoted-printable (not allowed by RFC 2046 §5.2.1, but seen): it is then
// read as an opaque body.
func isEncodedCTE(p *Part) bool {
	switch p.cte {
	case Base64, QuotedPrintable:
		return true
	}
	return false
}

// validBoundary checks RFC 2046 §5.1.1's bchars and length.
func validBoundary(b string) bool {
	if len(b) > 70 || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("'()+_,-./:=? ", c) >= 0) {
			return false
		}
	}
	return true
}

func (r *Reader) beginRegion() {
	r.inRegion = true
	r.lineStart = true
}

// readKept reads a preamble or epilogue region, keeping up to MaxPreamble
// bytes.
func (r *Reader) readKept(defects *[]Defect) ([]byte, error) {
	r.beginRegion()
	var kept []byte
	var tmp [4096]byte
	truncated := false
	limit := r.lim.MaxPreamble
	for {
		n, err := r.readRegion(tmp[:])
		if n > 0 {
			room := limit - len(kept)
			if n > room {
				n = room
				truncated = true
			}
			kept = append(kept, tmp[:n]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if truncated {
		*defects = append(*defects, Defect{Kind: DefectTruncated, Detail: "preamble or epilogue"})
	}
	return kept, nil
}

// skipRegion reads the current region to its end.
func (r *Reader) skipRegion() error {
	for r.inRegion {
		buf, err := r.peekRegion()
		if err != nil && err != io.EOF {
			return err
		}
		r.consume(buf)
	}
	return nil
}

// readRegion reads from the current region into b.
func (r *Reader) readRegion(b []byte) (int, error) {
	if !r.inRegion {
		return 0, io.EOF
	}
	for {
		buf, err := r.peekRegion()
		if len(buf) > 0 {
			n := copy(b, buf)
			r.consume(buf[:n])
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if !r.inRegion {
			return 0, io.EOF
		}
	}
}

func (r *Reader) consume(b []byte) {
	if len(b) == 0 {
		return
	}
	if r.CountLines {
		r.nl += int64(bytes.Count(b, []byte{'\n'}))
	}
	r.lineStart = false
	r.br.Discard(len(b))
}

// peekRegion returns the bytes of the current region that are buffered and
// certainly not part of a delimiter, without consuming them. When the
// region ends there (a delimiter or EOF is at the head of the buffer) it
// consumes the delimiter line, records the hit and returns nil.
func (r *Reader) peekRegion() ([]byte, error) {
	for {
		n := r.br.Buffered()
		buf, _ := r.br.Peek(n)
		atEOF := false
		if n == 0 {
			var err error
			buf, err = r.br.Peek(1)
			if len(buf) == 0 {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					r.endRegion(hit{eof: true})
					return nil, io.EOF
				}
				return nil, err
			}
			buf, _ = r.br.Peek(r.br.Buffered())
		}
		safe, found, h, dl := r.scan(buf, atEOF)
		if found && safe == 0 {
			r.endRegion(h)
			if err := r.takeDelimiter(dl); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		if safe > 0 {
			return buf[:safe], nil
		}
		// Not enough to decide: read more.
		if len(buf) == bufSize {
			// Cannot happen: a delimiter candidate is far shorter
			// than the buffer. Give up on it as data.
			return buf[:1], nil
		}
		more, err := r.br.Peek(len(buf) + 1)
		if len(more) <= len(buf) {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				// Decide with what there is.
				safe, found, h, dl := r.scan(buf, true)
				if found && safe == 0 {
					r.endRegion(h)
					if err := r.takeDelimiter(dl); err != nil {
						return nil, err
					}
					return nil, io.EOF
				}
				if safe > 0 {
					return buf[:safe], nil
				}
				r.endRegion(hit{eof: true})
				return nil, io.EOF
			}
			if err != nil {
				return nil, err
			}
		}
	}
}

// scan looks for the first delimiter line of any open multipart in buf.
// It returns the number of bytes before it that belong to the region
// (safe), or before the first place that might start one when more input
// is needed; found with the hit and the delimiter's length through its
// boundary (line break before it included) when one starts at safe.
func (r *Reader) scan(buf []byte, atEOF bool) (safe int, found bool, h hit, dl int) {
	if len(r.stack) == 0 {
		return len(buf), false, hit{}, 0
	}
	i := 0
	if r.lineStart {
		switch st, h, dl := r.matchAt(buf, 0, atEOF); st {
		case matchYes:
			return 0, true, h, dl
		case matchMore:
			return 0, false, hit{}, 0
		}
	}
	for {
		// Only a line starting with "--" can be a delimiter. Search for
		// '-', which base64 never holds and text seldom does, with the
		// vectorised IndexByte.
		j := bytes.IndexByte(buf[i:], '-')
		if j < 0 {
			return tailSafe(buf, atEOF), false, hit{}, 0
		}
		d := i + j
		if d == 0 || buf[d-1] != '\n' {
			i = d + 1
			continue
		}
		if d+1 >= len(buf) {
			return tailSafe(buf, atEOF), false, hit{}, 0
		}
		if buf[d+1] != '-' {
			i = d + 2
			continue
		}
		nl := d - 1
		start := nl
		if nl > 0 && buf[nl-1] == '\r' {
			start = nl - 1
		}
		st, h, dl := r.matchAt(buf, d, atEOF)
		switch st {
		case matchYes:
			return start, true, h, dl + (d - start)
		case matchMore:
			return start, false, hit{}, 0
		}
		i = d + 2
	}
}

// tailSafe returns how much of buf, which holds no complete "\n--", is
// certainly not the start of a delimiter: all of it but a trailing "\r",
// "\n", "\r\n", "\n-" or "\r\n-", which more input could complete.
func tailSafe(buf []byte, atEOF bool) int {
	n := len(buf)
	if atEOF || n == 0 {
		return n
	}
	k := n
	if buf[k-1] == '-' && k >= 2 && buf[k-2] == '\n' {
		k--
	}
	if buf[k-1] == '\n' {
		k--
		if k > 0 && buf[k-1] == '\r' {
			k--
		}
		return k
	}
	if k == n && buf[n-1] == '\r' {
		return n - 1
	}
	return n
}

type matchState uint8

const (
	matchNo matchState = iota
	matchYes
	matchMore
)

// matchAt reports whether a delimiter of an open multipart starts at
// buf[i], innermost first. dl is its length up to the end of the boundary
// (the close "--" and padding are left for takeDelimiter).
func (r *Reader) matchAt(buf []byte, i int, atEOF bool) (matchState, hit, int) {
	rest := buf[i:]
	if len(rest) < 2 {
		if atEOF || len(rest) == 1 && rest[0] != '-' {
			return matchNo, hit{}, 0
		}
		return matchMore, hit{}, 0
	}
	if rest[0] != '-' || rest[1] != '-' {
		return matchNo, hit{}, 0
	}
	more := false
	for k := len(r.stack) - 1; k >= 0; k-- {
		d := r.stack[k].delim
		if len(rest) < len(d)+3 && !atEOF {
			if bytes.HasPrefix(d, rest[:min(len(rest), len(d))]) {
				more = true
			}
			continue
		}
		if !bytes.HasPrefix(rest, d) {
			continue
		}
		t := rest[len(d):]
		close := false
		if len(t) >= 2 && t[0] == '-' && t[1] == '-' {
			close = true
			t = t[2:]
		}
		// RFC 2046 §5.1.1: only transport padding may follow.
		j := 0
		for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
			j++
		}
		switch {
		case j == len(t) && !atEOF:
			more = true
		case j == len(t) || t[j] == '\r' || t[j] == '\n':
			return matchYes, hit{frame: k, close: close}, len(d)
		}
	}
	if more {
		return matchMore, hit{}, 0
	}
	return matchNo, hit{}, 0
}

// takeDelimiter consumes a delimiter line: the line break before it, the
// boundary, "--" for a close-delimiter, transport padding and the line
// break after it (RFC 2046 §5.1.1).
func (r *Reader) takeDelimiter(dl int) error {
	b, _ := r.br.Peek(dl)
	if r.CountLines {
		r.nl += int64(bytes.Count(b, []byte{'\n'}))
	}
	r.br.Discard(dl)
	// The rest of the line: "--" of a close-delimiter, transport padding
	// and the line break. After a close-delimiter the line break could
	// as well start the epilogue (RFC 2046 §5.1.1); taking it with the
	// delimiter line, as Dovecot does, makes "--inner--CRLF--outer"
	// end the inner multipart after its CRLF.
	for {
		line, err := r.br.ReadSlice('\n')
		if err == nil {
			if r.CountLines {
				r.nl++
			}
			return nil
		}
		if err == bufio.ErrBufferFull {
			_ = line
			continue
		}
		if err == io.EOF {
			return nil
		}
		return err
	}
}

// endRegion records how the current region ended and ends the parts it
// closes.
func (r *Reader) endRegion(h hit) {
	if !r.inRegion {
		return
	}
	r.inRegion = false
	r.hit = h
	r.regionEnd = r.offset()
	r.regionEndNL = r.nl
}

// afterHit acts on the delimiter (or EOF) that ended the last region:
// it ends the parts it closes, pops finished multiparts and reads their
// epilogues, and sets what comes next.
func (r *Reader) afterHit() error {
	for {
		h := r.hit
		if h.eof {
			for k := len(r.stack) - 1; k >= 0; k-- {
				f := r.stack[k]
				f.part.Defects = append(f.part.Defects, Defect{Kind: DefectMissingEndBoundary, Detail: f.part.Boundary})
				if f.n == 0 {
					f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
				}
			}
			r.stack = r.stack[:0]
			r.next = nextEOF
			return nil
		}
		// Multiparts inside the one whose delimiter was found lack their
		// close-delimiter.
		for k := len(r.stack) - 1; k > h.frame; k-- {
			f := r.stack[k]
			f.part.Defects = append(f.part.Defects, Defect{Kind: DefectMissingEndBoundary, Detail: f.part.Boundary})
			if f.n == 0 {
				f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
			}
		}
		r.stack = r.stack[:h.frame+1]
		r.endParts(h.frame)
		if !h.close {
			r.next = nextHeader
			return nil
		}
		f := r.stack[h.frame]
		if f.n == 0 {
			f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
		}
		r.stack = r.stack[:h.frame]
		epi, err := r.readKept(&f.part.Defects)
		if err != nil {
			return err
		}
		f.part.Epilogue = epi
	}
}

// endParts ends the open parts inside frame k (all of them for k < 0),
// setting their Size and Lines.
func (r *Reader) endParts(k int) {
	// The delimiter just taken is not part of the body: use the position
	// where the region ended, before it.
	pos := r.regionEnd
	var nl int64
	if r.CountLines {
		nl = r.regionEndNL
	}
	for len(r.open) > 0 {
		p := r.open[len(r.open)-1]
		if k >= 0 && p.frame < k {
			break
		}
		r.open = r.open[:len(r.open)-1]
		p.ended = true
		p.Size = pos - p.BodyOffset
		if r.CountLines {
			// Line breaks, as Dovecot counts the lines of a body.
			p.Lines = nl - p.nlStart
		}
	}
}

// Walk reads the message in r and calls fn for each part, depth first, as
// NextPart returns them. fn may read the part's body; what it leaves is
// skipped. An error from fn stops the walk and is returned, as is an error
// of NextPart (ErrTooManyParts or an error reading r); a malformed part is
// passed to fn with its Defects.
func Walk(r io.Reader, fn func(p *Part) error) error {
	mr := NewReader(r)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
}
