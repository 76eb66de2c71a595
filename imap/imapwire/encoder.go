package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/mailwire/mailwire/imap"
)

// Encoder writes IMAP syntax to a bufio.Writer. It implements
// imap.Formatter, so the values of package imap write themselves through
// it. Errors are sticky: after the first one writes are skipped, and Err
// (and Flush) return it.
//
// Strings are written as atoms (AString, when they are atoms), quoted
// strings when they can be, and literals otherwise. A literal streams from
// an io.Reader. Before a synchronising literal's bytes, the Encoder flushes
// and calls WaitContinuation, with which a client waits for the server's
// "+" (RFC 3501 §7.5); a server leaves it nil.
type Encoder struct {
	// WaitContinuation, when set, is called after the header of a
	// synchronising literal is flushed and before its bytes are written.
	// It returns when the server's continuation request has arrived, or
	// an error (such as the server's tagged NO) that stops the command.
	WaitContinuation func() error

	// LiteralPlus makes every literal non-synchronising ("{n+}"), for a
	// server that announced LITERAL+ (RFC 7888 §3).
	LiteralPlus bool
	// LiteralMinus makes literals of 4096 octets or less
	// non-synchronising, for a server that announced LITERAL- (RFC 7888 §4).
	LiteralMinus bool
	// UTF8 allows UTF-8 in quoted strings and sends mailbox names as UTF-8,
	// after ENABLE UTF8=ACCEPT (RFC 6855 §3) or with IMAP4rev2.
	UTF8 bool

	w   *bufio.Writer
	err error
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w *bufio.Writer) *Encoder { return &Encoder{w: w} }

// Err returns the first error met.
func (e *Encoder) Err() error { return e.err }

// Flush flushes the buffered output and returns the first error met.
func (e *Encoder) Flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

func (e *Encoder) write(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// ErrInvalid is returned (wrapped) for a value that cannot be written
// safely: an atom with atom-specials, a CR or LF where only a line's text
// may go.
var ErrInvalid = errors.New("imapwire: value cannot be encoded")

func (e *Encoder) invalid(what, s string) {
	if e.err == nil {
		e.err = &invalidError{what: what, s: s}
	}
}

type invalidError struct{ what, s string }

func (e *invalidError) Error() string {
	return "imapwire: invalid " + e.what + " " + strconv.Quote(e.s)
}
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Atom writes s as is. It refuses s when it holds CR, LF or NUL, so that
// no caller can inject a line; other syntax is the caller's business (an
// Atom may carry "BODY[HEADER.FIELDS" or "\Seen").
func (e *Encoder) Atom(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			e.invalid("atom", s)
			return
		}
	}
	e.write(s)
}

// SP writes a space.
func (e *Encoder) SP() { e.write(" ") }

// CRLF ends a line.
func (e *Encoder) CRLF() { e.write("\r\n") }

// BeginList writes "(".
func (e *Encoder) BeginList() { e.write("(") }

// EndList writes ")".
func (e *Encoder) EndList() { e.write(")") }

// Nil writes NIL.
func (e *Encoder) Nil() { e.write("NIL") }

// Number writes a number.
func (e *Encoder) Number(n uint64) {
	if e.err == nil {
		var b [20]byte
		_, e.err = e.w.Write(strconv.AppendUint(b[:0], n, 10))
	}
}

// Quoted writes s as a quoted string; it must be imap.Quotable.
func (e *Encoder) Quoted(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 || c >= 0x80 && !e.UTF8 {
			e.invalid("quoted string", s)
			return
		}
	}
	if e.err == nil {
		_, e.err = e.w.Write(imap.AppendQuoted(nil, s))
	}
}

// String writes s as a quoted string when it can be one, else as a literal.
func (e *Encoder) String(s string) {
	if imap.Quotable(s, e.UTF8) {
		e.Quoted(s)
		return
	}
	e.Literal(int64(len(s)), stringReader(s))
}

