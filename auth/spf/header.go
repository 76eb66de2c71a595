package spf

import (
	"errors"
	"strings"
)

// maxHeaderValue bounds each key-value of a Received-SPF field, in bytes,
// so that data from the sender cannot make the field excessively long
// (RFC 7208 §9.1).
const maxHeaderValue = 256

// ReceivedSPF returns the value of a Received-SPF header field for o (RFC
// 7208 §9.1): the result, a comment, and the keys receiver, client-ip,
// envelope-from, helo, identity, mechanism and problem, those that are
// known. Add it above the Received field the receiver writes, e.g. with
// message.Header.Add("Received-SPF", v), which folds it when written.
//
// The value is printable US-ASCII on one line whatever o holds: text from
// the sender (HELO name, envelope sender) is quoted where it is not a
// dot-atom, characters outside printable US-ASCII become '?', and each
// value is cut to 256 bytes, so no CR, LF or other control character
// reaches the header (header injection).
func (o *Outcome) ReceivedSPF() string {
	var b strings.Builder
	res := o.Result
	if res == "" {
		res = None
	}
	b.WriteString(string(res))
	b.WriteString(" (")
	b.WriteString(comment(o))
	b.WriteString(")")
	kv := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(headerValue(v))
		b.WriteByte(';')
	}
	kv("receiver", o.Receiver)
	if o.IP.IsValid() {
		kv("client-ip", o.IP.String())
	}
	if o.Identity != IdentityHelo {
		kv("envelope-from", o.Sender)
	}
	kv("helo", o.Helo)
	kv("identity", string(o.Identity))
	switch {
	case o.Mechanism != "":
		kv("mechanism", o.Mechanism)
	case res == Pass || res == Fail || res == SoftFail || res == Neutral:
		// RFC 7208 §9.1: "default" when no mechanism matched.
		kv("mechanism", "default")
	}
	if o.Err != nil {
		kv("problem", problem(o.Err))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// comment returns the text of the comment after the result.
func comment(o *Outcome) string {
	who := "domain of " + o.Sender
	if o.Identity == IdentityHelo || o.Sender == "" {
		who = "domain " + o.Domain
	}
	ip := o.IP.String()
	var s string
	switch o.Result {
	case Pass:
		s = who + " designates " + ip + " as permitted sender"
	case Fail:
		s = who + " does not designate " + ip + " as permitted sender"
	case SoftFail:
		s = who + " does not designate " + ip + " as permitted sender, softly"
	case Neutral:
		s = ip + " is neither permitted nor denied by " + who
	case TempError:
		s = "temporary error checking " + who
	case PermError:
		s = "permanent error in the SPF record of " + who
	default:
		s = who + " does not publish an SPF policy"
	}
	if o.Receiver != "" {
		s = o.Receiver + ": " + s
	}
	return commentText(s)
}

// commentText makes s safe inside a comment: '(', ')' and '\' are quoted
// (RFC 5322 §3.2.2 quoted-pair), other characters outside printable
// US-ASCII become '?'.
func commentText(s string) string {
	s = clip(s, 4*maxHeaderValue)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerValue returns v as a dot-atom if it is one, else as a
// quoted-string (RFC 5322 §3.2.3, §3.2.4).
func headerValue(v string) string {
	v = clip(v, maxHeaderValue)
	if isDotAtom(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// isDotAtom reports whether s is a dot-atom-text (RFC 5322 §3.2.3).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' || isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// problem describes err for the problem key, without the resolver's own
// error, which names the DNS server the receiver uses.
func problem(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	s := string(e.Result)
	if e.Domain != "" {
		s += " for " + e.Domain
	}
	if e.Term != "" {
		s += " at " + e.Term
	}
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "spf: ")
}
