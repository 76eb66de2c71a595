package dmarc

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Policy is a disposition requested by a Domain Owner: the values of the
// p, sp and np tags (RFC 7489 §6.3, RFC 9091 §4.1).
type Policy string

// The policies.
const (
	PolicyNone       Policy = "none"       // no specific action
	PolicyQuarantine Policy = "quarantine" // treat as suspicious
	PolicyReject     Policy = "reject"     // reject, during the SMTP transaction
)

// AlignMode is an identifier alignment mode (RFC 7489 §3.1): the values
// of the adkim and aspf tags.
type AlignMode string

// The alignment modes.
const (
	Relaxed AlignMode = "r" // same Organizational Domain
	Strict  AlignMode = "s" // same domain
)

// Record defaults (RFC 7489 §6.3).
const (
	DefaultPercent        = 100
	DefaultReportInterval = 86400 // seconds
)

// Record is a DMARC policy record (RFC 7489 §6.3, §6.4), published as TXT
// at _dmarc.<domain>. ParseRecord fills in the defaults of absent tags.
type Record struct {
	// Policy is p=, for the domain queried and its subdomains.
	Policy Policy
	// PolicyImplied is set when the record had no valid p= (or an
	// invalid sp=) but had a valid rua=, so that Policy is none as RFC
	// 7489 §6.6.3 step 6 asks.
	PolicyImplied bool
	// SubdomainPolicy is sp=, for subdomains of the domain queried;
	// empty when absent, when Policy applies to them.
	SubdomainPolicy Policy
	// NonexistentPolicy is np= (RFC 9091 §4.1), for subdomains that do
	// not exist in the DNS; empty when absent, when SubdomainPolicy (or
	// Policy) applies to them.
	NonexistentPolicy Policy
	// DKIMAlignment (adkim=) and SPFAlignment (aspf=); Relaxed when
	// absent. An empty value counts as Relaxed.
	DKIMAlignment, SPFAlignment AlignMode
	// Percent is pct=, the share of failing messages the policy is to
	// be applied to, 0 to 100; DefaultPercent when absent.
	Percent int
	// AggregateURIs (rua=) and FailureURIs (ruf=) are where reports are
	// to be sent. Syntactically invalid URIs are left out.
	AggregateURIs, FailureURIs []URI
	// FailureOptions is fo=: "0", "1", "d", "s"; ["0"] when absent.
	FailureOptions []string
	// ReportFormats is rf=; ["afrf"] when absent.
	ReportFormats []string
	// ReportInterval is ri=, in seconds; DefaultReportInterval when
	// absent.
	ReportInterval uint32
}

// URI is a DMARC reporting URI (RFC 7489 §6.2): an absolute URI, with
// an optional maximum report size.
type URI struct {
	URI string
	// MaxSize is the size limit in bytes given after "!"; 0 for none.
	MaxSize uint64
}

// String returns the URI as written in a record, the size in the largest
// unit (k, m, g, t, powers of two) that divides it.
func (u URI) String() string {
	if u.MaxSize == 0 {
		return u.URI
	}
	n, unit := u.MaxSize, ""
	for _, s := range []string{"k", "m", "g", "t"} {
		if n%1024 != 0 {
			break
		}
		n /= 1024
		unit = s
	}
	return u.URI + "!" + strconv.FormatUint(n, 10) + unit
}

// Sentinel errors, found wrapped in a *SyntaxError or an *Error.
var (
	// ErrNotDMARC: the text does not start with "v=DMARC1" and is not
	// a DMARC record at all (RFC 7489 §6.3, §6.6.3 steps 2 and 4).
	ErrNotDMARC = errors.New("dmarc: not a DMARC record")
	// ErrNoPolicy: the record has no valid p= (or an invalid sp=) and
	// no valid rua=, so no DMARC processing applies (RFC 7489 §6.6.3
	// step 6).
	ErrNoPolicy = errors.New("dmarc: record without a valid policy")
)

