package imap

import (
	"strconv"
	"strings"
)

// FetchAttr is the name of a FETCH data item (RFC 3501 §6.4.5, RFC 3516
// §4.2, RFC 7162 §3.1.4).
type FetchAttr string

// FETCH data item names. FetchBody without a section is the non-extensible
// BODYSTRUCTURE; FetchBodySection is BODY[section]<partial> (and BODY.PEEK,
// with Peek set).
const (
	FetchEnvelope      FetchAttr = "ENVELOPE"
	FetchFlags         FetchAttr = "FLAGS"
	FetchInternalDate  FetchAttr = "INTERNALDATE"
	FetchRFC822        FetchAttr = "RFC822"
	FetchRFC822Header  FetchAttr = "RFC822.HEADER"
	FetchRFC822Text    FetchAttr = "RFC822.TEXT"
	FetchRFC822Size    FetchAttr = "RFC822.SIZE"
	FetchUID           FetchAttr = "UID"
	FetchBody          FetchAttr = "BODY"
	FetchBodyStructure FetchAttr = "BODYSTRUCTURE"
	FetchBodySection   FetchAttr = "BODY[]"
	FetchBinary        FetchAttr = "BINARY"      // RFC 3516
	FetchBinarySize    FetchAttr = "BINARY.SIZE" // RFC 3516
	FetchModSeq        FetchAttr = "MODSEQ"      // RFC 7162
)

// SectionSpec is the text part of a section specification (RFC 3501 §6.4.5).
type SectionSpec string

// Section text specifiers; SpecNone with no Part is the whole message.
const (
	SpecNone            SectionSpec = ""
	SpecHeader          SectionSpec = "HEADER"
	SpecHeaderFields    SectionSpec = "HEADER.FIELDS"
	SpecHeaderFieldsNot SectionSpec = "HEADER.FIELDS.NOT"
	SpecText            SectionSpec = "TEXT"
	SpecMIME            SectionSpec = "MIME"
)

// Section is the bracketed part of BODY[...] and BINARY[...]: a part
// number ("1.2") and a text specifier. BINARY takes a part number only.
type Section struct {
	Part      []uint32
	Specifier SectionSpec
	Fields    []string // header field names of HEADER.FIELDS (NOT)
}

// Partial is the "<origin.octets>" suffix of a body section. In a FETCH
// response only the origin is sent ("BODY[]<0>"); Count is then 0.
type Partial struct {
	Offset uint64
	Count  uint64
}

// FetchItem is one FETCH data item.
type FetchItem struct {
	Attr    FetchAttr
	Section Section  // for FetchBodySection, FetchBinary, FetchBinarySize
	Peek    bool     // BODY.PEEK / BINARY.PEEK: do not set \Seen
	Partial *Partial // nil when absent
}

// The FETCH macros (RFC 3501 §6.4.5).
var (
	FetchMacroAll  = []FetchItem{{Attr: FetchFlags}, {Attr: FetchInternalDate}, {Attr: FetchRFC822Size}, {Attr: FetchEnvelope}}
	FetchMacroFast = []FetchItem{{Attr: FetchFlags}, {Attr: FetchInternalDate}, {Attr: FetchRFC822Size}}
	FetchMacroFull = []FetchItem{{Attr: FetchFlags}, {Attr: FetchInternalDate}, {Attr: FetchRFC822Size}, {Attr: FetchEnvelope}, {Attr: FetchBody}}
)

// SetsSeen reports whether fetching the item sets \Seen (RFC 3501 §6.4.5:
// BODY[...], BINARY[...], RFC822 and RFC822.TEXT do).
func (it FetchItem) SetsSeen() bool {
	switch it.Attr {
	case FetchBodySection, FetchBinary:
		return !it.Peek
	case FetchRFC822, FetchRFC822Text:
		return true
	}
	return false
}

// String returns the item as a client sends it in FETCH.
func (it FetchItem) String() string { return formatString(it.Format) }

// Format writes the item as a client sends it in FETCH.
func (it FetchItem) Format(f Formatter) { it.format(f, false) }

