package spf

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/mailwire/mailwire/dnsmx"
)

// Default limits of a Checker.
const (
	// DefaultMaxLookups is the limit of RFC 7208 §4.6.4 on the terms
	// that query the DNS (include, a, mx, ptr, exists, redirect).
	DefaultMaxLookups = 10
	// DefaultMaxVoidLookups is the limit RFC 7208 §4.6.4 recommends on
	// lookups that find nothing.
	DefaultMaxVoidLookups = 2
	// DefaultTimeout bounds a whole check; RFC 7208 §4.6.4 asks for at
	// least 20 seconds.
	DefaultTimeout = 20 * time.Second
	// MaxExplanation is the longest explanation kept, in bytes; a
	// longer one is cut (RFC 7208 §6.2 allows a limit).
	MaxExplanation = 512
)

const (
	// maxNames is the limit of RFC 7208 §4.6.4 on the MX names an mx
	// mechanism and the PTR names a ptr mechanism or %{p} look at.
	maxNames = 10
	// maxDepth bounds include and redirect nesting when MaxLookups
	// does not (it is negative).
	maxDepth = 64
	// hardMaxLookups bounds DNS-querying terms when MaxLookups is
	// negative: records that include themselves several times would
	// otherwise cost exponential work.
	hardMaxLookups = 1000
	// maxDomain is the longest domain name in text form (RFC 7208 §7.3).
	maxDomain = 253
)

// Checker evaluates SPF policies: check_host of RFC 7208 §4. The zero
// Checker uses net.DefaultResolver and the default limits. Set the fields
// before first use; a Checker is then safe for concurrent use.
type Checker struct {
	// Resolver answers the DNS queries; nil means net.DefaultResolver.
	// A *dnsmx.Cache in front of it spares the DNS repeated queries.
	Resolver dnsmx.Resolver
	// Hostname is the receiving host's domain name, for the %{r} macro
	// of explanations; empty means "unknown" (RFC 7208 §7.3).
	Hostname string
	// MaxLookups limits the DNS-querying terms of one check; 0 means
	// DefaultMaxLookups, negative lifts the RFC's limit, but not a hard
	// one of 1000 terms that bounds the work records can cause.
	MaxLookups int
	// MaxVoidLookups limits the lookups that find no records; 0 means
	// DefaultMaxVoidLookups, negative means no limit.
	MaxVoidLookups int
	// Timeout bounds one check, all its DNS queries included; 0 means
	// DefaultTimeout, negative means none beyond the context's. A check
	// that runs out of time is a TempError.
	Timeout time.Duration
	// DefaultExplanation is an explain-string (macros allowed, RFC 7208
	// §7) for Fail results of domains without a usable exp= modifier;
	// empty leaves the explanation empty, as RFC 7208 §6.2 allows.
	DefaultExplanation string
	// Now returns the time for the %{t} macro; nil means time.Now.
	Now func() time.Time
}

// CheckMailFrom checks the "MAIL FROM" identity (RFC 7208 §2.4): the
// domain of mailFrom, the reverse-path without angle brackets. When
// mailFrom is empty (a null reverse-path) the identity is
// postmaster@helo.
func (c *Checker) CheckMailFrom(ctx context.Context, ip netip.Addr, mailFrom, helo string) (Outcome, error) {
	mailFrom = strings.TrimSuffix(strings.TrimPrefix(mailFrom, "<"), ">")
	sender := mailFrom
	if sender == "" {
		sender = "postmaster@" + helo
	}
	o, err := c.CheckHost(ctx, ip, senderDomain(sender), sender, helo)
	o.Identity = IdentityMailFrom
	return o, err
}

// CheckHelo checks the "HELO" identity (RFC 7208 §2.3): the domain helo,
// with postmaster@helo as the sender. An address literal or a name that is
// not a multi-label domain gives None.
func (c *Checker) CheckHelo(ctx context.Context, ip netip.Addr, helo string) (Outcome, error) {
	o, err := c.CheckHost(ctx, ip, helo, "postmaster@"+helo, helo)
	o.Identity = IdentityHelo
	return o, err
}

