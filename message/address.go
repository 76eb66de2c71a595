package message

import (
	"fmt"
	"strings"
)

// Address is a mailbox or a group (RFC 5322 §3.4).
//
// A mailbox has an Addr, the addr-spec "local-part@domain", and an optional
// display Name. The local part is held unquoted (`"john doe"@example.com`
// is Addr `john doe@example.com`) and quoted again when formatted. A domain
// literal keeps its brackets: `joe@[192.168.1.3]`.
//
// A group (IsGroup) has a Name and zero or more Members, which are mailboxes.
type Address struct {
	Name    string // display name, RFC 2047 words decoded; or the group's name
	Addr    string // addr-spec; empty for a group
	IsGroup bool
	Members []*Address // a group's mailboxes
}

// AddressError is a syntax error in an address or address list.
type AddressError struct {
	Offset int    // byte offset in the input where the error was found
	Msg    string // what was expected or found
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("message: address syntax error at offset %d: %s", e.Offset, e.Msg)
}

// ParseAddress parses a single address: a mailbox or a group. It validates:
// whatever RFC 5322 §3.2 and §3.4 do not allow in an addr-spec is an
// *AddressError saying what and where, and no character of the input is
// dropped or changed in the result (folding, CRLF followed by white space,
// is the only line break accepted, and is removed as §2.2.3 unfolds). A NUL,
// a bare CR or LF, a comment that does not close, and a local part or domain
// with a dot at either end or two in a row are errors.
func ParseAddress(s string) (*Address, error) {
	if err := checkAddressText(s); err != nil {
		return nil, err
	}
	p := addrParser{s: s}
	p.skipCFWS()
	a, err := p.address(true)
	if err != nil {
		return nil, err
	}
	p.skipCFWS()
	if !p.end() {
		return nil, p.errorf("unexpected %q after address", p.s[p.i])
	}
	return a, nil
}

