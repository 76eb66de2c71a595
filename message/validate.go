package message

import (
	"strings"
)

// Problem is one way a header fails RFC 5322, as reported by Validate.
type Problem struct {
	Field string // the field concerned, or "" for the header as a whole
	Msg   string
}

func (p Problem) Error() string {
	if p.Field == "" {
		return "message: " + p.Msg
	}
	return "message: " + p.Field + ": " + p.Msg
}

// onceFields may appear at most once (RFC 5322 §3.6, the table at the end of
// the section).
var onceFields = []string{
	"Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID",
	"In-Reply-To", "References", "Subject",
}

// Validate checks a header against RFC 5322 §3.6 and returns every problem
// found (none for a valid header). Reading a header never rejects it for
// these; validation is a separate step for those who want it, such as a
// submission server (RFC 6409 §8).
//
// It checks that Date and From appear exactly once and parse; that each
// resent block has its Resent-Date and Resent-From (§3.6.6); that the
// fields allowed once appear at most once; that Sender is present, and a
// single address (a group in it holding at most one mailbox), when From has
// more than one mailbox, group members included (RFC 5322 §3.6.2 as RFC 6854
// §2.1 replaces it); that address fields, Message-ID, In-Reply-To and
// References parse; that no line is longer than 998 characters (§2.1.1);
// and it reports the defects found when the header was read.
func Validate(h *Header) []Problem {
	var ps []Problem
	add := func(field, msg string) { ps = append(ps, Problem{field, msg}) }
	for _, d := range h.Defects() {
		add("", d.String())
	}
	for _, name := range onceFields {
		if n := h.Count(name); n > 1 {
			add(name, "appears "+itoa(n)+" times; allowed once")
		}
	}
	if !h.Has("Date") {
		add("Date", "missing")
	} else if _, err := ParseDate(h.Get("Date")); err != nil {
		add("Date", err.Error())
	}
	if !h.Has("From") {
		add("From", "missing")
	}
	for _, name := range addressFields {
		for _, v := range h.Values(name) {
			list, err := ParseAddressList(v)
			if err != nil {
				add(name, err.Error())
				continue
			}
			switch {
			case equalFoldString(name, "From"):
				if len(list) == 0 {
					add(name, "empty")
				}
				// RFC 6854 §2.1: counting the members of groups; a
				// group alone ("Undisclosed:;", its §4 example) needs
				// no Sender.
				if len(Mailboxes(list)) > 1 && !h.Has("Sender") {
					add("Sender", "required when From has more than one mailbox")
				}
			case equalFoldString(name, "Sender"):
				if len(list) != 1 || list[0].IsGroup && len(list[0].Members) > 1 {
					add(name, "must be a single mailbox")
				}
			case strings.EqualFold(name, "Bcc"):
				// Bcc may be empty (§3.6.3).
			default:
				if len(list) == 0 {
					add(name, "empty address list")
				}
			}
		}
	}
	// RFC 5322 §3.6.6: each resent block has a Resent-Date and a
	// Resent-From (and a Resent-Sender if that has several mailboxes).
	resent := 0
	for name := range h.All() {
		if len(name) > 7 && equalFoldString(name[:7], "Resent-") {
			resent++
		}
	}
	if resent > 0 {
		dates, froms := h.Count("Resent-Date"), h.Count("Resent-From")
		if dates == 0 {
			add("Resent-Date", "missing from a resent block")
		}
		if froms == 0 {
			add("Resent-From", "missing from a resent block")
		}
		if dates != froms && dates > 0 && froms > 0 {
			add("Resent-From", "resent blocks with "+itoa(dates)+" Resent-Date and "+itoa(froms)+" Resent-From fields")
		}
		for _, v := range h.Values("Resent-Date") {
			if _, err := ParseDate(v); err != nil {
				add("Resent-Date", err.Error())
			}
		}
		senders := h.Count("Resent-Sender")
		for _, v := range h.Values("Resent-From") {
			if list, err := ParseAddressList(v); err == nil && len(Mailboxes(list)) > 1 && senders == 0 {
				add("Resent-Sender", "required when Resent-From has more than one mailbox")
			}
		}
	}
	for _, name := range []string{"Message-ID", "Resent-Message-ID"} {
		for _, v := range h.Values(name) {
			if _, err := ParseMessageID(v); err != nil {
				add(name, err.Error())
			}
		}
	}
	for _, name := range []string{"In-Reply-To", "References"} {
		for _, v := range h.Values(name) {
			if len(ParseMessageIDList(v)) == 0 {
				add(name, "no message ID")
			}
		}
	}
	for i := range h.f {
		f := &h.f[i]
		if f.add > 0 {
			continue
		}
		for _, line := range strings.Split(string(h.buf[f.start:f.end]), "\n") {
			if len(strings.TrimSuffix(line, "\r")) > MaxLineLength {
				add(string(h.rawName(f)), "line longer than 998 characters")
				break
			}
		}
	}
	return ps
}

// Recipients returns the envelope recipients of a message about to be sent:
// the addr-specs of the mailboxes in all To, Cc and Bcc fields (RFC 5322
// §3.6.3), group members included, without duplicates (compared without
// regard to case), in order of appearance.
func Recipients(h *Header) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, name := range []string{"To", "Cc", "Bcc"} {
		for _, v := range h.Values(name) {
			list, err := ParseAddressList(v)
			if err != nil {
				return nil, Problem{Field: name, Msg: err.Error()}
			}
			for _, m := range Mailboxes(list) {
				k := strings.ToLower(m.Addr)
				if !seen[k] {
					seen[k] = true
					out = append(out, m.Addr)
				}
			}
		}
	}
	return out, nil
}

// StripBcc removes the Bcc and Resent-Bcc fields, as the header must be
// before it is transmitted (RFC 5322 §3.6.3: the first of the ways Bcc may be
// handled; the recipients must have been collected first, see Recipients).
func StripBcc(h *Header) {
	h.Del("Bcc")
	h.Del("Resent-Bcc")
}
