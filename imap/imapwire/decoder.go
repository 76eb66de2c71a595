package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/mailwire/mailwire/imap"
)

// Decoder reads IMAP syntax (RFC 3501 §9, RFC 9051 §9) from a bufio.Reader:
// the tokens of commands and responses. Its methods follow the grammar's
// names. Errors are sticky: after the first one every method returns
// false, and Err returns it, so a parser can chain calls with &&:
//
//	var tag, name string
//	if d.Atom(&tag) && d.SP() && d.Atom(&name) { ... }
//	return d.Err()
//
// Literals read into memory are bounded by Limits.MaxStringLiteral; those
// returned as a *LiteralReader stream and are bounded by Limits.MaxLiteral.
// Lines are bounded by Limits.MaxLine, list nesting by Limits.MaxDepth, and
// a whole command or response held in memory by Limits.MaxCommand.
type Decoder struct {
	// OnSyncLiteral, when set, is called before the bytes of a
	// synchronising literal ("{n}", RFC 3501 §7.5) are read, with the
	// literal's size. A server sends its "+" continuation request there
	// (or returns an error to refuse the literal: the client will not send
	// it, and the decoder stays at the start of the next line). Clients
	// leave it nil, as servers' literals are never synchronising.
	OnSyncLiteral func(size int64) error

	r     *bufio.Reader
	lim   Limits
	err   error
	line  int64 // bytes read on the current line
	total int64 // bytes held for the current command or response
	depth int
	lit   *LiteralReader // a streamed literal not yet read to its end
	ctx   []byte         // the tail of the current line, for errors
}

// NewDecoder returns a Decoder reading from r with the given limits (the
// zero Limits gives the defaults).
func NewDecoder(r *bufio.Reader, lim Limits) *Decoder {
	return &Decoder{r: r, lim: lim.withDefaults()}
}

// Limits returns the limits in force, defaults filled in.
func (d *Decoder) Limits() Limits { return d.lim }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Reset clears a sticky error so that reading can go on, for a server
// that answered a bad command with BAD after DiscardLine.
func (d *Decoder) Reset() {
	d.err = nil
	d.depth = 0
	d.line, d.total = 0, 0
	d.ctx = d.ctx[:0]
}

func (d *Decoder) fail(err error) bool {
	if d.err == nil {
		d.err = err
	}
	return false
}

// Errorf records a parse error at the current position; it returns false.
// Parsers built on the Decoder use it for their own grammar rules.
func (d *Decoder) Errorf(msg string, args ...any) bool {
	if len(args) > 0 {
		msg = fmtSprintf(msg, args...)
	}
	return d.fail(&ParseError{Msg: msg, Context: string(d.ctx)})
}

