package dnsmx

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Default settings of a StubResolver.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultAttempts = 2
	// DefaultServer is used when Servers is empty and /etc/resolv.conf
	// names no server.
	DefaultServer = "127.0.0.1:53"
	// ednsSize is the UDP payload size advertised with EDNS(0) (RFC 6891
	// §6.2.5; the DNS Flag Day 2020 value).
	ednsSize = 1232
	// maxUDPReply bounds the buffer for one UDP reply; a longer datagram
	// is cut and fails to parse.
	maxUDPReply = 4096
	// maxCNAMEs bounds the CNAME chain followed inside one answer.
	maxCNAMEs = 16
	// maxResolvConf bounds how much of resolv.conf is read.
	maxResolvConf = 64 << 10
)

// TTLResolver is a Resolver that also reports how long its answers may be
// cached. Cache honours these TTLs when its Resolver implements
// TTLResolver.
//
// On success ttl is the smallest TTL of the answer records, CNAMEs leading
// to them included. On an error for which (*net.DNSError).IsNotFound is
// true (NXDOMAIN or NODATA), ttl is the negative-caching TTL of RFC 2308
// §5, the smaller of the TTL and the MINIMUM field of the SOA record in the
// authority section, or 0 when the reply had no SOA (such answers "SHOULD
// NOT be cached"). On other errors ttl is 0.
type TTLResolver interface {
	Resolver
	LookupMXTTL(ctx context.Context, name string) (mxs []*net.MX, ttl time.Duration, err error)
	LookupNetIPTTL(ctx context.Context, network, host string) (addrs []netip.Addr, ttl time.Duration, err error)
	LookupTXTTTL(ctx context.Context, name string) (txts []string, ttl time.Duration, err error)
	LookupAddrTTL(ctx context.Context, addr string) (names []string, ttl time.Duration, err error)
}

var _ TTLResolver = (*StubResolver)(nil)

// StubResolver is a stub resolver that speaks DNS itself (RFC 1035) and, unlike
// *net.Resolver, reports record TTLs: it implements TTLResolver.
// It looks up MX, A, AAAA, TXT and PTR records.
//
// Queries go over UDP with EDNS(0) advertising 1232 octets (RFC 6891) and
// are repeated over TCP when the reply is truncated (RFC 7766 §5). Each
// query has a random ID; a UDP reply whose ID or question does not match is
// ignored, as a possible spoof, and the client keeps waiting. Names are
// queried fully qualified; CNAME chains in the answer are followed.
//
// Errors are *net.DNSError values like those of *net.Resolver: NXDOMAIN and
// NODATA set IsNotFound (permanent), SERVFAIL, REFUSED and timeouts set
// IsTemporary (and IsTimeout), so IsTemporary and Locator treat them as
// they treat the errors of *net.Resolver. A SERVFAIL, REFUSED, timeout or
// malformed reply makes the client try the next server.
//
// The zero StubResolver uses the name servers of /etc/resolv.conf. A StubResolver is
// safe for concurrent use.
type StubResolver struct {
	// Servers are the name servers, "host:port", tried in order. Empty
	// means the nameserver lines of /etc/resolv.conf (port 53), or
	// DefaultServer if there are none.
	Servers []string
	// Timeout bounds one query to one server; 0 means DefaultTimeout.
	Timeout time.Duration
	// Attempts is how many times the list of servers is tried; 0 means
	// DefaultAttempts.
	Attempts int
}

// LookupMX implements Resolver.
func (c *StubResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mxs, _, err := c.LookupMXTTL(ctx, name)
	return mxs, err
}

// LookupNetIP implements Resolver.
func (c *StubResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, _, err := c.LookupNetIPTTL(ctx, network, host)
	return addrs, err
}

// LookupTXT implements Resolver.
func (c *StubResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txts, _, err := c.LookupTXTTTL(ctx, name)
	return txts, err
}

// LookupAddr implements Resolver.
func (c *StubResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	names, _, err := c.LookupAddrTTL(ctx, addr)
	return names, err
}

// LookupAddrTTL implements TTLResolver. The names are rooted (they end in
// a dot), as those of *net.Resolver.
func (c *StubResolver) LookupAddrTTL(ctx context.Context, addr string) ([]string, time.Duration, error) {
	rev, ok := reverseName(addr)
	if !ok {
		return nil, 0, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	rrs, ttl, err := c.lookup(ctx, rev, dnsmessage.TypePTR)
	if err != nil {
		return nil, ttl, err
	}
	names := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		names = append(names, rr.(*dnsmessage.PTRResource).PTR.String())
	}
	return names, ttl, nil
}