// ParseAddressList parses an address list (RFC 5322 §3.4 address-list, and
// the obsolete form with empty elements, §4.4). It also accepts common
// mistakes that lose nothing: ";" between addresses, an unquoted address as a
// display name ("joe@example.com <joe@example.com>") and a ">" missing at the
// end. Groups appear as Addresses
// with IsGroup set; use Mailboxes to flatten them. An empty or blank list is
// not an error and returns no addresses.
//
// It validates as ParseAddress does, and one bad address makes the whole
// list an error. Readers that want what can be read of a damaged field use
// ParseAddressListLenient.
func ParseAddressList(s string) ([]*Address, error) {
	if err := checkAddressText(s); err != nil {
		return nil, err
	}
	p := addrParser{s: s}
	// One address per "@" is a good guess, but an input of "@"s alone
	// must not reserve memory out of proportion to it.
	list := make([]*Address, 0, min(strings.Count(s, "@"), 256))
	for {
		p.skipCFWS()
		if p.end() {
			break
		}
		if c := p.peek(); c == ',' || c == ';' {
			p.i++
			continue
		}
		a, err := p.address(true)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
		p.skipCFWS()
		if p.end() {
			break
		}
		// A ";" between addresses, as some users type, is taken for ",".
		if c := p.peek(); c != ',' && c != ';' {
			return nil, p.errorf("expected \",\" between addresses, found %q", p.s[p.i])
		}
		p.i++
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// ParseAddressListLenient reads what it can of an address list, for readers
// of received mail (an IMAP ENVELOPE, say) where one bad entry must not cost
// the others. It keeps every address ParseAddressList would return for the
// same entry, and also:
//   - a mailbox without a domain ("undisclosed", "Name <local>"), with an
//     Addr that has no "@" (Domain returns ""), and a defect;
//   - a local part or domain with misplaced dots, and a comment that does
//     not close, with a defect;
//   - a line break, of any kind, read as white space outside quoted strings
//     (inside one it costs the entry).
//
// Any other entry it cannot read is left out, and recorded as a defect
// (with the offset where reading it failed); reading goes on at the next ","
// (or ";" in a group). Address text never holds CR, LF or NUL: an entry that
// would need one is left out. The defects are in input order.
func ParseAddressListLenient(s string) ([]*Address, []*AddressError) {
	p := addrParser{s: s, lenient: true}
	var list []*Address
	for {
		p.skipCFWS()
		if p.end() {
			break
		}
		if c := p.peek(); c == ',' || c == ';' {
			p.i++
			continue
		}
		if a := p.lenientEntry(true); a != nil {
			list = append(list, a)
		}
	}
	return list, p.defects
}

// lenientEntry reads one entry of a list (a member of a group unless
// allowGroup) up to the separator after it, which it leaves unread. It
// returns nil, with a defect recorded, for an entry it cannot read.
func (p *addrParser) lenientEntry(allowGroup bool) *Address {
	start := p.i
	a, err := p.address(allowGroup)
	if err == nil {
		p.skipCFWS()
		if p.end() || p.peek() == ',' || p.peek() == ';' {
			return a
		}
		err = p.errorf("expected \",\" between addresses, found %q", p.s[p.i])
	}
	ae, ok := err.(*AddressError)
	if !ok {
		ae = &AddressError{Offset: p.i, Msg: err.Error()}
	}
	p.i = start
	if a := p.domainless(allowGroup); a != nil {
		p.defect(&AddressError{Offset: start, Msg: "mailbox without a domain"})
		return a
	}
	p.defect(ae)
	p.i = start
	p.skipEntry(allowGroup)
	return nil
}

// domainless reads a mailbox without "@domain": a local part alone or in
// angle brackets after a display name, up to a separator.
func (p *addrParser) domainless(allowGroup bool) *Address {
	ws, err := p.words()
	if err != nil {
		return nil
	}
	name := ""
	if !p.end() && p.peek() == '<' {
		name = p.phraseText(ws)
		p.i++
		if ws, err = p.words(); err != nil || p.end() || p.peek() != '>' {
			return nil
		}
		p.i++
		p.skipCFWS()
	}
	if !p.end() && p.peek() != ',' && p.peek() != ';' {
		return nil
	}
	local, err := p.localPart(ws)
	if err != nil || local == "" || strings.ContainsAny(local, "@\r\n\x00") {
		return nil
	}
	a := p.alloc()
	a.Name, a.Addr = name, local
	return a
}

// skipEntry moves past the rest of an entry that could not be read, to the
// next "," (or ";") outside quoted strings, comments, domain literals and
// angle brackets. In a group (!allowGroup), ";" ends the group and is left
// for the caller.
func (p *addrParser) skipEntry(allowGroup bool) {
	depth, angle := 0, false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && (depth > 0):
			p.i++
		case c == '"' && depth == 0:
			p.i++
			for p.i < len(p.s) && p.s[p.i] != '"' {
				if p.s[p.i] == '\\' {
					p.i++
				}
				p.i++
			}
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case (c == ',' || c == ';') && !angle:
			return
		case c == ':' && allowGroup && !angle:
			// A group whose members could not be read: its members
			// are skipped with it, up to its ";".
			for p.i < len(p.s) && p.s[p.i] != ';' {
				p.i++
			}
		}
		p.i++
	}
}

// checkAddressText finds what no address may hold wherever it stands:
// a NUL (RFC 5322 §3.2.3 to §3.2.5 and the obsolete forms of §4.1 exclude
// %d0 from every text but obs-qp), a CR or LF that is not part of folding
// (§3.2.2: CRLF followed by white space), and a comment that does not close
// (§3.2.2). A quoted NUL, CR or LF (§4.4 obs-qp) is refused too: it could
// reach a formatted address only as itself.
func checkAddressText(s string) error {
	depth, commentStart := 0, 0
	quoted, literal := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			return &AddressError{Offset: i, Msg: "NUL character"}
		case '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				return &AddressError{Offset: i, Msg: "CR not followed by LF"}
			}
			if i+2 >= len(s) || !isWSP(s[i+2]) {
				return &AddressError{Offset: i, Msg: "line break not followed by white space"}
			}
			i++
		case '\n':
			return &AddressError{Offset: i, Msg: "LF without CR"}
		case '\\':
			if quoted || literal || depth > 0 {
				if i+1 < len(s) {
					switch s[i+1] {
					case 0, '\r', '\n':
						return &AddressError{Offset: i, Msg: "quoted NUL, CR or LF"}
					}
				}
				i++
			}
		case '"':
			if depth == 0 && !literal {
				quoted = !quoted
			}
		case '[':
			if depth == 0 && !quoted {
				literal = true
			}
		case ']':
			if depth == 0 && !quoted {
				literal = false
			}
		case '(':
			if !quoted && !literal {
				if depth == 0 {
					commentStart = i
				}
				depth++
			}
		case ')':
			if !quoted && !literal && depth > 0 {
				depth--
			}
		}
	}
	if depth > 0 {
		return &AddressError{Offset: commentStart, Msg: "comment not closed"}
	}
	return nil
}

