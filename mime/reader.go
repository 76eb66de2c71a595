package mime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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
	// bareLF counts the line feeds consumed that no CR came before
	// (when CountLines), so that sizes can be given as with CRLF line
	// ends; prevCR is whether the last byte consumed was a CR.
	bareLF int64
	prevCR bool

	// Where the last region ended, for the Size and Lines of the parts
	// that end with it.
	regionEnd     int64
	regionEndNL   int64
	regionEndBare int64
	err           error
	done          bool

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
	p.bareStart = r.bareLF
	r.open = append(r.open, p)
	r.cur = p
	p.Defects = appendHeaderDefects(p.Defects, r.headerDefects(h), h.Len(), cut)
	if cut != nil {
		p.headerErr = cut.Err
	}

	// A field given twice: the first is used, by Get, wherever the
	// header is read.
	for _, name := range [...]string{"Content-Type", "Content-Disposition", "Content-Transfer-Encoding"} {
		if n := h.Count(name); n > 1 {
			p.Defects = append(p.Defects, Defect{Kind: DefectDuplicateField, Detail: fmt.Sprintf("%s given %d times; the first is used", name, n)})
		}
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