// FormatResponse writes the item's name as a server sends it in a FETCH
// response: without PEEK, and with only the origin of a partial
// ("BODY[]<0>", RFC 3501 §7.4.2).
func (it FetchItem) FormatResponse(f Formatter) { it.format(f, true) }

// ResponseName is FormatResponse as a string.
func (it FetchItem) ResponseName() string { return formatString(it.FormatResponse) }

func (it FetchItem) format(f Formatter, response bool) {
	switch it.Attr {
	case FetchBodySection, FetchBinary, FetchBinarySize:
	default:
		f.Atom(string(it.Attr))
		return
	}
	var b strings.Builder
	switch it.Attr {
	case FetchBodySection:
		b.WriteString("BODY")
	case FetchBinary:
		b.WriteString("BINARY")
	case FetchBinarySize:
		b.WriteString("BINARY.SIZE")
	}
	if it.Peek && !response && it.Attr != FetchBinarySize {
		b.WriteString(".PEEK")
	}
	b.WriteByte('[')
	s := it.Section
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(p), 10))
	}
	if s.Specifier != SpecNone {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(s.Specifier))
	}
	if s.Specifier == SpecHeaderFields || s.Specifier == SpecHeaderFieldsNot {
		b.WriteString(" ")
		f.Atom(b.String())
		b.Reset()
		f.BeginList()
		for i, name := range s.Fields {
			if i > 0 {
				f.SP()
			}
			f.AString(name)
		}
		f.EndList()
	}
	b.WriteByte(']')
	if p := it.Partial; p != nil {
		b.WriteByte('<')
		b.WriteString(strconv.FormatUint(p.Offset, 10))
		if !response {
			b.WriteByte('.')
			b.WriteString(strconv.FormatUint(p.Count, 10))
		}
		b.WriteByte('>')
	}
	f.Atom(b.String())
}

// FormatFetchItems writes the argument of FETCH: one item bare, several
// as a parenthesised list.
func FormatFetchItems(f Formatter, items []FetchItem) {
	if len(items) == 1 {
		items[0].Format(f)
		return
	}
	f.BeginList()
	for i, it := range items {
		if i > 0 {
			f.SP()
		}
		it.Format(f)
	}
	f.EndList()
}

