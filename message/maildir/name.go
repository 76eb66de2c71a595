package maildir

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A Flag is one letter of a message's info suffix (":2,LETTERS"). Maildir
// defines six upper-case flags; Dovecot and Courier use the lower-case letters
// a-z for IMAP keywords, mapped to names in a per-folder dovecot-keywords or
// courierimapkeywords file, which this package keeps but does not interpret.
type Flag byte

// The standard Maildir flags, in the sorted order they appear in file names.
const (
	FlagDraft   Flag = 'D' // IMAP \Draft
	FlagFlagged Flag = 'F' // IMAP \Flagged
	FlagPassed  Flag = 'P' // resent, forwarded or bounced (no IMAP system flag)
	FlagReplied Flag = 'R' // IMAP \Answered
	FlagSeen    Flag = 'S' // IMAP \Seen
	FlagTrashed Flag = 'T' // IMAP \Deleted
)

// Flags is a set of flag letters, kept as the sorted, duplicate-free string
// that appears after ":2," in a file name, so "FS" means flagged and seen.
// The zero value is the empty set.
type Flags string

// validFlag reports whether c may appear in a Flags string: ASCII letters
// only, because the info suffix is part of a file name and other characters
// (',' in particular) have other meanings there.
func validFlag(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }

// NewFlags returns the set holding the given flags.
func NewFlags(fl ...Flag) Flags { return Flags("").With(fl...) }

// Has reports whether f contains fl.
func (f Flags) Has(fl Flag) bool { return strings.IndexByte(string(f), byte(fl)) >= 0 }

// With returns f with the given flags added. Flags that are not ASCII
// letters are ignored.
func (f Flags) With(fl ...Flag) Flags {
	b := []byte(f)
	for _, x := range fl {
		if validFlag(byte(x)) {
			b = append(b, byte(x))
		}
	}
	return normFlags(b)
}

// Without returns f with the given flags removed.
func (f Flags) Without(fl ...Flag) Flags {
	b := make([]byte, 0, len(f))
outer:
	for i := 0; i < len(f); i++ {
		for _, x := range fl {
			if f[i] == byte(x) {
				continue outer
			}
		}
		b = append(b, f[i])
	}
	return Flags(b)
}

// Keywords returns the lower-case keyword letters of f.
func (f Flags) Keywords() string {
	i := strings.IndexFunc(string(f), func(r rune) bool { return 'a' <= r && r <= 'z' })
	if i < 0 {
		return ""
	}
	return string(f[i:])
}

// normFlags sorts and de-duplicates letters and drops anything else.
func normFlags(b []byte) Flags {
	var seen [128]bool
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c < 128 && validFlag(c) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return Flags(out)
}

// Name is a parsed Maildir file name:
//
//	KEY[:INFO]    where KEY is UNIQUE[,S=size][,W=wiresize][,other=fields]
//	              and INFO is "2,FLAGS" (or "1,..." experimental, kept raw)
//
// The key names the message for its whole life: it does not change when the
// message moves from new to cur or when its flags change.
type Name struct {
	Key      string // the file name before ":"
	Size     int64  // from ",S=", or -1 when absent
	WireSize int64  // from ",W=" (size with CRLF line ends, see WireSize), or -1 when absent
	Flags    Flags  // from ":2,FLAGS"
	Info     string // the raw text after ":", "" when there was none

}

// Errors returned by ParseName.
var (
	ErrBadName = errors.New("maildir: bad file name")
)

// ParseName parses a file name found in new or cur. Names that cannot be a
// delivered message (empty, starting with '.', containing '/' or a control
// character such as NUL or a line break) are rejected with an error
// wrapping ErrBadName. Unknown ",X=" fields and an unknown info version are
// kept in Key and Info. Flag letters are normalised (sorted, duplicates and
// non-letters dropped).
func ParseName(name string) (Name, error) {
	n := Name{Size: -1, WireSize: -1}
	if name == "" || name[0] == '.' || strings.ContainsAny(name, "/") || hasControl(name) {
		return n, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	key, info, hasInfo := strings.Cut(name, ":")
	if key == "" {
		return n, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	n.Key = key
	if hasInfo {
		n.Info = info
		if fl, ok := strings.CutPrefix(info, "2,"); ok {
			n.Flags = normFlags([]byte(fl))
		}
	}
	// Maildir++: ",S=<size>" and ",W=<size>" fields after the unique part.
	// Only the last occurrence counts.
	fields := strings.Split(key, ",")
	for _, f := range fields[1:] {
		if v, ok := strings.CutPrefix(f, "S="); ok {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
				n.Size = s
			}
		} else if v, ok := strings.CutPrefix(f, "W="); ok {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
				n.WireSize = s
			}
		}
	}
	return n, nil
}

// String formats n as a file name for cur: KEY:2,FLAGS. A Name with an info
// that is not version 2 keeps that info unchanged.
func (n Name) String() string {
	if n.Info != "" && !strings.HasPrefix(n.Info, "2,") {
		return n.Key + ":" + n.Info
	}
	return n.Key + ":2," + string(normFlags([]byte(n.Flags)))
}

// validKey reports whether key can name a message file.
func validKey(key string) bool {
	return key != "" && key[0] != '.' && !strings.ContainsAny(key, "/:") && !hasControl(key)
}

// hasControl reports whether s holds a NUL or another control character.
// Keys are lines of the UID list, so they may not hold line breaks.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