func (d *Decoder) ioErr(err error) bool {
	if err == io.EOF {
		if d.line > 0 || d.total > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return d.fail(err)
}

// ready drains an unread streamed literal and reports whether reading can
// go on.
func (d *Decoder) ready() bool {
	if d.err != nil {
		return false
	}
	if d.lit != nil {
		l := d.lit
		d.lit = nil
		if _, err := io.Copy(io.Discard, l); err != nil {
			return d.ioErr(err)
		}
	}
	return true
}

func (d *Decoder) peek() (byte, bool) {
	b, err := d.r.Peek(1)
	if err != nil {
		return 0, d.ioErr(err)
	}
	return b[0], true
}

func (d *Decoder) count(n int64) bool {
	d.line += n
	d.total += n
	if d.line > d.lim.MaxLine {
		return d.fail(&LimitError{Limit: "MaxLine", Max: d.lim.MaxLine})
	}
	if d.total > d.lim.MaxCommand {
		return d.fail(&LimitError{Limit: "MaxCommand", Max: d.lim.MaxCommand})
	}
	return true
}

func (d *Decoder) remember(c byte) {
	if len(d.ctx) >= 48 {
		copy(d.ctx, d.ctx[16:])
		d.ctx = d.ctx[:len(d.ctx)-16]
	}
	d.ctx = append(d.ctx, c)
}

func (d *Decoder) readByte() (byte, bool) {
	c, err := d.r.ReadByte()
	if err != nil {
		return 0, d.ioErr(err)
	}
	d.remember(c)
	return c, d.count(1)
}

// Peek returns the next byte without consuming it.
func (d *Decoder) Peek() (byte, bool) {
	if !d.ready() {
		return 0, false
	}
	return d.peek()
}

// PeekIs reports whether the next byte is c, consuming nothing.
func (d *Decoder) PeekIs(c byte) bool {
	b, ok := d.Peek()
	return ok && b == c
}

// Expect consumes the byte c, or fails.
func (d *Decoder) Expect(c byte) bool {
	if !d.ready() {
		return false
	}
	b, ok := d.peek()
	if !ok {
		return false
	}
	if b != c {
		return d.Errorf("expected %q, found %q", c, b)
	}
	_, ok = d.readByte()
	return ok
}

// Maybe consumes c if it is the next byte and reports whether it was.
// It never fails.
func (d *Decoder) Maybe(c byte) bool {
	if !d.ready() {
		return false
	}
	b, err := d.r.Peek(1)
	if err != nil || b[0] != c {
		return false
	}
	_, ok := d.readByte()
	return ok
}

// SP consumes one space.
func (d *Decoder) SP() bool { return d.Expect(' ') }

// CRLF consumes the end of a line. A bare LF is accepted too. It ends a
// command or response: the per-command counters start again.
func (d *Decoder) CRLF() bool {
	if !d.ready() {
		return false
	}
	c, ok := d.peek()
	if !ok {
		return false
	}
	if c == '\r' {
		d.readByte()
		c, ok = d.peek()
		if !ok {
			return false
		}
	}
	if c != '\n' {
		return d.Errorf("expected CRLF, found %q", c)
	}
	d.r.ReadByte()
	d.line, d.total, d.depth = 0, 0, 0
	d.ctx = d.ctx[:0]
	return true
}

// AtEOL reports whether the next bytes end the line (CR or LF).
func (d *Decoder) AtEOL() bool {
	c, ok := d.Peek()
	return ok && (c == '\r' || c == '\n')
}

// readWhile reads bytes while ok(c) holds, at least one.
func (d *Decoder) readWhile(what string, ok func(byte) bool) (string, bool) {
	if !d.ready() {
		return "", false
	}
	var b []byte
	for {
		buf, err := d.r.Peek(1)
		if err != nil {
			if len(b) > 0 && err == io.EOF {
				break
			}
			return "", d.ioErr(err)
		}
		c := buf[0]
		if !ok(c) {
			break
		}
		d.r.ReadByte()
		d.remember(c)
		if !d.count(1) {
			return "", false
		}
		b = append(b, c)
	}
	if len(b) == 0 {
		c, _ := d.peek()
		return "", d.Errorf("expected %s, found %q", what, c)
	}
	return string(b), true
}

// Atom reads an atom (RFC 3501 §9: ATOM-CHARs).
func (d *Decoder) Atom(p *string) bool {
	s, ok := d.readWhile("atom", imap.IsAtomChar)
	*p = s
	return ok
}

// AtomSpecial reads a run of ATOM-CHARs and the extra bytes in extra
// ("]" for astrings, "%*" for list-mailbox, "[]<>." for fetch items...).
func (d *Decoder) AtomSpecial(p *string, extra string) bool {
	s, ok := d.readWhile("atom", func(c byte) bool {
		return imap.IsAtomChar(c) || strings.IndexByte(extra, c) >= 0
	})
	*p = s
	return ok
}

// MaybeAtom consumes the atom word (compared without case) if it comes
// next, followed by a byte that cannot continue an atom; it never fails.
func (d *Decoder) MaybeAtom(word string) bool {
	if !d.ready() {
		return false
	}
	b, _ := d.r.Peek(len(word) + 1)
	if len(b) < len(word) || !strings.EqualFold(string(b[:len(word)]), word) {
		return false
	}
	if len(b) > len(word) && imap.IsAtomChar(b[len(word)]) {
		return false
	}
	for range len(word) {
		if _, ok := d.readByte(); !ok {
			return false
		}
	}
	return true
}

// ExpectAtom consumes the atom word, compared without case, or fails.
func (d *Decoder) ExpectAtom(word string) bool {
	if d.MaybeAtom(word) {
		return true
	}
	if d.err != nil {
		return false
	}
	return d.Errorf("expected %s", word)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d *Decoder) number(bits int, what string) (uint64, bool) {
	s, ok := d.readWhile(what, isDigit)
	if !ok {
		return 0, false
	}
	n, err := imap.ParseNumber(s, bits)
	if err != nil {
		return 0, d.Errorf("%s", err.Error())
	}
	return n, true
}

// Number reads a number (RFC 3501 §9: 32 bits).
func (d *Decoder) Number(p *uint32) bool {
	n, ok := d.number(32, "number")
	*p = uint32(n)
	return ok
}

// NZNumber reads a non-zero number.
func (d *Decoder) NZNumber(p *uint32) bool {
	n, ok := d.number(32, "nz-number")
	if ok && n == 0 {
		return d.Errorf("expected a non-zero number")
	}
	*p = uint32(n)
	return ok
}

// Number64 reads a number64 (RFC 9051 §9: 63 bits), as mod-sequence
// values (RFC 7162) and sizes are.
func (d *Decoder) Number64(p *uint64) bool {
	n, ok := d.number(63, "number64")
	*p = n
	return ok
}

// Quoted reads a quoted string (RFC 3501 §9 quoted) with its \" and \\
// escapes. 8-bit bytes are accepted (RFC 6855, RFC 9051 allow UTF-8).
func (d *Decoder) Quoted(p *string) bool {
	if !d.Expect('"') {
		return false
	}
	var b []byte
	for {
		c, ok := d.readByte()
		if !ok {
			return false
		}
		switch c {
		case '"':
			*p = string(b)
			return true
		case '\\':
			c, ok = d.readByte()
			if !ok {
				return false
			}
			if c != '"' && c != '\\' {
				return d.Errorf("invalid escape \\%c in quoted string", c)
			}
		case '\r', '\n', 0:
			return d.Errorf("%q in quoted string", c)
		}
		b = append(b, c)
	}
}

// literalHeader reads "{n}", "{n+}", "{n-}" or "~{n}" and its CRLF.
func (d *Decoder) literalHeader() (size int64, nonSync, binary bool, ok bool) {
	if d.Maybe('~') {
		binary = true
	}
	if !d.Expect('{') {
		return 0, false, false, false
	}
	n, ok := d.number(63, "literal size")
	if !ok {
		return 0, false, false, false
	}
	if d.Maybe('+') || d.Maybe('-') {
		nonSync = true
	}
	if !d.Expect('}') {
		return 0, false, false, false
	}
	c, ok := d.peek()
	if !ok {
		return 0, false, false, false
	}
	if c == '\r' {
		d.r.ReadByte()
		c, ok = d.peek()
		if !ok {
			return 0, false, false, false
		}
	}
	if c != '\n' {
		return 0, false, false, d.Errorf("expected CRLF after literal size")
	}
	d.r.ReadByte()
	d.line = 0
	d.ctx = d.ctx[:0]
	return int64(n), nonSync, binary, true
}

// syncLiteral runs the OnSyncLiteral hook for a synchronising literal.
func (d *Decoder) syncLiteral(size int64, nonSync bool) bool {
	if nonSync || d.OnSyncLiteral == nil {
		return true
	}
	if err := d.OnSyncLiteral(size); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.InSync = true
		}
		return d.fail(err)
	}
	return true
}