// CheckHost evaluates check_host(ip, domain, sender) of RFC 7208 §4 and
// returns its result. helo is the HELO or EHLO name, for the %{h} macro.
// A sender without local-part gets "postmaster" (RFC 7208 §4.3).
//
// The error is nil unless the result is TempError or PermError; it is
// then the *Error also found in Outcome.Err.
func (c *Checker) CheckHost(ctx context.Context, ip netip.Addr, domain, sender, helo string) (Outcome, error) {
	o := Outcome{Domain: domain, IP: ip, Helo: helo, Receiver: c.Hostname}
	local, sdom := splitSender(sender)
	if local == "" {
		local = "postmaster"
	}
	o.Sender = local + "@" + sdom
	if !ip.IsValid() {
		err := &Error{Result: PermError, Err: ErrInvalidIP}
		o.Result, o.Err = PermError, err
		return o, err
	}
	if timeout := cmp.Or(c.Timeout, DefaultTimeout); timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	s := &state{
		c: c, ctx: ctx, ip: ip.Unmap(), sender: o.Sender, local: local, senderDomain: sdom, helo: helo,
	}
	res, mech, expl, err := s.checkHost(domain, 0, true)
	o.Result, o.Explanation = res, expl
	if mech != nil {
		o.Mechanism = mech.String()
	}
	o.Lookups, o.VoidLookups = s.lookups, s.voids
	if err != nil {
		o.Err = err
		return o, err
	}
	return o, nil
}

// splitSender splits an address at its last '@'; a string without '@' is
// all domain.
func splitSender(sender string) (local, domain string) {
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		return sender[:i], sender[i+1:]
	}
	return "", sender
}

func senderDomain(sender string) string {
	_, d := splitSender(sender)
	return d
}

// state is one evaluation of check_host, include and redirect included.
type state struct {
	c                                 *Checker
	ctx                               context.Context
	ip                                netip.Addr // unmapped
	sender, local, senderDomain, helo string
	lookups, voids                    int

	ptrDone  bool
	ptrNames []string // validated names for %{p}
}

func (s *state) resolver() dnsmx.Resolver {
	if s.c.Resolver == nil {
		return net.DefaultResolver
	}
	return s.c.Resolver
}

// checkHost runs check_host for domain. It returns the result, the
// mechanism that matched (nil for the default result and errors), and,
// for Fail when explain is set, the explanation.
func (s *state) checkHost(domain string, depth int, explain bool) (Result, *Mechanism, string, *Error) {
	// RFC 7208 §4.3: a malformed domain gives "none".
	name, ok := normalizeDomain(domain)
	if !ok {
		return None, nil, "", nil
	}
	txt, err := s.resolver().LookupTXT(s.ctx, name)
	if err != nil && !isNotFound(err) {
		// RFC 7208 §4.4: any error other than NXDOMAIN is temperror.
		return TempError, nil, "", s.dnsError(domain, "", err)
	}
	// RFC 7208 §4.5: keep the records starting with "v=spf1".
	var found []string
	for _, t := range txt {
		if IsRecord(t) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return None, nil, "", nil
	case 1:
	default:
		return PermError, nil, "", &Error{Result: PermError, Domain: domain, Err: ErrMultipleRecords}
	}
	rec, perr := ParseRecord(found[0])
	if perr != nil {
		// RFC 7208 §4.6: a syntax error anywhere is permerror.
		return PermError, nil, "", &Error{Result: PermError, Domain: domain, Err: perr}
	}
	return s.evaluate(rec, domain, depth, explain)
}

// evaluate applies the terms of rec for domain (RFC 7208 §4.6, §4.7).
func (s *state) evaluate(rec *Record, domain string, depth int, explain bool) (Result, *Mechanism, string, *Error) {
	env := &env{s: s, domain: domain}
	for _, t := range rec.Terms {
		m, ok := t.(*Mechanism)
		if !ok {
			continue
		}
		match, err := s.mechanism(m, env, depth)
		if err != nil {
			return err.Result, nil, "", err
		}
		if !match {
			continue
		}
		res := m.Qualifier.Result()
		expl := ""
		if res == Fail && explain {
			expl = s.explanation(rec, domain)
		}
		return res, m, expl, nil
	}
	// RFC 7208 §6.1, §5.1: redirect applies when nothing matched and
	// the record has no "all".
	if rec.redirect != nil && !rec.hasAll {
		term := rec.redirect.String()
		if err := s.count(domain, term); err != nil {
			return PermError, nil, "", err
		}
		if depth >= maxDepth {
			return PermError, nil, "", &Error{Result: PermError, Domain: domain, Term: term, Err: ErrTooManyLookups}
		}
		target, err := s.expandDomain(rec.redirect.value, env)
		if err != nil {
			return err.Result, nil, "", err
		}
		if _, ok := normalizeDomain(target); !ok {
			return PermError, nil, "", &Error{Result: PermError, Domain: domain, Term: term, Err: ErrInvalidDomain}
		}
		res, m, expl, err := s.checkHost(target, depth+1, explain)
		if res == None {
			// RFC 7208 §6.1: no record at the target is permerror.
			return PermError, nil, "", &Error{Result: PermError, Domain: target, Term: term, Err: ErrNoRecord}
		}
		return res, m, expl, err
	}
	// RFC 7208 §4.7: the default result.
	return Neutral, nil, "", nil
}

