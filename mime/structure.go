package mime

import (
	"fmt"
	"io"
	"strings"

	"github.com/mailwire/mailwire/message"
)

// Structure is what IMAP's BODY and BODYSTRUCTURE report about an entity
// (RFC 3501 §7.4.2), computed by ReadStructure in one streaming pass. Sizes
// and line counts are those of the message with CRLF line ends, however it
// is stored (a bare LF counts two octets), and agree with Dovecot's (tested
// against it). A line feed in a header cut at Limits.Header counts as CRLF.
// A multipart without parts gets one text/plain part holding its body
// (RFC 3501 §9 needs at least one).
type Structure struct {
	Path    Path   // the part number (see Path)
	Type    string // lower case
	Subtype string // lower case
	Params  map[string]string

	ID          string // Content-ID, as written
	Description string // Content-Description, as written
	Encoding    string // Content-Transfer-Encoding, lower case ("7bit" by default)
	Size        int64  // octets of the body as sent
	Lines       int64  // line breaks in the body, for text/* and message/rfc822

	MD5               string            // Content-MD5
	Disposition       string            // lower case; "" when absent
	DispositionParams map[string]string // parameters of the disposition
	Language          []string          // Content-Language tags
	Location          string            // Content-Location

	// Envelope and Children[0] describe the message inside a
	// message/rfc822 part; for a multipart, Children are its parts.
	Envelope *Envelope
	Children []*Structure

	Defects []Defect
}

// Envelope holds the header fields IMAP's ENVELOPE reports (RFC 3501
// §7.4.2): each as written (unfolded, RFC 2047 words not decoded), and the
// address fields parsed too. As RFC 3501 asks, Sender and ReplyTo default to
// From when absent (the raw strings stay empty). The address lists are
// read leniently (message.ParseAddressListLenient): one bad entry costs
// only itself, a mailbox without a domain is kept with an empty Domain, and
// each entry left out or repaired is a DefectAddress in Defects. A parsed
// list is nil when the field is absent or has no address that can be read.
type Envelope struct {
	Date, Subject, InReplyTo, MessageID string
	From, Sender, ReplyTo, To, Cc, Bcc  string

	FromAddrs, SenderAddrs, ReplyToAddrs []*message.Address
	ToAddrs, CcAddrs, BccAddrs           []*message.Address

	Defects []Defect
}

// EnvelopeOf builds the Envelope of a message header.
func EnvelopeOf(h *message.Header) *Envelope {
	e := &Envelope{
		Date:      h.Get("Date"),
		Subject:   h.Get("Subject"),
		InReplyTo: h.Get("In-Reply-To"),
		MessageID: h.Get("Message-ID"),
		From:      h.Get("From"),
		Sender:    h.Get("Sender"),
		ReplyTo:   h.Get("Reply-To"),
		To:        h.Get("To"),
		Cc:        h.Get("Cc"),
		Bcc:       h.Get("Bcc"),
	}
	parse := func(name, s string) []*message.Address {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		l, ds := message.ParseAddressListLenient(s)
		for _, d := range ds {
			e.Defects = append(e.Defects, Defect{Kind: DefectAddress, Detail: fmt.Sprintf("%s: offset %d: %s", name, d.Offset, d.Msg)})
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	e.FromAddrs = parse("From", e.From)
	e.SenderAddrs = parse("Sender", e.Sender)
	e.ReplyToAddrs = parse("Reply-To", e.ReplyTo)
	e.ToAddrs = parse("To", e.To)
	e.CcAddrs = parse("Cc", e.Cc)
	e.BccAddrs = parse("Bcc", e.Bcc)
	if e.SenderAddrs == nil {
		e.SenderAddrs = e.FromAddrs
	}
	if e.ReplyToAddrs == nil {
		e.ReplyToAddrs = e.FromAddrs
	}
	return e
}

// ReadStructure reads a whole message from r and returns the structure of
// its body, without keeping any body in memory. As with Walk, a malformed
// part (a header over the limits included) is described with its Defects
// and does not stop the reading; only ErrTooManyParts and errors reading r
// are returned.
func ReadStructure(r io.Reader) (*Structure, error) {
	return ReadStructureLimits(r, Limits{})
}

// ReadStructureLimits is ReadStructure with explicit limits.
func ReadStructureLimits(r io.Reader, lim Limits) (*Structure, error) {
	mr := NewReaderLimits(r, lim)
	mr.CountLines = true
	type pair struct {
		p *Part
		s *Structure
	}
	var all []pair
	byPart := map[*Part]*Structure{}
	var root *Structure
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s := structureOf(p)
		all = append(all, pair{p, s})
		byPart[p] = s
		if p.IsMessage() {
			s.Envelope = nil // set from the encapsulated header below
		}
		switch {
		case p.Parent == nil:
			root = s
		case p.Encapsulated:
			ps := byPart[p.Parent]
			ps.Envelope = EnvelopeOf(p.Header)
			ps.Children = []*Structure{s}
		default:
			ps := byPart[p.Parent]
			ps.Children = append(ps.Children, s)
		}
	}
	for _, x := range all {
		// RFC 3501 counts octets of the message as sent, with CRLF
		// line ends, whatever the storage uses.
		x.s.Size = x.p.Size + x.p.bareLF
		if x.s.Type == "text" || x.s.Type == "message" && (x.s.Subtype == "rfc822" || x.s.Subtype == "global") {
			x.s.Lines = x.p.Lines
		}
		x.s.Defects = x.p.Defects
		if x.s.Type == "multipart" && len(x.s.Children) == 0 {
			x.s.Children = []*Structure{textChild(x.s, x.p)}
		}
	}
	return root, nil
}

// textChild is the one part given to a multipart that has none (its
// boundary never appears, or it has no boundary parameter): RFC 3501 §9
// body-type-mpart needs at least one. It holds the multipart's body as
// text/plain, as RFC 2046 §5.1.3 reads an unrecognised multipart's content,
// with a DefectNoParts.
func textChild(s *Structure, p *Part) *Structure {
	return &Structure{
		Path:     append(append(Path(nil), s.Path...), 1),
		Type:     "text",
		Subtype:  "plain",
		Params:   map[string]string{"charset": "us-ascii"},
		Encoding: SevenBit,
		Size:     s.Size,
		Lines:    p.Lines,
		Defects:  []Defect{{Kind: DefectNoParts, Detail: "the multipart's body, read as text"}},
	}
}

func structureOf(p *Part) *Structure {
	h := p.Header
	s := &Structure{
		Path:        p.Path,
		Type:        p.MediaType.Type,
		Subtype:     p.MediaType.Subtype,
		Params:      p.MediaType.Params,
		ID:          h.Get("Content-ID"),
		Description: h.Get("Content-Description"),
		Encoding:    p.ContentTransferEncoding(),
		MD5:         h.Get("Content-MD5"),
		Location:    h.Get("Content-Location"),
	}
	if v := h.Get("Content-Disposition"); v != "" {
		d := ParseDisposition(v)
		s.Disposition = d.Type
		s.DispositionParams = d.Params
	}
	if v := h.Get("Content-Language"); v != "" {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				s.Language = append(s.Language, t)
			}
		}
	}
	return s
}