// LookupMXTTL implements TTLResolver.
func (c *StubResolver) LookupMXTTL(ctx context.Context, name string) ([]*net.MX, time.Duration, error) {
	rrs, ttl, err := c.lookup(ctx, name, dnsmessage.TypeMX)
	if err != nil {
		return nil, ttl, err
	}
	mxs := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*dnsmessage.MXResource)
		mxs = append(mxs, &net.MX{Host: mx.MX.String(), Pref: mx.Pref})
	}
	return mxs, ttl, nil
}

// LookupTXTTTL implements TTLResolver. The strings of each record are
// concatenated, as *net.Resolver does.
func (c *StubResolver) LookupTXTTTL(ctx context.Context, name string) ([]string, time.Duration, error) {
	rrs, ttl, err := c.lookup(ctx, name, dnsmessage.TypeTXT)
	if err != nil {
		return nil, ttl, err
	}
	txts := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		txts = append(txts, strings.Join(rr.(*dnsmessage.TXTResource).TXT, ""))
	}
	return txts, ttl, nil
}

// LookupNetIPTTL implements TTLResolver. For network "ip" it asks for AAAA
// and A records and returns IPv6 addresses first. If one family is found
// and the other query fails other than with "not found", the addresses
// found are returned with ttl 0, so that a cache keeps them briefly.
func (c *StubResolver) LookupNetIPTTL(ctx context.Context, network, host string) ([]netip.Addr, time.Duration, error) {
	var types []dnsmessage.Type
	switch network {
	case "ip":
		types = []dnsmessage.Type{dnsmessage.TypeAAAA, dnsmessage.TypeA}
	case "ip4":
		types = []dnsmessage.Type{dnsmessage.TypeA}
	case "ip6":
		types = []dnsmessage.Type{dnsmessage.TypeAAAA}
	default:
		return nil, 0, &net.DNSError{Err: "unsupported network " + network, Name: host}
	}
	var (
		addrs   []netip.Addr
		ttl     time.Duration
		firstNF error         // first "not found" error
		nfTTL   time.Duration // its negative TTL, the smallest
		other   error         // first other error
	)
	for _, t := range types {
		rrs, rttl, err := c.lookup(ctx, host, t)
		switch {
		case err == nil:
			if addrs == nil || rttl < ttl {
				ttl = rttl
			}
			for _, rr := range rrs {
				switch rr := rr.(type) {
				case *dnsmessage.AResource:
					addrs = append(addrs, netip.AddrFrom4(rr.A))
				case *dnsmessage.AAAAResource:
					addrs = append(addrs, netip.AddrFrom16(rr.AAAA))
				}
			}
		case isNotFound(err):
			if firstNF == nil || rttl < nfTTL {
				nfTTL = rttl
			}
			if firstNF == nil {
				firstNF = err
			}
		default:
			if other == nil {
				other = err
			}
		}
	}
	switch {
	case len(addrs) > 0 && other != nil:
		return addrs, 0, nil
	case len(addrs) > 0:
		return addrs, ttl, nil
	case other != nil:
		return nil, 0, other
	case firstNF != nil:
		return nil, nfTTL, firstNF
	}
	// Every query answered but with no addresses (only CNAMEs, say).
	return nil, 0, notFound(host, "")
}

// lookup asks the servers for (name, qtype) and returns the bodies of the
// answer records of type qtype at the end of the CNAME chain.
func (c *StubResolver) lookup(ctx context.Context, name string, qtype dnsmessage.Type) ([]dnsmessage.ResourceBody, time.Duration, error) {
	qname, err := dnsmessage.NewName(rooted(name))
	if err != nil || len(name) == 0 {
		return nil, 0, &net.DNSError{Err: "invalid domain name", Name: name, IsNotFound: true}
	}
	q := dnsmessage.Question{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}
	servers := c.Servers
	if len(servers) == 0 {
		servers = systemServers()
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	var lastErr error
	for range attempts {
		for _, server := range servers {
			if err := ctx.Err(); err != nil {
				return nil, 0, &net.DNSError{Err: err.Error(), Name: name, Server: server,
					IsTimeout: errors.Is(err, context.DeadlineExceeded), IsTemporary: true}
			}
			r, err := c.exchange(ctx, server, q)
			if err != nil {
				lastErr = err
				continue
			}
			rrs, ttl, err := r.result(name, server)
			if err != nil && !isNotFound(err) {
				lastErr = err // SERVFAIL, REFUSED, ...: try the next server
				continue
			}
			return rrs, ttl, err
		}
	}
	if lastErr == nil {
		return nil, 0, &net.DNSError{Err: "no name servers", Name: name, IsTemporary: true}
	}
	return nil, 0, lastErr
}

// exchange sends q to server over UDP and, if the reply is truncated, over
// TCP.
func (c *StubResolver) exchange(ctx context.Context, server string, q dnsmessage.Question) (*reply, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := c.exchangeOver(ctx, "udp", server, q)
	if err == nil && r.hdr.Truncated {
		// RFC 7766 §5: retry over TCP.
		r, err = c.exchangeOver(ctx, "tcp", server, q)
	}
	if err != nil {
		var ne net.Error
		de := &net.DNSError{Err: err.Error(), Name: q.Name.String(), Server: server, IsTemporary: true}
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			de.Err, de.IsTimeout = "i/o timeout", true
		}
		return nil, de
	}
	return r, nil
}

