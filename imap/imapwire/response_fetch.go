package imapwire

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

// FetchData is a FETCH response (RFC 3501 §7.4.2). Items lists the data
// items in the order received; the fields hold their values.
type FetchData struct {
	Seq   uint32
	Items []imap.FetchItem

	UID          uint32
	Flags        []imap.Flag
	InternalDate time.Time
	RFC822Size   int64
	Envelope     *mime.Envelope
	// BodyStructure is BODYSTRUCTURE's, or BODY's (without extension
	// data) when that was fetched.
	BodyStructure *mime.Structure
	ModSeq        uint64
	// BinarySize holds BINARY.SIZE values by part path ("1.2"; "" for
	// the whole message).
	BinarySize map[string]uint64
	// Sections holds body sections read into memory, when
	// ResponseOptions.Section is nil.
	Sections []SectionData
}

// SectionData is the content of one body section: BODY[...], BINARY[...]
// or RFC822, RFC822.HEADER, RFC822.TEXT.
type SectionData struct {
	Item imap.FetchItem // as named in the response (no PEEK, origin only)
	Data []byte
	Nil  bool // the server sent NIL
}

// Section returns the data of the section named like the response names
// it (e.g. "BODY[HEADER]"), and false when not present.
func (f *FetchData) Section(name string) ([]byte, bool) {
	for _, s := range f.Sections {
		if strings.EqualFold(s.Item.ResponseName(), name) {
			return s.Data, true
		}
	}
	return nil, false
}

func readNumResponse(d *Decoder, opts *ResponseOptions) any {
	var n uint32
	var name string
	if !d.Number(&n) || !d.SP() || !d.Atom(&name) {
		return nil
	}
	var resp any
	switch k := NumKind(strings.ToUpper(name)); k {
	case NumExists, NumRecent, NumExpunge:
		resp = &NumData{Kind: k, Num: n}
	case "FETCH":
		f := &FetchData{Seq: n}
		if !d.SP() || !readFetch(d, f, opts) {
			return nil
		}
		resp = f
	default:
		u := &UnknownData{Name: name}
		if d.Maybe(' ') && !readRestSkippingLiterals(d, &u.Text) {
			return nil
		}
		resp = u
	}
	if !d.CRLF() {
		return nil
	}
	return resp
}

// fetchItemName reads the name of a fetch item as it appears on the wire,
// section and partial included, turning a literal header field name into
// a quoted string so that imap.ParseFetchItem can read it.
func (d *Decoder) fetchItemName(p *string) bool {
	var b strings.Builder
	var s string
	if !d.AtomSpecial(&s, "[]<>.") {
		return false
	}
	b.WriteString(s)
	if strings.Count(s, "[") > strings.Count(s, "]") {
		// A header list follows: read to the "]".
		for {
			c, ok := d.Peek()
			if !ok {
				return false
			}
			switch {
			case c == ']':
				d.readByte()
				b.WriteByte(']')
				if d.PeekIs('<') {
					if !d.AtomSpecial(&s, "<>.") {
						return false
					}
					b.WriteString(s)
				}
				*p = b.String()
				return true
			case c == '"' || d.atLiteral():
				var v string
				if !d.String(&v) {
					return false
				}
				if !imap.Quotable(v, true) {
					return d.Errorf("header field name with CR or LF")
				}
				b.Write(imap.AppendQuoted(nil, v))
			case c == ' ' || c == '(' || c == ')' || imap.IsAtomChar(c):
				d.readByte()
				b.WriteByte(c)
			default:
				return d.Errorf("unexpected %q in section", c)
			}
			if int64(b.Len()) > d.lim.MaxLine {
				return d.fail(&LimitError{Limit: "MaxLine", Max: d.lim.MaxLine})
			}
		}
	}
	*p = b.String()
	return true
}

func readFetch(d *Decoder, f *FetchData, opts *ResponseOptions) bool {
	return d.List(func() bool {
		var name string
		if !d.fetchItemName(&name) {
			return false
		}
		it, err := imap.ParseFetchItem(name, true)
		if err != nil {
			// An item this package does not know: skip its value.
			return d.SP() && d.SkipValue()
		}
		f.Items = append(f.Items, it)
		if !d.SP() {
			return false
		}
		switch it.Attr {
		case imap.FetchUID:
			return d.NZNumber(&f.UID)
		case imap.FetchFlags:
			return d.FlagList(&f.Flags)
		case imap.FetchInternalDate:
			var s string
			if !d.Quoted(&s) {
				return false
			}
			t, err := imap.ParseDateTime(s)
			if err != nil {
				return d.fail(err)
			}
			f.InternalDate = t
			return true
		case imap.FetchRFC822Size:
			var n uint64
			if !d.Number64(&n) {
				return false
			}
			f.RFC822Size = int64(n)
			return true
		case imap.FetchModSeq:
			return d.Open() && d.Number64(&f.ModSeq) && d.Close()
		case imap.FetchEnvelope:
			f.Envelope = &mime.Envelope{}
			return d.Envelope(f.Envelope)
		case imap.FetchBody, imap.FetchBodyStructure:
			s, ok := d.BodyStructure()
			f.BodyStructure = s
			return ok
		case imap.FetchBinarySize:
			var n uint64
			if !d.Number64(&n) {
				return false
			}
			if f.BinarySize == nil {
				f.BinarySize = map[string]uint64{}
			}
			f.BinarySize[mime.Path(partInts(it.Section.Part)).String()] = n
			return true
		}
		// Body sections: BODY[...], BINARY[...], RFC822, RFC822.HEADER,
		// RFC822.TEXT.
		r, size, isNil, ok := d.NStringReader()
		if !ok {
			return false
		}
		if opts.Section != nil || opts.FetchSection != nil {
			if isNil {
				r = bytes.NewReader(nil)
			}
			var err error
			if opts.FetchSection != nil {
				err = opts.FetchSection(f, it, r, size)
			} else {
				err = opts.Section(f.Seq, it, r, size)
			}
			if err != nil {
				return d.fail(err)
			}
			return true
		}
		sd := SectionData{Item: it, Nil: isNil}
		if !isNil {
			sd.Data = make([]byte, 0, size)
			b := bytes.NewBuffer(sd.Data)
			if _, err := io.Copy(b, r); err != nil {
				return d.ioErr(err)
			}
			sd.Data = b.Bytes()
		}
		f.Sections = append(f.Sections, sd)
		return true
	})
}

func partInts(p []uint32) []int {
	out := make([]int, len(p))
	for i, n := range p {
		out[i] = int(n)
	}
	return out
}
