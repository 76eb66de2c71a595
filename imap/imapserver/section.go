package imapserver

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

// errNoSection is a body section the message does not have; FETCH sends
// it empty, as RFC 3501 §6.4.5 leaves it to the server.
var errNoSection = errors.New("no such body section")

// sectionRange is where a body section lies in the message: [Start,
// Start+Len), and for HEADER.FIELDS (NOT) the header to filter.
type sectionRange struct {
	Start, Len int64
}

// locateSection finds sec in the message read from r (of size octets) in
// one streaming pass of the mime package's Reader, which records the
// offsets of every part (RFC 3501 §6.4.5 part numbers).
func locateSection(r io.Reader, size int64, sec imap.Section) (sectionRange, error) {
	mr := mime.NewReader(r)
	var parts []*mime.Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sectionRange{}, err
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return sectionRange{}, errNoSection
	}
	top := parts[0]
	path := make(mime.Path, len(sec.Part))
	for i, n := range sec.Part {
		path[i] = int(n)
	}
	// msg is the message whose HEADER or TEXT is meant; part the entity
	// whose body or MIME header is.
	var msg, part *mime.Part
	if len(path) == 0 {
		msg = top
	} else {
		for _, p := range parts {
			if slices.Equal(p.Path, path) && !p.Encapsulated && (p.Index > 0 || p == top) {
				part = p
				break
			}
		}
		if part == nil && len(path) == 1 && path[0] == 1 && !isMultipart(top) {
			// RFC 3501 §6.4.5: a message that is not multipart has
			// one part, 1, its body.
			part = top
		}
		if part == nil {
			return sectionRange{}, errNoSection
		}
		for _, p := range parts {
			if p.Encapsulated && p.Parent == part {
				msg = p
				break
			}
		}
	}
	switch sec.Specifier {
	case imap.SpecNone:
		if part == nil {
			return sectionRange{0, size}, nil
		}
		return bodyRange(part, size), nil
	case imap.SpecMIME:
		if part == nil || part == top {
			return sectionRange{}, errNoSection
		}
		return sectionRange{part.Offset, part.BodyOffset - part.Offset}, nil
	}
	if msg == nil {
		return sectionRange{}, errNoSection
	}
	switch sec.Specifier {
	case imap.SpecText:
		return bodyRange(msg, size), nil
	default: // HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT
		return sectionRange{msg.Offset, msg.BodyOffset - msg.Offset}, nil
	}
}

func isMultipart(p *mime.Part) bool { return p.Boundary != "" }

// bodyRange is the body of p; the top entity's runs to the end.
func bodyRange(p *mime.Part, size int64) sectionRange {
	if p.Depth == 0 {
		return sectionRange{p.BodyOffset, size - p.BodyOffset}
	}
	return sectionRange{p.BodyOffset, p.Size}
}

// filterHeader keeps the fields of a header named in names (or, with not,
// those not named), followed by the blank line (RFC 3501 §6.4.5
// HEADER.FIELDS).
func filterHeader(h []byte, names []string, not bool) []byte {
	var out []byte
	keep := false
	for len(h) > 0 {
		i := bytes.IndexByte(h, '\n')
		line := h
		if i >= 0 {
			line = h[:i+1]
		}
		h = h[len(line):]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name := line
			if j := bytes.IndexByte(line, ':'); j >= 0 {
				name = line[:j]
			}
			n := strings.TrimSpace(string(name))
			keep = slices.ContainsFunc(names, func(s string) bool { return strings.EqualFold(s, n) }) != not
		}
		if keep {
			out = append(out, line...)
		}
	}
	return append(out, "\r\n"...)
}
