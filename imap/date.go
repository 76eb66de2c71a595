package imap

import (
	"strconv"
	"time"
)

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// FormatDateTime formats t as an IMAP date-time without the quotes (RFC
// 3501 §9): "17-Jul-1996 02:44:25 -0700", the day padded with a space to two
// characters (date-day-fixed), in t's own zone.
func FormatDateTime(t time.Time) string {
	b := make([]byte, 0, 26)
	d := t.Day()
	if d < 10 {
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, '-')
	b = append(b, monthNames[t.Month()-1]...)
	b = append(b, '-')
	b = appendPad(b, t.Year(), 4)
	b = append(b, ' ')
	b = appendPad(b, t.Hour(), 2)
	b = append(b, ':')
	b = appendPad(b, t.Minute(), 2)
	b = append(b, ':')
	b = appendPad(b, t.Second(), 2)
	b = append(b, ' ')
	_, off := t.Zone()
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	off /= 60
	b = appendPad(b, off/60, 2)
	b = appendPad(b, off%60, 2)
	return string(b)
}

// FormatDate formats the date of t as an IMAP date (RFC 3501 §9 date-text),
// "1-Feb-1994", as SEARCH's BEFORE, ON, SINCE and SENT* keys take it.
func FormatDate(t time.Time) string {
	return strconv.Itoa(t.Day()) + "-" + monthNames[t.Month()-1] + "-" + string(appendPad(nil, t.Year(), 4))
}

func appendPad(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// ParseDateTime parses an IMAP date-time without its quotes (RFC 3501 §9):
// "dd-Mon-yyyy hh:mm:ss +zzzz", the day one or two digits, or two with a
// leading space. Month names are matched without regard to case.
func ParseDateTime(s string) (time.Time, error) {
	p := dateParser{s: s}
	if len(s) > 0 && s[0] == ' ' {
		p.i++
	}
	day, mon, year, ok := p.date()
	if !ok || !p.byte(' ') {
		return time.Time{}, p.err("date-time")
	}
	h, ok1 := p.digits(2, 2)
	m, ok2 := p.colonDigits()
	sec, ok3 := p.colonDigits()
	if !ok1 || !ok2 || !ok3 || !p.byte(' ') || h > 23 || m > 59 || sec > 60 {
		return time.Time{}, p.err("date-time")
	}
	if p.i >= len(s) || s[p.i] != '+' && s[p.i] != '-' {
		return time.Time{}, p.err("date-time")
	}
	neg := s[p.i] == '-'
	p.i++
	z, ok := p.digits(4, 4)
	if !ok || p.i != len(s) || z%100 > 59 {
		return time.Time{}, p.err("date-time")
	}
	off := (z/100*60 + z%100) * 60
	if neg {
		off = -off
	}
	loc := time.FixedZone("", off)
	if off == 0 {
		loc = time.UTC
	}
	t := time.Date(year, mon, day, h, m, min(sec, 59), 0, loc)
	if t.Day() != day {
		return time.Time{}, p.err("date-time")
	}
	if sec == 60 { // a leap second (RFC 3501 §9 time allows 60)
		t = t.Add(time.Second)
	}
	return t, nil
}

// ParseDate parses an IMAP date (RFC 3501 §9 date-text), "1-Feb-1994",
// returning midnight UTC of that day.
func ParseDate(s string) (time.Time, error) {
	p := dateParser{s: s}
	day, mon, year, ok := p.date()
	if !ok || p.i != len(s) {
		return time.Time{}, p.err("date")
	}
	t := time.Date(year, mon, day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, p.err("date")
	}
	return t, nil
}

type dateParser struct {
	s string
	i int
}

func (p *dateParser) err(what string) error {
	return &SyntaxError{What: what, Input: p.s, Msg: "expected dd-Mon-yyyy" + map[bool]string{true: " hh:mm:ss +zzzz", false: ""}[what == "date-time"]}
}

func (p *dateParser) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dateParser) digits(minN, maxN int) (int, bool) {
	n, start := 0, p.i
	for p.i < len(p.s) && p.i-start < maxN && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		n = n*10 + int(p.s[p.i]-'0')
		p.i++
	}
	return n, p.i-start >= minN
}

func (p *dateParser) colonDigits() (int, bool) {
	if !p.byte(':') {
		return 0, false
	}
	return p.digits(2, 2)
}

func (p *dateParser) date() (day int, mon time.Month, year int, ok bool) {
	day, ok = p.digits(1, 2)
	if !ok || day < 1 || !p.byte('-') || p.i+3 > len(p.s) {
		return 0, 0, 0, false
	}
	name := p.s[p.i : p.i+3]
	for i, m := range monthNames {
		if len(name) == 3 && (name[0]|0x20) == (m[0]|0x20) && (name[1]|0x20) == m[1] && (name[2]|0x20) == m[2] {
			mon = time.Month(i + 1)
		}
	}
	p.i += 3
	if mon == 0 || !p.byte('-') {
		return 0, 0, 0, false
	}
	year, ok = p.digits(4, 4)
	return day, mon, year, ok
}