// ParseFetchItems parses the argument of a FETCH command: a macro (ALL,
// FAST, FULL), one item, or a parenthesised list of items (RFC 3501 §6.4.5,
// §9 fetch). Header field names may be atoms or quoted strings; literals
// are the codec's business (package imapwire turns them into quoted
// strings before calling this).
func ParseFetchItems(s string) ([]FetchItem, error) {
	switch strings.ToUpper(s) {
	case "ALL":
		return append([]FetchItem(nil), FetchMacroAll...), nil
	case "FAST":
		return append([]FetchItem(nil), FetchMacroFast...), nil
	case "FULL":
		return append([]FetchItem(nil), FetchMacroFull...), nil
	}
	p := &fetchParser{s: s}
	var items []FetchItem
	if strings.HasPrefix(s, "(") {
		p.i++
		for {
			it, err := p.item(false)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
			if p.eat(')') {
				break
			}
			if !p.eat(' ') {
				return nil, p.err("expected SP or \")\"")
			}
		}
	} else {
		it, err := p.item(false)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if p.i != len(s) {
		return nil, p.err("unexpected text after fetch items")
	}
	return items, nil
}

// ParseFetchItem parses one fetch item name. With response set it parses
// the form a server sends (a partial with an origin only, RFC 3501 §9
// msg-att-static "BODY" section ["<" number ">"]).
func ParseFetchItem(s string, response bool) (FetchItem, error) {
	p := &fetchParser{s: s}
	it, err := p.item(response)
	if err == nil && p.i != len(s) {
		err = p.err("unexpected text after fetch item")
	}
	return it, err
}

type fetchParser struct {
	s string
	i int
}

func (p *fetchParser) err(msg string) error {
	return &SyntaxError{What: "fetch item", Input: p.s, Msg: msg + " at offset " + strconv.Itoa(p.i)}
}

func (p *fetchParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word reads letters, digits and dots.
func (p *fetchParser) word() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '.' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '-' || c == '_' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *fetchParser) item(response bool) (FetchItem, error) {
	name := strings.ToUpper(p.word())
	var it FetchItem
	switch name {
	case "ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822", "RFC822.HEADER", "RFC822.TEXT",
		"RFC822.SIZE", "UID", "BODYSTRUCTURE", "MODSEQ":
		return FetchItem{Attr: FetchAttr(name)}, nil
	case "BODY":
		if p.i >= len(p.s) || p.s[p.i] != '[' {
			return FetchItem{Attr: FetchBody}, nil
		}
		it.Attr = FetchBodySection
	case "BODY.PEEK":
		it.Attr, it.Peek = FetchBodySection, true
	case "BINARY":
		it.Attr = FetchBinary
	case "BINARY.PEEK":
		it.Attr, it.Peek = FetchBinary, true
	case "BINARY.SIZE":
		it.Attr = FetchBinarySize
	case "":
		return it, p.err("expected a fetch item")
	default:
		return it, p.err("unknown fetch item " + strconv.Quote(name))
	}
	if !p.eat('[') {
		return it, p.err("expected \"[\"")
	}
	if err := p.section(&it.Section, it.Attr != FetchBodySection); err != nil {
		return it, err
	}
	if !p.eat(']') {
		return it, p.err("expected \"]\"")
	}
	if it.Attr == FetchBinarySize || !p.eat('<') {
		return it, nil
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	off, err := ParseNumber(p.s[start:p.i], 63)
	if err != nil {
		return it, p.err("invalid partial origin")
	}
	it.Partial = &Partial{Offset: off}
	if !response {
		if !p.eat('.') {
			return it, p.err("expected \".\" in partial")
		}
		start = p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := ParseNumber(p.s[start:p.i], 63)
		if err != nil || n == 0 {
			return it, p.err("invalid partial length")
		}
		it.Partial.Count = n
	}
	if !p.eat('>') {
		return it, p.err("expected \">\"")
	}
	return it, nil
}

func (p *fetchParser) section(s *Section, binary bool) error {
	spec := strings.ToUpper(p.word())
	for spec != "" {
		num, rest, dot := strings.Cut(spec, ".")
		if num == "" || num[0] < '0' || num[0] > '9' {
			break
		}
		if dot && rest == "" {
			return p.err("part number ends with \".\"")
		}
		n, err := ParseNumber(num, 32)
		if err != nil || n == 0 {
			return p.err("invalid part number")
		}
		s.Part = append(s.Part, uint32(n))
		spec = rest
	}
	if spec == "" {
		return nil
	}
	if binary {
		return p.err("BINARY takes a part number only")
	}
	switch SectionSpec(spec) {
	case SpecHeader, SpecText:
	case SpecMIME:
		if len(s.Part) == 0 {
			return p.err("MIME needs a part number")
		}
	case SpecHeaderFields, SpecHeaderFieldsNot:
		if !p.eat(' ') || !p.eat('(') {
			return p.err("expected a header list")
		}
		for {
			name, err := p.astring()
			if err != nil {
				return err
			}
			s.Fields = append(s.Fields, name)
			if p.eat(')') {
				break
			}
			if !p.eat(' ') {
				return p.err("expected SP or \")\" in header list")
			}
		}
	default:
		return p.err("unknown section " + strconv.Quote(spec))
	}
	s.Specifier = SectionSpec(spec)
	return nil
}

func (p *fetchParser) astring() (string, error) {
	if p.eat('"') {
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			switch c {
			case '"':
				return b.String(), nil
			case '\\':
				if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\\') {
					b.WriteByte(p.s[p.i])
					p.i++
					continue
				}
				return "", p.err("bad escape in quoted string")
			case '\r', '\n':
				return "", p.err("CR or LF in quoted string")
			}
			b.WriteByte(c)
		}
		return "", p.err("unterminated quoted string")
	}
	start := p.i
	for p.i < len(p.s) && IsAstringChar(p.s[p.i]) && p.s[p.i] != ']' {
		p.i++
	}
	if p.i == start {
		return "", p.err("expected a header field name")
	}
	return p.s[start:p.i], nil
}