// AString writes s as an atom when it is one, else as String.
func (e *Encoder) AString(s string) {
	if imap.IsAtom(s) {
		e.write(s)
		return
	}
	e.String(s)
}

// NString writes s, or NIL when it is empty.
func (e *Encoder) NString(s string) {
	if s == "" {
		e.Nil()
		return
	}
	e.String(s)
}

// Literal writes a literal of size bytes read from r: the header, the
// continuation handshake for a synchronising literal (WaitContinuation),
// then the bytes streamed. Fewer than size bytes in r is an error.
func (e *Encoder) Literal(size int64, r io.Reader) { e.literal(size, r, false) }

// Literal8 writes a binary literal "~{n}" (RFC 3516 §4.2), for APPEND of
// content with NUL bytes or binary FETCH data.
func (e *Encoder) Literal8(size int64, r io.Reader) { e.literal(size, r, true) }

func (e *Encoder) literal(size int64, r io.Reader, binary bool) {
	if e.err != nil {
		return
	}
	sync := !(e.LiteralPlus || e.LiteralMinus && size <= 4096)
	if binary {
		e.write("~")
	}
	e.write("{")
	e.write(strconv.FormatInt(size, 10))
	if !sync {
		e.write("+")
	}
	e.write("}\r\n")
	if sync && e.WaitContinuation != nil {
		if e.Flush() != nil {
			return
		}
		if err := e.WaitContinuation(); err != nil {
			e.err = err
			return
		}
	}
	if e.err != nil {
		return
	}
	n, err := io.CopyN(e.w, r, size)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		e.err = err
		return
	}
	_ = n
}

// Flag writes a flag; it must be valid (imap.Flag.ValidPerm).
func (e *Encoder) Flag(f imap.Flag) {
	if !f.ValidPerm() {
		e.invalid("flag", string(f))
		return
	}
	e.write(string(f))
}

// FlagList writes "(" flags ")".
func (e *Encoder) FlagList(flags []imap.Flag) {
	e.BeginList()
	for i, f := range flags {
		if i > 0 {
			e.SP()
		}
		e.Flag(f)
	}
	e.EndList()
}

// SeqSet writes a sequence set; it must not be empty.
func (e *Encoder) SeqSet(s imap.SeqSet) {
	if len(s) == 0 {
		e.invalid("sequence set", "")
		return
	}
	e.write(s.String())
}

// UIDSet writes a UID set; it must not be empty.
func (e *Encoder) UIDSet(s imap.UIDSet) { e.SeqSet(imap.SeqSet(s)) }

// Mailbox writes a mailbox name as an astring, in modified UTF-7 or, with
// UTF8 set, in UTF-8 (RFC 6855 §3).
func (e *Encoder) Mailbox(name string) { e.AString(imap.EncodeMailbox(name, e.UTF8)) }

// DateTime writes a quoted date-time (RFC 3501 §9).
func (e *Encoder) DateTime(t time.Time) { e.write(`"` + imap.FormatDateTime(t) + `"`) }

// Text writes the human-readable text of a response; CR and LF are
// refused.
func (e *Encoder) Text(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			e.invalid("text", s)
			return
		}
	}
	e.write(s)
}

// StatusResponse writes a whole status response line: tag (or "*"),
// condition, optional response code, text, CRLF.
func (e *Encoder) StatusResponse(r *imap.StatusResponse) {
	if r.Tag == "" {
		e.write("*")
	} else {
		e.Atom(r.Tag)
	}
	e.SP()
	e.Atom(string(r.Type))
	if r.Code != nil {
		e.write(" [")
		e.Text(r.Code.String())
		e.write("]")
	}
	text := r.Text
	if text == "" {
		// RFC 3501 §9 resp-text needs text; some clients choke on none.
		text = string(r.Type)
	}
	e.SP()
	e.Text(text)
	e.CRLF()
}

type stringReaderT struct{ s string }

func (r *stringReaderT) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func stringReader(s string) io.Reader { return &stringReaderT{s} }

var _ imap.Formatter = (*Encoder)(nil)