// literalString reads a literal into memory.
func (d *Decoder) literalString(p *string) bool {
	size, nonSync, _, ok := d.literalHeader()
	if !ok {
		return false
	}
	if size > d.lim.MaxStringLiteral {
		return d.fail(&LimitError{Limit: "MaxStringLiteral", Max: d.lim.MaxStringLiteral, Got: size, InSync: !nonSync})
	}
	if d.total+size > d.lim.MaxCommand {
		return d.fail(&LimitError{Limit: "MaxCommand", Max: d.lim.MaxCommand, Got: d.total + size, InSync: !nonSync})
	}
	if !d.syncLiteral(size, nonSync) {
		return false
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(d.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return d.fail(err)
	}
	d.total += size
	*p = string(b)
	return true
}

// atLiteral reports whether a literal starts here: "{", or "~{".
func (d *Decoder) atLiteral() bool {
	b, _ := d.r.Peek(2)
	return len(b) > 0 && b[0] == '{' || len(b) == 2 && b[0] == '~' && b[1] == '{'
}

// String reads a string: quoted or literal (RFC 3501 §9 string). A literal
// is read into memory, bounded by Limits.MaxStringLiteral.
func (d *Decoder) String(p *string) bool {
	c, ok := d.Peek()
	if !ok {
		return false
	}
	if c == '"' {
		return d.Quoted(p)
	}
	if d.atLiteral() {
		return d.literalString(p)
	}
	return d.Errorf("expected a string, found %q", c)
}

// AString reads an astring: ASTRING-CHARs or a string.
func (d *Decoder) AString(p *string) bool {
	c, ok := d.Peek()
	if !ok {
		return false
	}
	if c == '"' || d.atLiteral() {
		return d.String(p)
	}
	s, ok := d.readWhile("astring", imap.IsAstringChar)
	*p = s
	return ok
}

// MaybeNil consumes NIL if it comes next.
func (d *Decoder) MaybeNil() bool { return d.MaybeAtom("NIL") }

// NString reads an nstring: a string or NIL, which gives "".
func (d *Decoder) NString(p *string) bool {
	if d.MaybeNil() {
		*p = ""
		return true
	}
	return d.String(p)
}

// NStringPtr reads an nstring, setting *p to nil for NIL.
func (d *Decoder) NStringPtr(p **string) bool {
	if d.MaybeNil() {
		*p = nil
		return true
	}
	var s string
	if !d.String(&s) {
		return false
	}
	*p = &s
	return true
}

// Open consumes "(" and enters one level of nesting, bounded by
// Limits.MaxDepth; Close consumes ")" and leaves it. Parsers of lists
// whose elements are not separated by spaces (BODYSTRUCTURE's "1*body")
// use them instead of List.
func (d *Decoder) Open() bool {
	if !d.Expect('(') {
		return false
	}
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return d.fail(&LimitError{Limit: "MaxDepth", Max: int64(d.lim.MaxDepth)})
	}
	return true
}