// mechanism reports whether m matches (RFC 7208 §5).
func (s *state) mechanism(m *Mechanism, env *env, depth int) (bool, *Error) {
	switch m.Kind {
	case KindAll:
		return true, nil
	case KindIP4, KindIP6:
		return m.Prefix.Contains(s.ip), nil
	}
	term := m.String()
	if err := s.count(env.domain, term); err != nil {
		return false, err
	}
	target := env.domain
	if m.domain != nil {
		var err *Error
		if target, err = s.expandDomain(m.domain, env); err != nil {
			err.Term = term
			return false, err
		}
	}
	switch m.Kind {
	case KindInclude:
		if depth >= maxDepth {
			return false, &Error{Result: PermError, Domain: env.domain, Term: term, Err: ErrTooManyLookups}
		}
		// RFC 7208 §5.2: the table of include results.
		res, _, _, err := s.checkHost(target, depth+1, false)
		switch res {
		case Pass:
			return true, nil
		case Fail, SoftFail, Neutral:
			return false, nil
		case None:
			return false, &Error{Result: PermError, Domain: target, Term: term, Err: ErrNoRecord}
		}
		return false, err
	case KindA:
		addrs, err := s.addrs(target, s.ip.Is6(), env.domain, term)
		if err != nil {
			return false, err
		}
		return matchAddrs(s.ip, addrs, m), nil
	case KindMX:
		mxs, err := s.lookupMX(target, env.domain, term)
		if err != nil {
			return false, err
		}
		// RFC 7208 §4.6.4: more than 10 MX names is permerror.
		if len(mxs) > maxNames {
			return false, &Error{Result: PermError, Domain: env.domain, Term: term, Err: ErrTooManyMX}
		}
		for _, mx := range mxs {
			addrs, err := s.addrs(mx, s.ip.Is6(), env.domain, term)
			if err != nil {
				return false, err
			}
			if matchAddrs(s.ip, addrs, m) {
				return true, nil
			}
		}
		return false, nil
	case KindPTR:
		names, err := s.validatedNames(env.domain, term)
		if err != nil {
			return false, err
		}
		t := strings.ToLower(strings.TrimSuffix(target, "."))
		for _, n := range names {
			if n == t || strings.HasSuffix(n, "."+t) {
				return true, nil
			}
		}
		return false, nil
	case KindExists:
		// RFC 7208 §5.7: an A query, whatever the client's family.
		addrs, err := s.addrs(target, false, env.domain, term)
		if err != nil {
			return false, err
		}
		return len(addrs) > 0, nil
	}
	return false, &Error{Result: PermError, Domain: env.domain, Term: term, Err: errors.New("unknown mechanism")}
}