// Mailboxes returns the mailboxes of list with each group replaced by its
// members.
func Mailboxes(list []*Address) []*Address {
	var out []*Address
	for _, a := range list {
		if a.IsGroup {
			out = append(out, a.Members...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

type addrParser struct {
	s       string
	i       int
	comment string // text of the last comment skipped
	ws      []word // scratch for words
	pool    []Address
	// lenient: repairs are made and recorded in defects rather than
	// refused (ParseAddressListLenient).
	lenient bool
	defects []*AddressError
}

// repair records a defect that the lenient parser repaired, or returns it
// as the error of the strict one.
func (p *addrParser) repair(off int, msg string) error {
	e := &AddressError{Offset: off, Msg: msg}
	if !p.lenient {
		return e
	}
	p.defect(e)
	return nil
}

// defect records e, once: the parser may read the same text twice when it
// backtracks.
func (p *addrParser) defect(e *AddressError) {
	for _, d := range p.defects {
		if *d == *e {
			return
		}
	}
	p.defects = append(p.defects, e)
}

// alloc returns a new zero Address, carved from a chunk to save allocations.
func (p *addrParser) alloc() *Address {
	if len(p.pool) == cap(p.pool) {
		n := 2 * cap(p.pool)
		n = max(n, 4)
		n = min(n, 64)
		p.pool = make([]Address, 0, n)
	}
	p.pool = p.pool[:len(p.pool)+1]
	return &p.pool[len(p.pool)-1]
}

func (p *addrParser) end() bool  { return p.i >= len(p.s) }
func (p *addrParser) peek() byte { return p.s[p.i] }

func (p *addrParser) errorf(format string, args ...any) error {
	return &AddressError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

// skipCFWS skips white space and comments (RFC 5322 §3.2.2), reporting
// whether it skipped anything. It remembers the last comment's text.
func (p *addrParser) skipCFWS() bool {
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ' ', '\t', '\r', '\n':
			p.i++
		case '(':
			if !p.skipComment() {
				return p.i > start
			}
		default:
			return p.i > start
		}
	}
	return p.i > start
}

// skipComment skips a comment, which may nest. An unterminated comment runs
// to the end of the input (ParseAddress and ParseAddressList refuse it
// before parsing; the lenient parser records a defect).
func (p *addrParser) skipComment() bool {
	depth := 0
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			p.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				p.i++
				p.comment = p.s[start+1 : p.i-1]
				return true
			}
		}
		p.i++
	}
	if p.lenient {
		p.defect(&AddressError{Offset: start, Msg: "comment not closed"})
	}
	p.i = len(p.s)
	return true
}

// atext (RFC 5322 §3.2.3), plus bytes of UTF-8 sequences (RFC 6532 §3.2).
func isAtext(c byte) bool {
	return atextTable[c]
}

var atextTable = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// word is one word of a phrase or local part: an atom with any dots in or
// around it (so that a dot-atom is one word), or a quoted string.
type word struct {
	text   string // unquoted text
	off    int    // offset of the text in the input (of the quote if quoted)
	quoted bool
	space  bool // CFWS came before it
}

// words reads words, dots and CFWS until something else. RFC 5322 §3.2.5
// phrase and §4.1 obs-phrase. The result is valid until the next call.
func (p *addrParser) words() ([]word, error) {
	ws := p.ws[:0]
	for {
		sp := p.skipCFWS()
		if p.end() {
			p.ws = ws[:0]
			return ws, nil
		}
		c := p.peek()
		switch {
		case c == '"':
			off := p.i
			t, err := p.quotedString()
			if err != nil {
				return nil, err
			}
			ws = append(ws, word{text: t, off: off, quoted: true, space: sp})
		case isAtext(c) || c == '.':
			start := p.i
			for p.i < len(p.s) && (isAtext(p.s[p.i]) || p.s[p.i] == '.') {
				p.i++
			}
			ws = append(ws, word{text: p.s[start:p.i], off: start, space: sp})
		default:
			p.ws = ws[:0] // keep the grown scratch for the next call
			return ws, nil
		}
	}
}

