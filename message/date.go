package message

import (
	"fmt"
	"strings"
	"time"
)

// DateError is a date that could not be parsed.
type DateError struct {
	Date string // the input
	Msg  string // what was wrong
}

func (e *DateError) Error() string {
	return fmt.Sprintf("message: bad date %q: %s", e.Date, e.Msg)
}

// DateLayout is the layout FormatDate uses (RFC 5322 §3.3).
const DateLayout = "Mon, 2 Jan 2006 15:04:05 -0700"

// FormatDate formats t as an RFC 5322 §3.3 date-time, such as
// "Fri, 21 Nov 1997 09:55:06 -0600". A time whose location is named "-0000"
// (as ParseDate returns for a date without usable zone information, RFC 5322
// §3.3) is written with the zone -0000.
func FormatDate(t time.Time) string {
	if t.Location().String() == "-0000" {
		return t.Format("Mon, 2 Jan 2006 15:04:05") + " -0000"
	}
	return t.Format(DateLayout)
}

// unknownZone is the location of times whose zone carries no information:
// RFC 5322 §3.3 "-0000", and the obsolete military zones that §4.3 says to
// treat as "-0000".
var unknownZone = time.FixedZone("-0000", 0)

var obsZones = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
	"MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDate parses an RFC 5322 date-time (§3.3) and its obsolete forms
// (§4.3): a missing day of the week or seconds, two- and three-digit years
// (a two-digit year below 50 is in the 2000s, otherwise the 1900s; three
// digits add 1900), alphabetic zones UT, GMT, EST, EDT, CST, CDT, MST, MDT,
// PST and PDT, military single letters in either case (all taken as -0000,
// and so is J, which the grammar leaves out), comments and white space
// anywhere. It also reads a time written as four digits without a
// colon ("26 Aug 76 1429 EDT"), which old mail has, asctime-style dates
// ("Fri Nov 21 09:55:06 1997") and zones written "+02:00". A missing or
// unrecognised zone gives the -0000 location (see FormatDate). The day of the
// week is not checked against the date.
func ParseDate(s string) (time.Time, error) {
	p := dateParser{addrParser: addrParser{s: s}}
	t, err := p.parse()
	if err != nil {
		return time.Time{}, &DateError{Date: s, Msg: err.Error()}
	}
	return t, nil
}

type dateParser struct {
	addrParser
}

// token returns the next run of letters, or of digits, after CFWS.
func (p *dateParser) token() string {
	p.skipCFWS()
	start := p.i
	if p.end() {
		return ""
	}
	c := p.s[p.i]
	switch {
	case isDigit(c):
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	case isAlpha(c):
		for p.i < len(p.s) && isAlpha(p.s[p.i]) {
			p.i++
		}
	default:
		p.i++
	}
	return p.s[start:p.i]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// atoi reads the digits of s, of which callers pass at most nine.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func nameIndex(tok string, names []string) int {
	if len(tok) < 3 {
		return -1
	}
	l := strings.ToLower(tok)
	for i, n := range names {
		if strings.HasPrefix(l, n) {
			return i
		}
	}
	return -1
}

func (p *dateParser) parse() (time.Time, error) {
	tok := p.token()
	asctime := false
	if tok != "" && isAlpha(tok[0]) {
		if nameIndex(tok, weekdays[:]) < 0 {
			return time.Time{}, fmt.Errorf("unknown day of week %q", tok)
		}
		p.skipCFWS()
		if !p.end() && p.peek() == ',' {
			p.i++
		}
		tok = p.token()
		if tok != "" && isAlpha(tok[0]) {
			asctime = true // "Fri Nov 21 09:55:06 1997"
		}
	}
	var day, month, year int
	var yearTok string
	var err error
	if asctime {
		month = nameIndex(tok, months[:])
		if month < 0 {
			return time.Time{}, fmt.Errorf("unknown month %q", tok)
		}
		tok = p.token()
		if tok == "" || !isDigit(tok[0]) || len(tok) > 2 {
			return time.Time{}, fmt.Errorf("bad day %q", tok)
		}
		day = atoi(tok)
	} else {
		if tok == "" || !isDigit(tok[0]) || len(tok) > 2 {
			return time.Time{}, fmt.Errorf("bad day %q", tok)
		}
		day = atoi(tok)
		tok = p.token()
		if tok == "-" { // "21-Nov-97", seen in old mail
			tok = p.token()
		}
		month = nameIndex(tok, months[:])
		if month < 0 {
			return time.Time{}, fmt.Errorf("unknown month %q", tok)
		}
		tok = p.token()
		if tok == "-" {
			tok = p.token()
		}
		yearTok = tok
	}
	if !asctime {
		if yearTok == "" || !isDigit(yearTok[0]) {
			return time.Time{}, fmt.Errorf("bad year %q", yearTok)
		}
		if year, err = fixYear(yearTok); err != nil {
			return time.Time{}, err
		}
	}
	// Time: hour ":" minute [":" second], or obsolete "hhmm".
	var hour, min, sec int
	tok = p.token()
	if tok == "" || !isDigit(tok[0]) {
		return time.Time{}, fmt.Errorf("missing time")
	}
	switch {
	case len(tok) == 4 && !p.nextIs(':'):
		hour, min = atoi(tok[:2]), atoi(tok[2:])
	case len(tok) <= 2:
		hour = atoi(tok)
		if !p.nextIs(':') {
			return time.Time{}, fmt.Errorf("bad time")
		}
		p.skipCFWS()
		p.i++
		tok = p.token()
		if tok == "" || !isDigit(tok[0]) || len(tok) > 2 {
			return time.Time{}, fmt.Errorf("bad minute %q", tok)
		}
		min = atoi(tok)
		if p.nextIs(':') {
			p.skipCFWS()
			p.i++
			tok = p.token()
			if tok == "" || !isDigit(tok[0]) || len(tok) > 2 {
				return time.Time{}, fmt.Errorf("bad second %q", tok)
			}
			sec = atoi(tok)
		}
	default:
		return time.Time{}, fmt.Errorf("bad time %q", tok)
	}
	if hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("time out of range")
	}
	if sec == 60 {
		sec = 59 // leap second (RFC 5322 §3.3); time.Time has none
	}
	if asctime {
		tok = p.token()
		if tok == "" || !isDigit(tok[0]) {
			// asctime puts the year last, zone (if any) before it.
			loc, err := p.zone(tok)
			if err != nil {
				return time.Time{}, err
			}
			tok = p.token()
			if tok == "" || !isDigit(tok[0]) {
				return time.Time{}, fmt.Errorf("bad year %q", tok)
			}
			if year, err = fixYear(tok); err != nil {
				return time.Time{}, err
			}
			return p.finish(year, month, day, hour, min, sec, loc)
		}
		if year, err = fixYear(tok); err != nil {
			return time.Time{}, err
		}
	}
	loc, err := p.zone(p.token())
	if err != nil {
		return time.Time{}, err
	}
	return p.finish(year, month, day, hour, min, sec, loc)
}