// matchAddrs reports whether ip is in one of the networks addrs/CIDR.
func matchAddrs(ip netip.Addr, addrs []netip.Addr, m *Mechanism) bool {
	bits := m.CIDR4
	if ip.Is6() {
		bits = m.CIDR6
	}
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() != ip.Is6() {
			continue
		}
		if p, err := a.Prefix(bits); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

// count counts a DNS-querying term against MaxLookups (RFC 7208 §4.6.4).
func (s *state) count(domain, term string) *Error {
	s.lookups++
	limit := cmp.Or(s.c.MaxLookups, DefaultMaxLookups)
	if limit < 0 {
		limit = hardMaxLookups
	}
	if s.lookups > limit {
		return &Error{Result: PermError, Domain: domain, Term: term, Err: ErrTooManyLookups}
	}
	return nil
}

// void counts a lookup that found nothing (RFC 7208 §4.6.4).
func (s *state) void(domain, term string) *Error {
	s.voids++
	limit := cmp.Or(s.c.MaxVoidLookups, DefaultMaxVoidLookups)
	if limit >= 0 && s.voids > limit {
		return &Error{Result: PermError, Domain: domain, Term: term, Err: ErrTooManyVoidLookups}
	}
	return nil
}

// addrs looks up the A (or, for v6, AAAA) records of name. A malformed
// name has no addresses.
func (s *state) addrs(name string, v6 bool, domain, term string) ([]netip.Addr, *Error) {
	network := "ip4"
	if v6 {
		network = "ip6"
	}
	var addrs []netip.Addr
	if n, ok := queryName(name); ok {
		var err error
		addrs, err = s.resolver().LookupNetIP(s.ctx, network, n)
		if err != nil && !isNotFound(err) {
			return nil, s.dnsError(domain, term, err)
		}
	}
	if len(addrs) == 0 {
		return nil, s.void(domain, term)
	}
	return addrs, nil
}

// lookupMX returns the MX host names of name, ordered by preference.
func (s *state) lookupMX(name, domain, term string) ([]string, *Error) {
	var mxs []*net.MX
	if n, ok := queryName(name); ok {
		var err error
		mxs, err = s.resolver().LookupMX(s.ctx, n)
		// *net.Resolver drops records with malformed names and reports
		// an error beside the others; use those.
		if err != nil && len(mxs) == 0 && !isNotFound(err) {
			return nil, s.dnsError(domain, term, err)
		}
	}
	var hosts []string
	for _, mx := range mxs {
		if mx != nil && mx.Host != "" && mx.Host != "." {
			hosts = append(hosts, mx.Host)
		}
	}
	if len(hosts) == 0 {
		return nil, s.void(domain, term)
	}
	return hosts, nil
}

// validatedNames returns the validated domain names of the client (RFC
// 7208 §5.5), lower case without trailing dot: the names of its PTR
// records, the first 10, whose addresses include it. A failed PTR lookup
// gives no names; a failed address lookup skips that name.
func (s *state) validatedNames(domain, term string) ([]string, *Error) {
	names, err := s.resolver().LookupAddr(s.ctx, s.ip.String())
	if err != nil && len(names) == 0 {
		if isNotFound(err) {
			return nil, s.void(domain, term)
		}
		if s.ctx.Err() != nil {
			return nil, s.dnsError(domain, term, err)
		}
		return nil, nil
	}
	if len(names) == 0 {
		return nil, s.void(domain, term)
	}
	var valid []string
	for i, n := range names {
		if i == maxNames {
			break // RFC 7208 §4.6.4: the others are ignored.
		}
		q, ok := queryName(n)
		if !ok {
			continue
		}
		network := "ip4"
		if s.ip.Is6() {
			network = "ip6"
		}
		addrs, err := s.resolver().LookupNetIP(s.ctx, network, q)
		if err != nil {
			if s.ctx.Err() != nil {
				return nil, s.dnsError(domain, term, err)
			}
			continue
		}
		for _, a := range addrs {
			if a.Unmap() == s.ip {
				valid = append(valid, strings.ToLower(strings.TrimSuffix(n, ".")))
				break
			}
		}
	}
	return valid, nil
}

// dnsError maps a resolver error to TempError (RFC 7208 §4.4, §5).
func (s *state) dnsError(domain, term string, err error) *Error {
	return &Error{Result: TempError, Domain: domain, Term: term, Err: ErrDNS, cause: err}
}

// expandDomain expands a domain-spec and cuts it to 253 octets by
// dropping labels on the left (RFC 7208 §7.3).
func (s *state) expandDomain(ms *macroString, env *env) (string, *Error) {
	v, err := ms.expand(env)
	if err != nil {
		return "", s.dnsError(env.domain, "", err)
	}
	v = strings.TrimSuffix(v, ".")
	for len(v) > maxDomain {
		i := strings.IndexByte(v, '.')
		if i < 0 {
			break
		}
		v = v[i+1:]
	}
	return v, nil
}

// explanation computes the explanation of a Fail (RFC 7208 §6.2): the
// exp= TXT record of rec expanded for domain, or the default explanation.
// A missing, ambiguous or malformed exp= record, or a failed lookup, falls
// back to the default; the lookup is not counted against the limits.
func (s *state) explanation(rec *Record, domain string) string {
	env := &env{s: s, domain: domain, explain: true}
	if rec.exp != nil {
		if target, err := s.expandDomain(rec.exp.value, env); err == nil {
			if n, ok := queryName(target); ok {
				txt, err := s.resolver().LookupTXT(s.ctx, n)
				if err == nil && len(txt) == 1 {
					if e, ok := expandExplanation(txt[0], env); ok {
						return e
					}
				}
			}
		}
	}
	if s.c.DefaultExplanation != "" {
		if e, ok := expandExplanation(s.c.DefaultExplanation, env); ok {
			return e
		}
	}
	return ""
}

// expandExplanation expands an explain-string, keeping at most
// MaxExplanation bytes.
func expandExplanation(text string, env *env) (string, bool) {
	ms, _, msg := parseMacro(text, explainMacro)
	if msg != "" {
		return "", false
	}
	e, err := ms.expand(env)
	if err != nil {
		return "", false
	}
	if len(e) > MaxExplanation {
		e = e[:MaxExplanation]
	}
	return e, true
}

// env supplies the values of the macros (RFC 7208 §7.2) while evaluating
// the record of domain.
type env struct {
	s       *state
	domain  string
	explain bool
}

func (e *env) macroValue(letter byte) (string, error) {
	s := e.s
	switch letter {
	case 's':
		return s.sender, nil
	case 'l':
		return s.local, nil
	case 'o':
		return s.senderDomain, nil
	case 'd':
		return e.domain, nil
	case 'i':
		return dotted(s.ip), nil
	case 'p':
		return s.validatedName(e.domain), nil
	case 'v':
		if s.ip.Is4() {
			return "in-addr", nil
		}
		return "ip6", nil
	case 'h':
		return s.helo, nil
	case 'c':
		return s.ip.String(), nil
	case 'r':
		if s.c.Hostname == "" {
			return "unknown", nil
		}
		return s.c.Hostname, nil
	case 't':
		now := time.Now
		if s.c.Now != nil {
			now = s.c.Now
		}
		return strconv.FormatInt(now().Unix(), 10), nil
	}
	return "", errors.New("unknown macro letter " + string(letter))
}

// dotted returns ip for %{i}: dotted quad, or for IPv6 its 32 nibbles
// separated by dots (RFC 7208 §7.3).
func dotted(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 63)
	for i, x := range ip.As16() {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, hex[x>>4], '.', hex[x&0xf])
	}
	return string(b)
}