func (c *StubResolver) exchangeOver(ctx context.Context, network, server string, q dnsmessage.Question) (*reply, error) {
	id, query, err := newQuery(q, network == "udp")
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Unblock reads when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if network == "tcp" {
		// RFC 1035 §4.2.2: two-octet length prefix.
		msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(query)), uint16(len(query)))
		if _, err := conn.Write(append(msg, query...)); err != nil {
			return nil, ctxErr(ctx, err)
		}
		var lenBuf [2]byte
		if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
			return nil, ctxErr(ctx, err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return nil, ctxErr(ctx, err)
		}
		return parseReply(buf, id, q)
	}
	if _, err := conn.Write(query); err != nil {
		return nil, ctxErr(ctx, err)
	}
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	buf := *bp
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		r, err := parseReply(buf[:n], id, q)
		if errors.Is(err, errMismatch) {
			// Not the answer to our query: maybe a spoof or a late
			// reply to an earlier one. Keep waiting.
			continue
		}
		return r, err
	}
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// newQuery returns a random query ID and the packed query.
func newQuery(q dnsmessage.Question, edns bool) (uint16, []byte, error) {
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return 0, nil, err
	}
	if err := b.Question(q); err != nil {
		return 0, nil, err
	}
	if edns {
		if err := b.StartAdditionals(); err != nil {
			return 0, nil, err
		}
		var opt dnsmessage.ResourceHeader
		if err := opt.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false); err != nil {
			return 0, nil, err
		}
		if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
			return 0, nil, err
		}
	}
	msg, err := b.Finish()
	return id, msg, err
}

// udpBufs holds read buffers for UDP replies; parseReply copies what it
// keeps, so a buffer is free again once the reply is parsed.
var udpBufs = sync.Pool{New: func() any { b := make([]byte, maxUDPReply); return &b }}

var errMismatch = errors.New("reply does not match the query")

// reply is the parsed part of a response that lookups need.
type reply struct {
	hdr     dnsmessage.Header
	q       dnsmessage.Question
	answers []dnsmessage.Resource
	negTTL  time.Duration // RFC 2308 §5, from the authority SOA
	hasSOA  bool
}

// parseReply parses msg as the reply to query id for q. It returns
// errMismatch if msg is not a response with that ID and question.
func parseReply(msg []byte, id uint16, q dnsmessage.Question) (*reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil, err
	}
	if !h.Response || h.ID != id {
		return nil, errMismatch
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return nil, err
	}
	// RFC 5452 §9.1: the question must match, compared case-insensitively.
	if len(qs) != 1 || qs[0].Type != q.Type || qs[0].Class != q.Class || !sameName(qs[0].Name, q.Name) {
		return nil, errMismatch
	}
	r := &reply{hdr: h, q: q}
	if h.Truncated {
		return r, nil
	}
	for {
		rh, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return nil, err
		}
		var body dnsmessage.ResourceBody
		switch rh.Type {
		case dnsmessage.TypeMX:
			b, err := p.MXResource()
			if err != nil {
				return nil, err
			}
			body = &b
		case dnsmessage.TypeA:
			b, err := p.AResource()
			if err != nil {
				return nil, err
			}
			body = &b
		case dnsmessage.TypeAAAA:
			b, err := p.AAAAResource()
			if err != nil {
				return nil, err
			}
			body = &b
		case dnsmessage.TypeTXT:
			b, err := p.TXTResource()
			if err != nil {
				return nil, err
			}
			body = &b
		case dnsmessage.TypePTR:
			b, err := p.PTRResource()
			if err != nil {
				return nil, err
			}
			body = &b
		case dnsmessage.TypeCNAME:
			b, err := p.CNAMEResource()
			if err != nil {
				return nil, err
			}
			body = &b
		default:
			if err := p.SkipAnswer(); err != nil {
				return nil, err
			}
			continue
		}
		if rh.Class != dnsmessage.ClassINET {
			continue
		}
		r.answers = append(r.answers, dnsmessage.Resource{Header: rh, Body: body})
	}
	for {
		rh, err := p.AuthorityHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return nil, err
		}
		if rh.Type != dnsmessage.TypeSOA || r.hasSOA {
			if err := p.SkipAuthority(); err != nil {
				return nil, err
			}
			continue
		}
		soa, err := p.SOAResource()
		if err != nil {
			return nil, err
		}
		// RFC 2308 §5: the TTL of a negative answer is the smaller of
		// the SOA record's TTL and its MINIMUM field.
		r.hasSOA = true
		r.negTTL = seconds(min(rh.TTL, soa.MinTTL))
	}
	return r, nil
}

