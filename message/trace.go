package message

import (
	"fmt"
	"strings"
	"time"
)

// Received is a parsed Received trace field (RFC 5322 §3.6.7, with the
// clauses of RFC 5321 §4.4).
type Received struct {
	From        string // the FROM clause: the domain the client gave
	FromComment string // the comment after it, usually TCP-info: "(host [192.0.2.1])"
	By          string // the BY clause: the receiving host
	ByComment   string
	Via         string // link type, rarely used
	With        string // protocol: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, ...
	ID          string // the receiver's ID for the message
	For         string // the recipient, without angle brackets
	Date        time.Time
	// Other holds words that belong to no known clause, so that nothing
	// read is lost.
	Other []string
}

// ParseReceived parses a Received field value. The clauses may come in any
// order and each is optional; the date after the last ";" is required by RFC
// 5322 but tolerated missing (Date is then zero and the error reports it,
// with the clauses still filled in).
func ParseReceived(s string) (*Received, error) {
	r := new(Received)
	tokens := s
	var err error
	if i := lastSemicolon(s); i >= 0 {
		tokens = s[:i]
		r.Date, err = ParseDate(s[i+1:])
	} else {
		err = fmt.Errorf("message: Received field without a date")
	}
	p := addrParser{s: tokens}
	var lastCom *string // where a comment after the last value goes
	for {
		p.comment = ""
		before := p.i
		p.skipCFWS()
		if p.comment != "" && lastCom != nil && *lastCom == "" {
			*lastCom = "(" + p.comment + ")"
			if com := strings.Index(p.s[before:p.i], "("); com >= 0 {
				// The whole text of the (possibly nested) comment.
				end := strings.LastIndexByte(p.s[before:p.i], ')')
				if end > com {
					*lastCom = p.s[before+com : before+end+1]
				}
			}
		}
		if p.end() {
			break
		}
		w := p.receivedWord()
		if w == "" {
			p.i++
			continue
		}
		var dst, com *string
		switch strings.ToLower(w) {
		case "from":
			dst, com = &r.From, &r.FromComment
		case "by":
			dst, com = &r.By, &r.ByComment
		case "via":
			dst = &r.Via
		case "with":
			dst = &r.With
		case "id":
			dst = &r.ID
		case "for":
			dst = &r.For
		}
		if dst == nil || *dst != "" {
			r.Other = append(r.Other, w)
			lastCom = nil
			continue
		}
		p.skipCFWS()
		v := p.receivedWord()
		if v == "" {
			r.Other = append(r.Other, w)
			continue
		}
		if dst == &r.For || dst == &r.ID {
			v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		}
		*dst = v
		lastCom = com
	}
	return r, err
}

// lastSemicolon returns the index of the last ";" of s outside comments and
// quoted strings (a comment after the date may hold one), or -1.
func lastSemicolon(s string) int {
	last, depth, quoted := -1, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case quoted:
			quoted = c != '"'
		case c == '"' && depth == 0:
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ';' && depth == 0:
			last = i
		}
	}
	if last < 0 {
		// Unbalanced text: fall back to the plain last ";".
		last = strings.LastIndexByte(s, ';')
	}
	return last
}

// receivedWord reads an atom-like word, an angle-bracketed path or a domain
// literal.
func (p *addrParser) receivedWord() string {
	start := p.i
	if p.end() {
		return ""
	}
	switch p.peek() {
	case '<', '[':
		// Up to the closing bracket, within the word.
		closing := byte('>')
		if p.peek() == '[' {
			closing = ']'
		}
		for k := p.i + 1; k < len(p.s) && !isWSPorNL(p.s[k]); k++ {
			if p.s[k] == closing {
				p.i = k + 1
				return p.s[start:p.i]
			}
		}
	case '"':
		if _, err := p.quotedString(); err == nil {
			return p.s[start:p.i]
		}
		p.i = start
	}
	for p.i < len(p.s) && !isWSPorNL(p.s[p.i]) && p.s[p.i] != '(' && p.s[p.i] != ';' {
		p.i++
	}
	return p.s[start:p.i]
}

// String formats the Received field value, clauses in RFC 5321 §4.4 order.
func (r *Received) String() string {
	var b strings.Builder
	add := func(kw, v, com string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kw)
		b.WriteByte(' ')
		b.WriteString(v)
		if com != "" {
			b.WriteByte(' ')
			b.WriteString(com)
		}
	}
	add("from", r.From, r.FromComment)
	add("by", r.By, r.ByComment)
	add("via", r.Via, "")
	add("with", r.With, "")
	add("id", r.ID, "")
	if r.For != "" {
		add("for", "<"+r.For+">", "")
	}
	b.WriteString("; ")
	d := r.Date
	if d.IsZero() {
		d = time.Now()
	}
	b.WriteString(FormatDate(d))
	return b.String()
}

// ParseReturnPath parses a Return-Path value (RFC 5322 §3.6.7, RFC 5321
// §4.4): an angle-bracketed address, or "<>" for the null reverse-path, which
// gives "". A source route is removed.
func ParseReturnPath(s string) (string, error) {
	p := addrParser{s: s}
	p.skipCFWS()
	if p.end() {
		return "", &AddressError{Offset: 0, Msg: "empty Return-Path"}
	}
	if p.peek() == '<' {
		save := p.i
		p.i++
		p.skipCFWS()
		if !p.end() && p.peek() == '>' {
			p.i++
			p.skipCFWS()
			if !p.end() {
				return "", p.errorf("unexpected text after <>")
			}
			return "", nil
		}
		p.i = save
		addr, err := p.angleAddr()
		if err != nil {
			return "", err
		}
		p.skipCFWS()
		if !p.end() {
			return "", p.errorf("unexpected text after path")
		}
		return addr, nil
	}
	// Without brackets, as some software writes it.
	a, err := ParseAddress(s)
	if err != nil {
		return "", err
	}
	if a.IsGroup {
		return "", &AddressError{Msg: "group in Return-Path"}
	}
	return a.Addr, nil
}

// FormatReturnPath formats a Return-Path value; "" gives the null path "<>".
func FormatReturnPath(addr string) string {
	if addr == "" {
		return "<>"
	}
	return "<" + string(appendAddrSpec(nil, addr)) + ">"
}
