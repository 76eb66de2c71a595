package imap

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Inbox is the name of the primary mailbox. RFC 3501 §5.1: "INBOX" is
// case-insensitive; every other name is case-sensitive.
const Inbox = "INBOX"

// CanonicalMailbox returns "INBOX" for any case variant of it, and name
// unchanged otherwise. With a hierarchy delimiter, it also rewrites the
// first level of a name below INBOX ("inbox/Sub" to "INBOX/Sub"), as most
// servers treat it (RFC 9051 §5.1 leaves this to the server); pass 0 for
// the strict RFC 3501 rule.
func CanonicalMailbox(name string, delim rune) string {
	if strings.EqualFold(name, Inbox) {
		return Inbox
	}
	if delim != 0 && len(name) > len(Inbox) && strings.EqualFold(name[:len(Inbox)], Inbox) {
		if r, _ := utf8.DecodeRuneInString(name[len(Inbox):]); r == delim {
			return Inbox + name[len(Inbox):]
		}
	}
	return name
}

// SplitMailbox splits a mailbox name into its hierarchy levels at delim; a
// delim of 0 (a flat namespace, RFC 3501 §6.3.8 NIL delimiter) gives the
// name whole.
func SplitMailbox(name string, delim rune) []string {
	if delim == 0 {
		return []string{name}
	}
	return strings.Split(name, string(delim))
}

// JoinMailbox joins hierarchy levels with delim.
func JoinMailbox(levels []string, delim rune) string {
	return strings.Join(levels, string(delim))
}

// MailboxAttr is a mailbox name attribute returned by LIST (RFC 3501
// §7.2.2, RFC 5258 §3, RFC 6154 §2).
type MailboxAttr string

// Mailbox attributes.
const (
	AttrNoInferiors   MailboxAttr = `\Noinferiors`
	AttrNoSelect      MailboxAttr = `\Noselect`
	AttrMarked        MailboxAttr = `\Marked`
	AttrUnmarked      MailboxAttr = `\Unmarked`
	AttrNonExistent   MailboxAttr = `\NonExistent`   // RFC 5258
	AttrSubscribed    MailboxAttr = `\Subscribed`    // RFC 5258
	AttrRemote        MailboxAttr = `\Remote`        // RFC 5258
	AttrHasChildren   MailboxAttr = `\HasChildren`   // RFC 5258, RFC 3348
	AttrHasNoChildren MailboxAttr = `\HasNoChildren` // RFC 5258, RFC 3348

	// Special-use attributes (RFC 6154 §2).
	AttrAll     MailboxAttr = `\All`
	AttrArchive MailboxAttr = `\Archive`
	AttrDrafts  MailboxAttr = `\Drafts`
	AttrFlagged MailboxAttr = `\Flagged`
	AttrJunk    MailboxAttr = `\Junk`
	AttrSent    MailboxAttr = `\Sent`
	AttrTrash   MailboxAttr = `\Trash`
)

// Equal reports whether two attributes are the same, ignoring case.
func (a MailboxAttr) Equal(b MailboxAttr) bool { return strings.EqualFold(string(a), string(b)) }

// EncodeMailbox returns the wire form of a mailbox name: the name itself
// when UTF-8 is enabled (RFC 6855 §3), else modified UTF-7 (RFC 3501
// §5.1.3).
func EncodeMailbox(name string, utf8 bool) string {
	if utf8 {
		return name
	}
	return EncodeUTF7(name)
}

// DecodeMailbox is the inverse of EncodeMailbox. With utf8 set the name
// must be valid UTF-8 and is returned as is.
func DecodeMailbox(wire string, utf8ok bool) (string, error) {
	if utf8ok {
		if !utf8.ValidString(wire) {
			return "", &SyntaxError{What: "mailbox name", Input: wire, Msg: "invalid UTF-8"}
		}
		return wire, nil
	}
	return DecodeUTF7(wire)
}

// Modified base64 of RFC 3501 §5.1.3: RFC 2045 base64 with "," for "/".
const mb64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

var mb64val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(mb64); i++ {
		t[mb64[i]] = int8(i)
	}
	return t
}()

// EncodeUTF7 encodes a UTF-8 mailbox name in modified UTF-7 (RFC 3501
// §5.1.3): printable ASCII stands for itself, "&" is "&-", and runs of
// other characters are UTF-16 in modified base64 between "&" and "-".
// Invalid UTF-8 bytes are encoded as U+FFFD.
func EncodeUTF7(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		c := name[i]
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
			if c == '&' {
				b.WriteByte('-')
			}
			i++
			continue
		}
		// A run of characters outside printable ASCII.
		j := i
		var units []uint16
		for j < len(name) && (name[j] < 0x20 || name[j] > 0x7e) {
			r, n := utf8.DecodeRuneInString(name[j:])
			j += n
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				units = append(units, uint16(r1), uint16(r2))
			} else {
				units = append(units, uint16(r))
			}
		}
		b.WriteByte('&')
		var bits uint32
		var nbits uint
		for _, u := range units {
			bits = bits<<16 | uint32(u)
			nbits += 16
			for nbits >= 6 {
				nbits -= 6
				b.WriteByte(mb64[(bits>>nbits)&0x3f])
			}
		}
		if nbits > 0 {
			b.WriteByte(mb64[(bits<<(6-nbits))&0x3f])
		}
		b.WriteByte('-')
		i = j
	}
	return b.String()
}

// DecodeUTF7 decodes a modified UTF-7 mailbox name (RFC 3501 §5.1.3). It is
// strict, so that every name has one spelling: bytes outside printable
// ASCII, an unterminated or malformed base64 run, nonzero padding bits,
// unpaired surrogates, and a run encoding printable ASCII (which must
// represent itself) are errors.
func DecodeUTF7(s string) (string, error) {
	bad := func(msg string) (string, error) {
		return "", &SyntaxError{What: "modified UTF-7 mailbox name", Input: s, Msg: msg}
	}
	if strings.IndexByte(s, '&') < 0 {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return bad("byte outside printable ASCII")
			}
		}
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return bad("byte outside printable ASCII")
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return bad("unterminated base64 run")
		}
		run := s[i+1 : i+1+end]
		i += end + 1
		if run == "" {
			b.WriteByte('&')
			continue
		}
		var bits uint32
		var nbits uint
		var units []uint16
		for j := 0; j < len(run); j++ {
			v := mb64val[run[j]]
			if v < 0 {
				return bad("invalid character in base64 run")
			}
			bits = bits<<6 | uint32(v)
			nbits += 6
			if nbits >= 16 {
				nbits -= 16
				units = append(units, uint16(bits>>nbits))
				bits &= 1<<nbits - 1
			}
		}
		if nbits >= 6 || bits != 0 {
			return bad("bad padding in base64 run")
		}
		for k := 0; k < len(units); k++ {
			u := rune(units[k])
			switch {
			case utf16.IsSurrogate(u):
				if u >= 0xdc00 || k+1 >= len(units) {
					return bad("unpaired surrogate")
				}
				r := utf16.DecodeRune(u, rune(units[k+1]))
				if r == utf8.RuneError {
					return bad("unpaired surrogate")
				}
				k++
				b.WriteRune(r)
			case u >= 0x20 && u <= 0x7e:
				return bad("printable ASCII in a base64 run")
			default:
				b.WriteRune(u)
			}
		}
	}
	return b.String(), nil
}
