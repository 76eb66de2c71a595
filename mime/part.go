package mime

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/message"
)

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
	// bareStart is the Reader's bareLF where the body starts; bareLF
	// the body's line feeds without a CR before them, set with Lines.
	bareStart, bareLF int64
	body              io.Reader
	dec               io.Reader
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