func (p *dateParser) finish(year, month, day, hour, min, sec int, loc *time.Location) (time.Time, error) {
	p.skipCFWS()
	if !p.end() {
		return time.Time{}, fmt.Errorf("unexpected text %q", p.s[p.i:])
	}
	if day < 1 || day > daysIn(time.Month(month+1), year) {
		return time.Time{}, fmt.Errorf("day out of range")
	}
	return time.Date(year, time.Month(month+1), day, hour, min, sec, 0, loc), nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (p *dateParser) nextIs(c byte) bool {
	save := p.i
	p.skipCFWS()
	ok := !p.end() && p.peek() == c
	p.i = save
	return ok
}

// maxYearDigits bounds the digits of a year (leading zeros aside): more
// than atoi reads exactly is refused, never truncated.
const maxYearDigits = 9

// fixYear applies RFC 5322 §4.3 to a year. RFC 5322 §3.3 gives a year no
// upper bound; one of more than maxYearDigits significant digits is an
// error rather than a different year.
func fixYear(tok string) (int, error) {
	if len(strings.TrimLeft(tok, "0")) > maxYearDigits {
		return 0, fmt.Errorf("year %q has more than %d digits", tok, maxYearDigits)
	}
	y := atoi(strings.TrimLeft(tok, "0"))
	switch len(tok) {
	case 1, 2:
		if y < 50 {
			return 2000 + y, nil
		}
		return 1900 + y, nil
	case 3:
		return 1900 + y, nil
	}
	return y, nil
}

// zone parses the zone, given its first token.
func (p *dateParser) zone(tok string) (*time.Location, error) {
	switch {
	case tok == "":
		return unknownZone, nil // RFC 5322 requires a zone; old mail omits it
	case tok == "+" || tok == "-":
		d := p.token()
		if len(d) == 2 && isDigit(d[0]) && p.i+2 < len(p.s) && p.s[p.i] == ':' {
			// "+02:00", as some software writes (ISO 8601 style).
			p.i++
			d += p.token()
		}
		if len(d) != 4 || !isDigit(d[0]) {
			return nil, fmt.Errorf("bad zone %q", tok+d)
		}
		hh, mm := atoi(d[:2]), atoi(d[2:])
		if mm > 59 {
			return nil, fmt.Errorf("bad zone %q", tok+d)
		}
		off := (hh*60 + mm) * 60
		if tok == "-" {
			if off == 0 {
				return unknownZone, nil
			}
			off = -off
		}
		if off == 0 {
			return time.UTC, nil
		}
		return time.FixedZone("", off), nil
	case isAlpha(tok[0]):
		u := strings.ToUpper(tok)
		if h, ok := obsZones[u]; ok {
			if h == 0 {
				return time.UTC, nil
			}
			return time.FixedZone(u, h*3600), nil
		}
		if len(u) == 1 {
			// RFC 5322 §4.3: military zones were defined wrongly in
			// RFC 822, so they "SHOULD all be considered equivalent to
			// -0000", Z included. obs-zone leaves out J, the military
			// letter for the observer's local time; it is read as -0000
			// too, as §4.3 asks for any zone name whose meaning is not
			// known, and -0000 is what local time of an unstated zone
			// means (§3.3).
			return unknownZone, nil
		}
		// An unrecognised name ("CEST", "MET DST"): no usable information.
		for {
			save := p.i
			t := p.token()
			if t == "" || !isAlpha(t[0]) {
				p.i = save
				break
			}
		}
		return unknownZone, nil
	}
	return nil, fmt.Errorf("bad zone %q", tok)
}
