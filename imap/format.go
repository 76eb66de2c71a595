package imap

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Formatter receives the tokens of a value in wire order. The types of this
// package that have a wire form (SearchKey, FetchItem, the ENVELOPE and
// BODYSTRUCTURE renderers) write themselves to a Formatter, so the
// same code serves a client and a server: imapwire.Encoder implements
// Formatter and sends strings that cannot be quoted as literals, with the
// continuation handshake when needed.
type Formatter interface {
	Atom(s string)    // written as is; the caller vouches for its syntax
	String(s string)  // a string: quoted, or a literal when it cannot be quoted
	AString(s string) // an astring: an atom when s is one, else as String
	Number(n uint64)
	Nil()
	SP()
	BeginList() // "("
	EndList()   // ")"
}

// Quotable reports whether s can be sent as a quoted string (RFC 3501 §9
// quoted: TEXT-CHARs, no CR, LF or NUL). 8-bit bytes are allowed only when
// utf8 is set and s is valid UTF-8 (RFC 6855 §3, RFC 9051 §9 QUOTED-CHAR).
func Quotable(s string, utf8ok bool) bool {
	if len(s) > 1000 {
		// Long strings go as literals: quoted strings count against
		// the line length.
		return false
	}
	high := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= 0x80:
			high = true
		}
	}
	return !high || utf8ok && utf8.ValidString(s)
}

// AppendQuoted appends s as a quoted string, escaping DQUOTE and backslash.
// The caller checks Quotable first.
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// textFormatter builds a string: strings that cannot be quoted are written
// as synchronising literals in line ("{3}\r\nabc").
type textFormatter struct {
	b    strings.Builder
	utf8 bool
}

func (f *textFormatter) Atom(s string) { f.b.WriteString(s) }
func (f *textFormatter) String(s string) {
	if Quotable(s, f.utf8) {
		f.b.Write(AppendQuoted(nil, s))
		return
	}
	f.b.WriteString("{" + strconv.Itoa(len(s)) + "}\r\n")
	f.b.WriteString(s)
}
func (f *textFormatter) AString(s string) {
	if IsAtom(s) {
		f.b.WriteString(s)
		return
	}
	f.String(s)
}
func (f *textFormatter) Number(n uint64) { f.b.WriteString(strconv.FormatUint(n, 10)) }
func (f *textFormatter) Nil()            { f.b.WriteString("NIL") }
func (f *textFormatter) SP()             { f.b.WriteByte(' ') }
func (f *textFormatter) BeginList()      { f.b.WriteByte('(') }
func (f *textFormatter) EndList()        { f.b.WriteByte(')') }

// formatString runs fn on a textFormatter and returns what it wrote.
func formatString(fn func(Formatter)) string {
	f := &textFormatter{}
	fn(f)
	return f.b.String()
}