// quotedString reads a quoted string (RFC 5322 §3.2.4) and returns its
// content with quoted pairs resolved and folding (CRLF followed by white
// space) removed, the white space kept. A NUL, or a CR or LF that is not
// folding, quoted or not, is an error: qtext, obs-qtext and FWS exclude
// them, and they must not reach a formatted address; dropping them would
// change the address ("\rtest" is not "test").
func (p *addrParser) quotedString() (string, error) {
	start := p.i
	p.i++ // opening quote
	// Fast path: no escapes.
	j := p.i
	for j < len(p.s) && p.s[j] != '"' && p.s[j] != '\\' && p.s[j] != '\r' && p.s[j] != '\n' && p.s[j] != 0 {
		j++
	}
	if j < len(p.s) && p.s[j] == '"' {
		t := p.s[p.i:j]
		p.i = j + 1
		return t, nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			if p.i+1 < len(p.s) {
				if c := p.s[p.i+1]; c == '\r' || c == '\n' || c == 0 {
					return "", p.errorf("quoted NUL, CR or LF in quoted string")
				}
				b.WriteByte(p.s[p.i+1])
				p.i += 2
				continue
			}
		case 0:
			return "", p.errorf("NUL in quoted string")
		case '\r', '\n':
			if strings.HasPrefix(p.s[p.i:], "\r\n") && p.i+2 < len(p.s) && isWSP(p.s[p.i+2]) {
				p.i += 2 // folding
				continue
			}
			return "", p.errorf("line break in quoted string not followed by white space")
		}
		b.WriteByte(c)
		p.i++
	}
	p.i = start
	return "", p.errorf("unterminated quoted string")
}

// address parses a mailbox, or a group if allowGroup.
func (p *addrParser) address(allowGroup bool) (*Address, error) {
	start := p.i
	p.comment = ""
	ws, err := p.words()
	if err != nil {
		return nil, err
	}
	if p.end() {
		if len(ws) == 0 {
			return nil, p.errorf("expected an address")
		}
		p.i = start
		return nil, &AddressError{Offset: len(p.s), Msg: "missing @ in address"}
	}
	switch p.peek() {
	case '@':
		local, err := p.localPart(ws)
		if err != nil {
			return nil, err
		}
		at := p.i
		p.i++
		dom, err := p.domain()
		if err != nil {
			return nil, err
		}
		addr := p.addrSpec(ws, local, at, dom)
		// An unquoted address used as a display name, as careless
		// software writes: joe@example.com <joe@example.com>.
		save := p.i
		p.skipCFWS()
		if !p.end() && p.peek() == '<' {
			lt := p.i
			angle, err := p.angleAddr()
			if err != nil {
				return nil, err
			}
			a := p.alloc()
			a.Name, _ = DecodeWords(strings.Join(strings.Fields(p.s[start:lt]), " "))
			a.Addr = angle
			return a, nil
		}
		p.i = save
		a := p.alloc()
		a.Addr = addr
		// A comment after a bare addr-spec is taken as the name, as old
		// mail writes "joe@example.com (Joe Bloggs)".
		p.comment = ""
		p.skipCFWS()
		if p.comment != "" {
			// Unfolded (RFC 5322 §2.2.3): the name holds no line break.
			c := strings.NewReplacer("\r", "", "\n", "").Replace(p.comment)
			if n, _ := DecodeWords(strings.TrimSpace(c)); n != "" {
				a.Name = n
			}
		}
		p.i = save
		return a, nil
	case '<':
		name := p.phraseText(ws)
		addr, err := p.angleAddr()
		if err != nil {
			return nil, err
		}
		a := p.alloc()
		a.Name, a.Addr = name, addr
		return a, nil
	case ':':
		if !allowGroup {
			return nil, p.errorf("group inside a group")
		}
		if len(ws) == 0 {
			return nil, p.errorf("group without a name")
		}
		p.i++
		g := &Address{Name: p.phraseText(ws), IsGroup: true, Members: []*Address{}}
		for {
			p.skipCFWS()
			if p.end() {
				// RFC 5322 requires the ";"; accept its absence at the
				// very end, as some generators drop it.
				return g, nil
			}
			switch p.peek() {
			case ';':
				p.i++
				return g, nil
			case ',':
				p.i++
				continue
			}
			if p.lenient {
				if m := p.lenientEntry(false); m != nil {
					g.Members = append(g.Members, m)
				}
				continue
			}
			m, err := p.address(false)
			if err != nil {
				return nil, err
			}
			g.Members = append(g.Members, m)
			p.skipCFWS()
			if !p.end() && p.peek() != ',' && p.peek() != ';' {
				return nil, p.errorf("expected \",\" or \";\" in group, found %q", p.peek())
			}
		}
	}
	if len(ws) == 0 {
		return nil, p.errorf("unexpected %q", p.peek())
	}
	return nil, p.errorf("expected \"@\", \"<\" or \":\", found %q", p.peek())
}