// result maps the reply to records or an error like *net.Resolver's.
func (r *reply) result(name, server string) ([]dnsmessage.ResourceBody, time.Duration, error) {
	switch r.hdr.RCode {
	case dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError:
	case dnsmessage.RCodeServerFailure, dnsmessage.RCodeRefused:
		return nil, 0, &net.DNSError{Err: "server misbehaving: " + r.hdr.RCode.String(), Name: name, Server: server, IsTemporary: true}
	default:
		return nil, 0, &net.DNSError{Err: "unexpected reply: " + r.hdr.RCode.String(), Name: name, Server: server, IsTemporary: true}
	}
	if r.hdr.Truncated {
		return nil, 0, &net.DNSError{Err: "truncated reply over TCP", Name: name, Server: server, IsTemporary: true}
	}
	owner := r.q.Name
	var ttl uint32 = 1<<32 - 1
	var rrs []dnsmessage.ResourceBody
	for i := 0; ; i++ {
		var cname *dnsmessage.Resource
		for i, rr := range r.answers {
			if !sameName(rr.Header.Name, owner) {
				continue
			}
			if rr.Header.Type == r.q.Type {
				rrs = append(rrs, rr.Body)
				ttl = min(ttl, rr.Header.TTL)
			} else if rr.Header.Type == dnsmessage.TypeCNAME && cname == nil {
				cname = &r.answers[i]
			}
		}
		if len(rrs) > 0 || cname == nil {
			break
		}
		if i == maxCNAMEs {
			// A loop, or a chain too long to follow.
			return nil, 0, &net.DNSError{Err: "too many CNAMEs", Name: name, Server: server, IsTemporary: true}
		}
		ttl = min(ttl, cname.Header.TTL)
		owner = cname.Body.(*dnsmessage.CNAMEResource).CNAME
	}
	if len(rrs) == 0 {
		// NXDOMAIN, or NODATA (RFC 2308 §2.2).
		var neg time.Duration
		if r.hasSOA {
			neg = r.negTTL
		}
		return nil, neg, notFound(name, server)
	}
	if r.hdr.RCode != dnsmessage.RCodeSuccess {
		return nil, 0, notFound(name, server)
	}
	return rrs, seconds(ttl), nil
}

func notFound(name, server string) *net.DNSError {
	return &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
}

func seconds(ttl uint32) time.Duration {
	// RFC 2181 §8: a TTL with the top bit set is treated as zero.
	if ttl > 1<<31-1 {
		return 0
	}
	return time.Duration(ttl) * time.Second
}

func sameName(a, b dnsmessage.Name) bool {
	return strings.EqualFold(a.String(), b.String())
}

// systemServers returns the name servers of /etc/resolv.conf.
func systemServers() []string {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return []string{DefaultServer}
	}
	defer f.Close()
	return parseResolvConf(io.LimitReader(f, maxResolvConf))
}

// parseResolvConf returns the addresses of the nameserver lines, port 53,
// or DefaultServer if there are none. Other lines are ignored.
func parseResolvConf(r io.Reader) []string {
	var servers []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		if a, err := netip.ParseAddr(f[1]); err == nil {
			servers = append(servers, netip.AddrPortFrom(a, 53).String())
		}
	}
	if len(servers) == 0 {
		return []string{DefaultServer}
	}
	return servers
}