// Close consumes ")" and leaves a level of nesting.
func (d *Decoder) Close() bool {
	if !d.Expect(')') {
		return false
	}
	d.depth--
	return true
}

// List reads a parenthesised list, calling elem for each element.
// Elements are separated by one or more spaces; as servers do write
// "((a)(b))" for ENVELOPE address lists (RFC 3501 §9 "1*address"), the
// space may be missing before an element that starts with "(".
func (d *Decoder) List(elem func() bool) bool {
	if !d.Open() {
		return false
	}
	if d.Maybe(')') {
		d.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Maybe(')') {
			d.depth--
			return true
		}
		c, ok := d.peek()
		if !ok {
			return false
		}
		if c == '(' {
			continue
		}
		if !d.SP() {
			return false
		}
		for d.Maybe(' ') {
		}
	}
}

// MaybeList is List when the next byte is "(", and NIL otherwise: it
// reports whether a list was read in *isList.
func (d *Decoder) MaybeList(isList *bool, elem func() bool) bool {
	if d.MaybeNil() {
		*isList = false
		return true
	}
	*isList = true
	return d.List(elem)
}

// Flag reads a flag: a keyword atom or a backslash and an atom ("\*" is
// accepted, for PERMANENTFLAGS).
func (d *Decoder) Flag(p *imap.Flag) bool {
	var s string
	if d.Maybe('\\') {
		if d.Maybe('*') {
			*p = imap.FlagWildcard
			return true
		}
		if !d.Atom(&s) {
			return false
		}
		*p = imap.Flag(`\` + s).Canonical()
		return true
	}
	if !d.Atom(&s) {
		return false
	}
	*p = imap.Flag(s)
	return true
}

// FlagList reads "(" [flag *(SP flag)] ")".
func (d *Decoder) FlagList(p *[]imap.Flag) bool {
	flags := []imap.Flag{}
	ok := d.List(func() bool {
		var f imap.Flag
		if !d.Flag(&f) {
			return false
		}
		flags = append(flags, f)
		return true
	})
	*p = flags
	return ok
}

func isSeqChar(c byte) bool { return isDigit(c) || c == ':' || c == ',' || c == '*' }

// SeqSet reads a sequence-set.
func (d *Decoder) SeqSet(p *imap.SeqSet) bool {
	s, ok := d.readWhile("sequence set", isSeqChar)
	if !ok {
		return false
	}
	set, err := imap.ParseSeqSet(s)
	if err != nil {
		return d.fail(err)
	}
	*p = set
	return true
}

// UIDSet reads a UID set.
func (d *Decoder) UIDSet(p *imap.UIDSet) bool {
	var s imap.SeqSet
	if !d.SeqSet(&s) {
		return false
	}
	*p = imap.UIDSet(s)
	return true
}

// Text reads the rest of the line, up to but not including CRLF (RFC
// 3501 §9 text); it may be empty.
func (d *Decoder) Text(p *string) bool {
	if !d.ready() {
		return false
	}
	var b []byte
	for {
		buf, err := d.r.Peek(1)
		if err != nil {
			return d.ioErr(err)
		}
		if c := buf[0]; c == '\r' || c == '\n' {
			break
		}
		c, ok := d.readByte()
		if !ok {
			return false
		}
		b = append(b, c)
	}
	*p = string(b)
	return true
}

// DiscardLine skips the rest of a command or response after an error:
// to the end of the line, and past any non-synchronising literal that
// ends it and the lines after it. A synchronising literal ends the
// skipping, since its sender waits for a continuation that will not come.
// The sticky error is kept; call Reset to read on.
func (d *Decoder) DiscardLine() error {
	if d.lit != nil {
		l := d.lit
		d.lit = nil
		if _, err := io.Copy(io.Discard, l); err != nil {
			return err
		}
	}
	var tail []byte // the last bytes of the line, to spot "{n+}"
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return err
		}
		if c != '\n' {
			if len(tail) >= 32 {
				tail = append(tail[:0], tail[16:]...)
			}
			tail = append(tail, c)
			continue
		}
		t := strings.TrimSuffix(string(tail), "\r")
		tail = tail[:0]
		if !strings.HasSuffix(t, "+}") && !strings.HasSuffix(t, "-}") {
			d.line, d.total, d.depth = 0, 0, 0
			d.ctx = d.ctx[:0]
			return nil
		}
		i := strings.LastIndexByte(t, '{')
		n, err := strconv.ParseInt(t[i+1:len(t)-2], 10, 64)
		if i < 0 || err != nil || n < 0 {
			return nil
		}
		if _, err := io.CopyN(io.Discard, d.r, n); err != nil {
			return err
		}
	}
}