// angleAddr parses "<" [obs-route] addr-spec ">" (RFC 5322 §3.4, §4.4).
func (p *addrParser) angleAddr() (string, error) {
	p.i++ // "<"
	p.skipCFWS()
	// obs-route: 1*("," / "@" domain) ":" — skipped; RFC 5322 §4.4 says
	// to ignore it.
	if !p.end() && (p.peek() == '@' || p.peek() == ',') {
		for !p.end() && (p.peek() == '@' || p.peek() == ',') {
			if p.peek() == ',' {
				p.i++
				p.skipCFWS()
				continue
			}
			p.i++
			if _, err := p.domain(); err != nil {
				return "", err
			}
			p.skipCFWS()
		}
		if p.end() || p.peek() != ':' {
			return "", p.errorf("malformed route in angle address")
		}
		p.i++
	}
	ws, err := p.words()
	if err != nil {
		return "", err
	}
	if p.end() || p.peek() != '@' {
		if !p.end() && p.peek() == '>' && len(ws) == 0 {
			return "", p.errorf("empty angle address")
		}
		return "", p.errorf("missing @ in angle address")
	}
	local, err := p.localPart(ws)
	if err != nil {
		return "", err
	}
	at := p.i
	p.i++
	dom, err := p.domain()
	if err != nil {
		return "", err
	}
	addr := p.addrSpec(ws, local, at, dom)
	p.skipCFWS()
	if p.end() {
		return addr, nil // a ">" missing at the very end is forgiven
	}
	if p.peek() != '>' {
		return "", p.errorf("missing \">\"")
	}
	p.i++
	return addr, nil
}

// localPart joins the words of a local part: dot-atom, quoted-string or
// obs-local-part (words separated by dots, CFWS allowed around them). RFC
// 5322 §3.2.3 and §4.4: a dot stands between two words, never at either
// end nor next to another dot.
func (p *addrParser) localPart(ws []word) (string, error) {
	if len(ws) == 0 {
		return "", p.errorf("empty local part")
	}
	// The dots, in the unquoted words.
	prevDot := true // at the start, as after a dot
	for k, w := range ws {
		if w.quoted {
			prevDot = false
			continue
		}
		for i := 0; i < len(w.text); i++ {
			dot := w.text[i] == '.'
			if dot && prevDot {
				msg := "two dots in a row in local part"
				if k == 0 && i == 0 {
					msg = "local part starts with a dot"
				}
				if err := p.repair(w.off+i, msg); err != nil {
					return "", err
				}
			}
			prevDot = dot
		}
	}
	if prevDot {
		last := ws[len(ws)-1]
		if err := p.repair(last.off+len(last.text)-1, "local part ends with a dot"); err != nil {
			return "", err
		}
	}
	if len(ws) == 1 {
		return ws[0].text, nil
	}
	var b strings.Builder
	for k, w := range ws {
		if k > 0 {
			prev := ws[k-1]
			if !(!prev.quoted && strings.HasSuffix(prev.text, ".") || !w.quoted && strings.HasPrefix(w.text, ".")) {
				return "", &AddressError{Offset: w.off, Msg: "words in local part not separated by dots"}
			}
		}
		b.WriteString(w.text)
	}
	return b.String(), nil
}

