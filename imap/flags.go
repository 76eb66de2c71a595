package imap

import "strings"

// Flag is a message flag (RFC 3501 §2.3.2): a system flag, which starts with
// a backslash ("\Seen"), or a keyword, an atom ("$Forwarded", "Junk").
type Flag string

// System flags (RFC 3501 §2.3.2). FlagRecent is session-only: it is reported
// by the server and cannot be set by a client. FlagWildcard appears only in
// PERMANENTFLAGS, saying that new keywords may be created (RFC 3501 §7.1).
const (
	FlagSeen     Flag = `\Seen`
	FlagAnswered Flag = `\Answered`
	FlagFlagged  Flag = `\Flagged`
	FlagDeleted  Flag = `\Deleted`
	FlagDraft    Flag = `\Draft`
	FlagRecent   Flag = `\Recent`
	FlagWildcard Flag = `\*`
)

// Commonly used keywords (IANA "IMAP and JMAP Keywords" registry, RFC 5550,
// RFC 5788).
const (
	KeywordForwarded Flag = "$Forwarded"
	KeywordMDNSent   Flag = "$MDNSent"
	KeywordJunk      Flag = "$Junk"
	KeywordNotJunk   Flag = "$NotJunk"
	KeywordPhishing  Flag = "$Phishing"
)

var systemFlags = []Flag{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft, FlagRecent, FlagWildcard}

// IsSystem reports whether f starts with a backslash: a system flag or a
// flag-extension (RFC 3501 §9 flag-extension).
func (f Flag) IsSystem() bool { return strings.HasPrefix(string(f), `\`) }

// Canonical returns f with the spelling of the system flags above when it is
// one of them (flag names are case-insensitive, RFC 3501 §9 note 3), and f
// unchanged otherwise. Keywords keep their case; compare them with
// strings.EqualFold.
func (f Flag) Canonical() Flag {
	if !f.IsSystem() {
		return f
	}
	for _, s := range systemFlags {
		if strings.EqualFold(string(f), string(s)) {
			return s
		}
	}
	return f
}

// Equal reports whether two flags are the same flag, ignoring case.
func (f Flag) Equal(g Flag) bool { return strings.EqualFold(string(f), string(g)) }

// Valid reports whether f can appear in a flag list: a keyword (an atom), or
// a backslash followed by an atom (RFC 3501 §9 flag, flag-extension). The
// wildcard `\*` is not valid here; see ValidPerm.
func (f Flag) Valid() bool {
	s := string(f)
	if strings.HasPrefix(s, `\`) {
		s = s[1:]
	}
	return IsAtom(s)
}

// ValidKeyword reports whether s is a valid keyword (RFC 3501 §9
// flag-keyword = atom): no backslash, no atom-specials, not empty.
func ValidKeyword(s string) bool { return IsAtom(s) }

// ValidPerm reports whether f can appear in PERMANENTFLAGS (flag-perm):
// a flag or `\*`.
func (f Flag) ValidPerm() bool { return f == FlagWildcard || f.Valid() }

// IsAtom reports whether s is a non-empty atom: it holds only ATOM-CHARs,
// printable ASCII other than atom-specials (RFC 3501 §9:
// "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]").
func IsAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsAtomChar(s[i]) {
			return false
		}
	}
	return true
}

// IsAtomChar reports whether c is an ATOM-CHAR (RFC 3501 §9).
func IsAtomChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// IsAstringChar reports whether c is an ASTRING-CHAR: an ATOM-CHAR or "]".
func IsAstringChar(c byte) bool { return c == ']' || IsAtomChar(c) }

// HasFlag reports whether flags holds f, ignoring case.
func HasFlag(flags []Flag, f Flag) bool {
	for _, g := range flags {
		if g.Equal(f) {
			return true
		}
	}
	return false
}