// validatedName returns the value of %{p} (RFC 7208 §7.3): domain itself
// if validated, else a validated subdomain of it, else any validated name,
// else "unknown". The names are looked up once per check.
func (s *state) validatedName(domain string) string {
	if !s.ptrDone {
		s.ptrDone = true
		s.ptrNames, _ = s.validatedNames(domain, "%{p}")
	}
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, n := range s.ptrNames {
		if n == d {
			return n
		}
	}
	for _, n := range s.ptrNames {
		if strings.HasSuffix(n, "."+d) {
			return n
		}
	}
	if len(s.ptrNames) > 0 {
		return s.ptrNames[0]
	}
	return "unknown"
}

// normalizeDomain checks the <domain> of check_host (RFC 7208 §4.3): a
// multi-label domain name with labels of 1 to 63 octets, an IDN turned
// into A-labels. It returns the name to query, with a trailing dot.
func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	for i := 0; i < len(d); i++ {
		if d[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(d)
			if err != nil {
				return "", false
			}
			d = a
			break
		}
	}
	if !strings.Contains(d, ".") {
		return "", false
	}
	return queryName(d)
}

// queryName checks a target name: at most 253 octets, labels of 1 to 63
// octets. It returns the name with a trailing dot.
func queryName(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > maxDomain {
		return "", false
	}
	for l := range strings.SplitSeq(d, ".") {
		if l == "" || len(l) > 63 {
			return "", false
		}
	}
	return d + ".", true
}

// isNotFound reports whether a resolver error means NXDOMAIN or no records
// of the type asked (RFC 7208 §5: as if no records were returned).
func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