// addrSpec returns local "@" dom, sharing the input's memory when the
// addr-spec was written there without quotes or CFWS (the common case).
func (p *addrParser) addrSpec(ws []word, local string, at int, dom string) string {
	if len(ws) == 1 && !ws[0].quoted {
		o := ws[0].off
		if at == o+len(local) && at+1+len(dom) <= len(p.s) && p.s[at+1:at+1+len(dom)] == dom {
			return p.s[o : at+1+len(dom)]
		}
	}
	return local + "@" + dom
}

// domain parses a domain: dot-atom, domain literal or obs-domain.
func (p *addrParser) domain() (string, error) {
	p.skipCFWS()
	if p.end() {
		return "", p.errorf("missing domain")
	}
	if p.peek() == '[' {
		start := p.i
		p.i++
		var b strings.Builder
		b.WriteByte('[')
		for p.i < len(p.s) && p.s[p.i] != ']' {
			c := p.s[p.i]
			switch {
			case c == '\\' && p.i+1 < len(p.s):
				// obs-dtext quoted-pair, kept as written, but never a
				// NUL or line break.
				if n := p.s[p.i+1]; n == '\r' || n == '\n' || n == 0 {
					return "", p.errorf("quoted NUL, CR or LF in domain literal")
				}
				b.WriteString(p.s[p.i : p.i+2])
				p.i += 2
				continue
			case c == 0:
				return "", p.errorf("NUL in domain literal")
			case c == '[':
				return "", p.errorf("\"[\" inside domain literal")
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			default:
				b.WriteByte(c)
			}
			p.i++
		}
		if p.end() {
			p.i = start
			return "", p.errorf("unterminated domain literal")
		}
		p.i++
		b.WriteByte(']')
		return b.String(), nil
	}
	// Fast path: a dot-atom with nothing odd after it.
	start := p.i
	for p.i < len(p.s) && (isAtext(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	if run := p.s[start:p.i]; run != "" && run[0] != '.' && run[len(run)-1] != '.' &&
		(p.end() || !isWSPorNL(p.peek()) && p.peek() != '(' || !p.nextIsDot()) {
		// RFC 5322 §3.2.3: dots only between atoms.
		if k := strings.Index(run, ".."); k >= 0 {
			if err := p.repair(start+k+1, "two dots in a row in domain"); err != nil {
				return "", err
			}
		}
		return run, nil
	}
	p.i = start
	var b strings.Builder
	for {
		p.skipCFWS()
		start := p.i
		for p.i < len(p.s) && isAtext(p.s[p.i]) {
			p.i++
		}
		if p.i == start {
			if !p.end() && p.peek() == '.' {
				if b.Len() == 0 {
					return "", p.errorf("domain starts with a dot")
				}
				return "", p.errorf("two dots in a row in domain")
			}
			if b.Len() > 0 {
				return "", p.errorf("domain ends with a dot")
			}
			return "", p.errorf("malformed domain")
		}
		b.WriteString(p.s[start:p.i])
		save := p.i
		p.skipCFWS()
		if p.end() || p.peek() != '.' {
			p.i = save
			return b.String(), nil
		}
		p.i++
		b.WriteByte('.')
	}
}

// nextIsDot reports whether the next character after CFWS is a dot.
func (p *addrParser) nextIsDot() bool {
	save := p.i
	p.skipCFWS()
	ok := !p.end() && p.peek() == '.'
	p.i = save
	return ok
}

// phraseText turns the words of a display name into text: words joined by a
// single space where the input had white space or a comment between them,
// quotes removed, RFC 2047 encoded words decoded.
func (p *addrParser) phraseText(ws []word) string {
	if len(ws) == 0 {
		return ""
	}
	// Fast path: unquoted words separated by single spaces are the input
	// itself.
	plain := !ws[0].quoted
	for k := 1; k < len(ws) && plain; k++ {
		prev := ws[k-1]
		end := prev.off + len(prev.text)
		plain = !ws[k].quoted && ws[k].off == end+1 && p.s[end] == ' '
	}
	var s string
	if plain {
		last := ws[len(ws)-1]
		s = p.s[ws[0].off : last.off+len(last.text)]
	} else {
		var b strings.Builder
		for k, w := range ws {
			if k > 0 && w.space {
				b.WriteByte(' ')
			}
			b.WriteString(w.text)
		}
		s = b.String()
	}
	if strings.Contains(s, "=?") {
		s, _ = DecodeWords(s)
	}
	return s
}

// String formats the address for a header field, RFC 2047 encoding a
// non-ASCII display name. A non-ASCII addr-spec, which has no such encoding,
// is written as UTF-8 (RFC 6532); the header writer, without
// WriteOptions.UTF8, converts its domain to A-labels or refuses it.
func (a *Address) String() string {
	return string(a.appendFormat(nil, false))
}

// FormatUTF8 formats the address with a non-ASCII display name left as UTF-8
// (RFC 6532), for a message sent with SMTPUTF8.
func (a *Address) FormatUTF8() string {
	return string(a.appendFormat(nil, true))
}

// FormatAddressList formats addresses as an address list, separated by ", ",
// RFC 2047 encoding non-ASCII display names.
func FormatAddressList(list []*Address) string {
	var b []byte
	for k, a := range list {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = a.appendFormat(b, false)
	}
	return string(b)
}

func (a *Address) appendFormat(b []byte, utf8 bool) []byte {
	if a.IsGroup {
		b = appendPhrase(b, a.Name, utf8)
		b = append(b, ':')
		for k, m := range a.Members {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, ' ')
			b = m.appendFormat(b, utf8)
		}
		return append(b, ';')
	}
	if a.Name == "" {
		return appendAddrSpec(b, a.Addr)
	}
	b = appendPhrase(b, a.Name, utf8)
	b = append(b, " <"...)
	b = appendAddrSpec(b, a.Addr)
	return append(b, '>')
}

// splitAddr splits an addr-spec at the "@" before its domain.
func splitAddr(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if strings.HasSuffix(addr, "]") {
		at = strings.LastIndex(addr, "@[")
	}
	if at < 0 {
		return addr, "", false
	}
	return addr[:at], addr[at+1:], true
}

// LocalPart returns the part of Addr before the "@" of its domain,
// unquoted.
func (a *Address) LocalPart() string {
	l, _, _ := splitAddr(a.Addr)
	return l
}

// Domain returns the domain of Addr: a host name, or a domain literal with
// its brackets ("[192.0.2.1]").
func (a *Address) Domain() string {
	_, d, _ := splitAddr(a.Addr)
	return d
}

// appendAddrSpec writes local@domain, quoting the local part unless it is a
// dot-atom.
func appendAddrSpec(b []byte, addr string) []byte {
	// A domain literal may hold "@" but never "[" (see splitAddr).
	local, dom, ok := splitAddr(addr)
	if !ok {
		return appendQuoted(b, addr)
	}
	if isDotAtom(local) {
		b = append(b, local...)
	} else {
		b = appendQuoted(b, local)
	}
	if strings.ContainsAny(dom, "\r\n\x00") {
		dom = strings.NewReplacer("\r", "", "\n", "", "\x00", "").Replace(dom)
	}
	b = append(b, '@')
	return append(b, dom...)
}

// isDotAtom reports whether s is a dot-atom-text (RFC 5322 §3.2.3).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if s[i-1] == '.' {
				return false
			}
			continue
		}
		if !isAtext(c) {
			return false
		}
	}
	return true
}

// appendPhrase writes a display name: as atoms where it is a plain sequence
// of atoms separated by single spaces, as a quoted string otherwise, and as
// encoded words when it has non-ASCII text (unless utf8).
func appendPhrase(b []byte, name string, utf8 bool) []byte {
	if strings.Contains(name, "=?") || (!utf8 && !isASCII(name)) || hasControl(name) {
		var sb strings.Builder
		encodeWords(&sb, name, 0)
		return append(b, sb.String()...)
	}
	plain := name != ""
	for _, w := range strings.Split(name, " ") {
		if w == "" || !isAtomText(w) {
			plain = false
			break
		}
	}
	if plain {
		return append(b, name...)
	}
	return appendQuoted(b, name)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' && s[i] != '\t' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func isAtomText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtext(s[i]) {
			return false
		}
	}
	return true
}

// appendQuoted writes s as a quoted string. CR, LF and NUL, which a quoted
// string cannot hold, are left out.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' || s[i] == 0 {
			continue
		}
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