// SyntaxError reports a malformed DMARC record: the tag concerned, the
// byte offset in the record and what is wrong.
type SyntaxError struct {
	Tag    string // "" when the problem is not in one tag
	Offset int
	Msg    string
	Err    error // ErrNotDMARC, ErrNoPolicy or nil
}

func (e *SyntaxError) Error() string {
	if e.Tag != "" {
		return fmt.Sprintf("dmarc: record: tag %q at offset %d: %s", e.Tag, e.Offset, e.Msg)
	}
	return fmt.Sprintf("dmarc: record: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// IsRecord reports whether txt starts with the version tag "v=DMARC1"
// (RFC 7489 §6.3: white space allowed around "=", the value exact),
// followed by ';' or the end. Other TXT records at _dmarc names are
// ignored by discovery.
func IsRecord(txt string) bool {
	s := strings.TrimLeft(txt, " \t")
	if s == "" || lower(s[0]) != 'v' {
		return false
	}
	s = strings.TrimLeft(s[1:], " \t")
	if !strings.HasPrefix(s, "=") {
		return false
	}
	s = strings.TrimLeft(s[1:], " \t")
	if !strings.HasPrefix(s, "DMARC1") {
		return false
	}
	s = strings.TrimLeft(s[len("DMARC1"):], " \t")
	return s == "" || s[0] == ';'
}

// ParseRecord parses a DMARC record (RFC 7489 §6.4).
//
// Text that does not start with "v=DMARC1" is ErrNotDMARC. A record
// without a valid p= (or with an invalid sp=) is ErrNoPolicy, unless it
// has a valid rua=: the Record then has Policy none and PolicyImplied
// set (§6.6.3 step 6). Unknown tags are ignored (§6.3).
//
// Other syntax errors (a bad value of a known tag, a repeated tag, a p=
// that does not follow v=, a tag-spec without '=') return both a Record,
// with the default in place of what was wrong as RFC 7489 §6.3 asks, and
// a *SyntaxError for the first of them: the record is usable. Only when
// the Record is nil is the error fatal. All errors are *SyntaxError.
func ParseRecord(txt string) (*Record, error) {
	rec := &Record{
		DKIMAlignment:  Relaxed,
		SPFAlignment:   Relaxed,
		Percent:        DefaultPercent,
		FailureOptions: []string{"0"},
		ReportFormats:  []string{"afrf"},
		ReportInterval: DefaultReportInterval,
	}
	var first error // the first non-fatal error
	note := func(e *SyntaxError) {
		if first == nil {
			first = e
		}
	}
	var policyErr *SyntaxError // p= or sp= missing or invalid
	seen := map[string]bool{}
	off := 0
	index := 0
	for spec := range strings.SplitSeq(txt, ";") {
		specOff := off
		off += len(spec) + 1
		trimmed := strings.Trim(spec, " \t")
		if trimmed == "" {
			if index == 0 {
				return nil, &SyntaxError{Offset: 0, Msg: "missing v=DMARC1", Err: ErrNotDMARC}
			}
			continue // an empty tag-spec, as after a final ';'
		}
		specOff += strings.Index(spec, trimmed)
		eq := strings.IndexByte(trimmed, '=')
		if eq < 0 {
			if index == 0 {
				return nil, &SyntaxError{Offset: specOff, Msg: "missing v=DMARC1", Err: ErrNotDMARC}
			}
			note(&SyntaxError{Offset: specOff, Msg: "tag-spec without '='"})
			index++
			continue
		}
		name := strings.ToLower(strings.TrimRight(trimmed[:eq], " \t"))
		value := strings.TrimLeft(trimmed[eq+1:], " \t")
		valOff := specOff + len(trimmed) - len(value)
		bad := func(format string, args ...any) *SyntaxError {
			return &SyntaxError{Tag: name, Offset: valOff, Msg: fmt.Sprintf(format, args...)}
		}
		if index == 0 {
			// RFC 7489 §6.3: v must come first and match exactly.
			if name != "v" || value != "DMARC1" {
				return nil, &SyntaxError{Tag: name, Offset: specOff, Msg: "record does not start with v=DMARC1", Err: ErrNotDMARC}
			}
			index++
			seen["v"] = true
			continue
		}
		index++
		if !isTagName(name) {
			note(&SyntaxError{Offset: specOff, Msg: fmt.Sprintf("invalid tag name %q", name)})
			continue
		}
		if seen[name] {
			note(bad("repeated tag"))
			continue
		}
		seen[name] = true
		switch name {
		case "v":
			note(bad("v= must be the first tag only"))
		case "p":
			if index != 2 {
				note(bad("p= must follow v="))
			}
			p, ok := parsePolicy(value)
			if !ok {
				policyErr = bad("invalid policy %q", value)
				continue
			}
			rec.Policy = p
		case "sp":
			p, ok := parsePolicy(value)
			if !ok {
				policyErr = bad("invalid policy %q", value)
				continue
			}
			rec.SubdomainPolicy = p
		case "np":
			// RFC 9091 §4.1: the same values as p.
			p, ok := parsePolicy(value)
			if !ok {
				note(bad("invalid policy %q", value))
				continue
			}
			rec.NonexistentPolicy = p
		case "adkim", "aspf":
			m, ok := parseAlign(value)
			if !ok {
				note(bad("invalid alignment mode %q", value))
				continue
			}
			if name == "adkim" {
				rec.DKIMAlignment = m
			} else {
				rec.SPFAlignment = m
			}
		case "pct":
			n, err := strconv.Atoi(value)
			if err != nil || len(value) > 3 || !allDigits(value) || n > 100 {
				note(bad("pct must be an integer from 0 to 100, not %q", value))
				continue
			}
			rec.Percent = n
		case "ri":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil || !allDigits(value) {
				note(bad("ri must be a 32-bit unsigned integer, not %q", value))
				continue
			}
			rec.ReportInterval = uint32(n)
		case "fo":
			opts, ok := parseList(strings.ToLower(value), func(s string) bool { return s == "0" || s == "1" || s == "d" || s == "s" })
			if !ok {
				note(bad("invalid failure reporting options %q", value))
				continue
			}
			rec.FailureOptions = opts
		case "rf":
			// Only afrf is registered (RFC 7489 §6.3, §11.5).
			formats, ok := parseList(value, func(s string) bool { return strings.EqualFold(s, "afrf") })
			if !ok {
				note(bad("unsupported report format %q", value))
				continue
			}
			for i := range formats {
				formats[i] = strings.ToLower(formats[i])
			}
			rec.ReportFormats = formats
		case "rua", "ruf":
			uris, err := parseURIs(value)
			if err != "" {
				note(bad("%s", err))
			}
			if name == "rua" {
				rec.AggregateURIs = uris
			} else {
				rec.FailureURIs = uris
			}
		default:
			// RFC 7489 §6.3: unknown tags MUST be ignored.
		}
	}
	if index == 0 {
		return nil, &SyntaxError{Msg: "missing v=DMARC1", Err: ErrNotDMARC}
	}
	missing := false
	if policyErr == nil && rec.Policy == "" {
		missing = true
		policyErr = &SyntaxError{Tag: "p", Offset: len(txt), Msg: "missing p="}
	}
	if policyErr != nil {
		if len(rec.AggregateURIs) == 0 {
			policyErr.Err = ErrNoPolicy
			return nil, policyErr
		}
		// RFC 7489 §6.6.3 step 6.1: act as if p=none was given.
		rec.Policy = PolicyNone
		rec.SubdomainPolicy = ""
		rec.PolicyImplied = true
		if !missing {
			note(policyErr)
		}
	}
	return rec, first
}

// String returns the record in the form of RFC 7489 §6.4: v and p first,
// then the tags whose values differ from the defaults.
func (r *Record) String() string {
	var b strings.Builder
	b.WriteString("v=DMARC1; p=")
	p := r.Policy
	if p == "" {
		p = PolicyNone
	}
	b.WriteString(string(p))
	tag := func(name, value string) {
		b.WriteString("; ")
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
	}
	if r.SubdomainPolicy != "" {
		tag("sp", string(r.SubdomainPolicy))
	}
	if r.NonexistentPolicy != "" {
		tag("np", string(r.NonexistentPolicy))
	}
	if r.DKIMAlignment == Strict {
		tag("adkim", "s")
	}
	if r.SPFAlignment == Strict {
		tag("aspf", "s")
	}
	if r.Percent != DefaultPercent {
		tag("pct", strconv.Itoa(r.Percent))
	}
	uris := func(name string, list []URI) {
		if len(list) == 0 {
			return
		}
		s := make([]string, len(list))
		for i, u := range list {
			s[i] = u.String()
		}
		tag(name, strings.Join(s, ","))
	}
	uris("rua", r.AggregateURIs)
	uris("ruf", r.FailureURIs)
	if len(r.FailureOptions) > 0 && !(len(r.FailureOptions) == 1 && r.FailureOptions[0] == "0") {
		tag("fo", strings.Join(r.FailureOptions, ":"))
	}
	if len(r.ReportFormats) > 0 && !(len(r.ReportFormats) == 1 && r.ReportFormats[0] == "afrf") {
		tag("rf", strings.Join(r.ReportFormats, ":"))
	}
	if r.ReportInterval != DefaultReportInterval && r.ReportInterval != 0 {
		tag("ri", strconv.FormatUint(uint64(r.ReportInterval), 10))
	}
	return b.String()
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}

func parseAlign(s string) (AlignMode, bool) {
	switch m := AlignMode(strings.ToLower(s)); m {
	case Relaxed, Strict:
		return m, true
	}
	return "", false
}

// parseList splits a colon-separated list, white space allowed around
// the colons, and checks each element.
func parseList(s string, ok func(string) bool) ([]string, bool) {
	var out []string
	for e := range strings.SplitSeq(s, ":") {
		e = strings.Trim(e, " \t")
		if !ok(e) {
			return nil, false
		}
		out = append(out, e)
	}
	return out, true
}

// parseURIs parses a comma-separated list of DMARC URIs (RFC 7489 §6.2,
// §6.4), keeping the valid ones and describing the first invalid one.
func parseURIs(s string) ([]URI, string) {
	var out []URI
	problem := ""
	for e := range strings.SplitSeq(s, ",") {
		e = strings.Trim(e, " \t")
		u, err := parseURI(e)
		if err != "" {
			if problem == "" {
				problem = err
			}
			continue
		}
		out = append(out, u)
	}
	return out, problem
}

var sizeUnits = map[byte]uint64{'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30, 't': 1 << 40}

func parseURI(s string) (URI, string) {
	var u URI
	raw := s
	if i := strings.IndexByte(s, '!'); i >= 0 {
		raw = s[:i]
		size := s[i+1:]
		mult := uint64(1)
		if n := len(size); n > 0 {
			if m, ok := sizeUnits[lower(size[n-1])]; ok {
				mult = m
				size = size[:n-1]
			}
		}
		if size == "" || !allDigits(size) {
			return u, fmt.Sprintf("invalid size limit in %q", s)
		}
		n, err := strconv.ParseUint(size, 10, 64)
		if err != nil || n > math.MaxUint64/mult {
			return u, fmt.Sprintf("size limit out of range in %q", s)
		}
		u.MaxSize = n * mult
	}
	if raw == "" {
		return u, "empty URI"
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return u, fmt.Sprintf("invalid character in URI %q", raw)
		}
	}
	pu, err := url.Parse(raw)
	if err != nil || pu.Scheme == "" || pu.Opaque == "" && pu.Host == "" && pu.Path == "" {
		return u, fmt.Sprintf("invalid URI %q", raw)
	}
	u.URI = raw
	return u, ""
}

// isTagName reports a tag-name of RFC 6376 §3.2: ALPHA *(ALPHA / DIGIT
// / "_").
func isTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
