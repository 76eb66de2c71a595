package dnsmxtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Limits of the server.
const (
	// DefaultMaxUDPSize is the largest UDP response sent to a client that
	// advertises a larger EDNS(0) buffer (the DNS Flag Day 2020 value).
	// Clients without EDNS(0) get at most 512 octets (RFC 1035 §4.2.1).
	DefaultMaxUDPSize = 1232
	// maxCNAMEChain bounds CNAME chasing, so CNAME loops end.
	maxCNAMEChain = 8
	// tcpIdle closes TCP connections idle this long.
	tcpIdle = 10 * time.Second
)

// Server is an in-process DNS server answering from a Zone on 127.0.0.1,
// over UDP and TCP on the same port. A UDP answer that does not fit is sent
// truncated (TC bit set, no records) so the client retries over TCP, as RFC
// 1035 §4.2.1 and RFC 7766 describe.
//
// It acts as a recursive resolver would towards a stub: answers carry the
// RA and AA bits and include CNAME chains. It answers malformed queries with
// FORMERR, or not at all when not even the header can be read.
type Server struct {
	// Zone is the initial zone data; Start copies it. Use Set to change
	// records while the server runs.
	Zone Zone
	// MaxUDPSize caps UDP responses (at least 512); 0 means
	// DefaultMaxUDPSize.
	MaxUDPSize int

	addr string
	udp  net.PacketConn
	tcp  net.Listener

	mu      sync.Mutex
	zone    map[string][]Record
	queries map[queryKey]int
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type queryKey struct {
	name string
	typ  dnsmessage.Type
}

// NewServer starts a server for zone and stops it when the test ends.
func NewServer(t testing.TB, zone Zone) *Server {
	t.Helper()
	s := &Server{Zone: zone}
	if err := s.Start(); err != nil {
		t.Fatalf("dnsmxtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Start listens on a free port of 127.0.0.1, UDP and TCP, and serves in the
// background until Close. A Server starts once.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.zone != nil || s.closed {
		s.mu.Unlock()
		return errors.New("dnsmxtest: server already started")
	}
	s.zone = make(map[string][]Record, len(s.Zone))
	for n, rrs := range s.Zone {
		s.zone[canonical(n)] = append([]Record(nil), rrs...)
	}
	s.queries = make(map[queryKey]int)
	s.conns = make(map[net.Conn]struct{})
	s.mu.Unlock()

	// Bind UDP on a free port, then TCP on the same one; another
	// process may hold that TCP port, so try a few times.
	var err error
	for range 20 {
		var udp net.PacketConn
		udp, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		var tcp net.Listener
		tcp, err = net.Listen("tcp4", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			continue
		}
		s.udp, s.tcp, s.addr = udp, tcp, udp.LocalAddr().String()
		s.wg.Add(2)
		go s.serveUDP()
		go s.serveTCP()
		return nil
	}
	return err
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Resolver returns a Go resolver (PreferGo) that sends every query to s.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.addr)
		},
	}
}

// Set replaces the records of name; with no records, name is removed and
// no longer exists.
func (s *Server) Set(name string, records ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(records) == 0 {
		delete(s.zone, canonical(name))
		return
	}
	s.zone[canonical(name)] = append([]Record(nil), records...)
}

// Queries returns how many queries for name and type the server has
// received, over UDP and TCP together.
func (s *Server) Queries(name string, typ dnsmessage.Type) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[queryKey{canonical(name), typ}]
}

// Close stops the server and waits for its goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	var err error
	if s.udp != nil {
		err = errors.Join(s.udp.Close(), s.tcp.Close())
	}
	s.wg.Wait()
	return err
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if resp := s.answer(buf[:n], true); resp != nil {
			s.udp.WriteTo(resp, from)
		}
	}
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: back off rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn answers length-prefixed queries (RFC 1035 §4.2.2) until the
// client closes the connection or it goes idle.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var lenBuf [2]byte
	buf := make([]byte, 65535)
	for {
		c.SetDeadline(time.Now().Add(tcpIdle))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return
		}
		resp := s.answer(buf[:n], false)
		if resp == nil {
			continue
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(resp)), uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// answer returns the response to query, or nil for no response.
func (s *Server) answer(query []byte, udp bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		// No header to answer to, or not a query: stay silent, as
		// servers do (RFC 1035 gives no way to reply).
		return nil
	}
	resp := dnsmessage.Message{Header: dnsmessage.Header{
		ID:                 h.ID,
		Response:           true,
		OpCode:             h.OpCode,
		RecursionDesired:   h.RecursionDesired,
		RecursionAvailable: true,
	}}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		resp.Header.RCode = dnsmessage.RCodeFormatError
		return pack(&resp, 512)
	}
	q := qs[0]
	resp.Questions = qs

	// RFC 6891 §6.2.5: the requestor's UDP payload size, at least 512.
	limit := 512
	edns := false
	if p.SkipAllAnswers() == nil && p.SkipAllAuthorities() == nil {
		for {
			rh, err := p.AdditionalHeader()
			if err != nil {
				break
			}
			if rh.Type == dnsmessage.TypeOPT {
				edns = true
				limit = max(limit, min(int(rh.Class), s.maxUDP()))
				break
			}
			if p.SkipAdditional() != nil {
				break
			}
		}
	}
	if edns {
		var opt dnsmessage.ResourceHeader
		opt.SetEDNS0(s.maxUDP(), dnsmessage.RCodeSuccess, false)
		resp.Additionals = []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}}
	}
	if !udp {
		limit = 65535
	}

	switch {
	case h.OpCode != 0:
		resp.Header.RCode = dnsmessage.RCodeNotImplemented
		return pack(&resp, limit)
	case q.Class != dnsmessage.ClassINET:
		resp.Header.RCode = dnsmessage.RCodeRefused
		return pack(&resp, limit)
	}

	qname := strings.ToLower(q.Name.String())
	s.mu.Lock()
	s.queries[queryKey{qname, q.Type}]++
	answers, rcode, drop := s.resolve(q.Name, q.Type)
	var soa []dnsmessage.Resource
	if !drop && (rcode == dnsmessage.RCodeNameError || rcode == dnsmessage.RCodeSuccess && !hasType(answers, q.Type)) {
		soa = s.soaFor(answers, q.Name)
	}
	s.mu.Unlock()
	if drop {
		return nil
	}
	resp.Header.Authoritative = true
	resp.Header.RCode = rcode
	resp.Answers = answers
	resp.Authorities = soa
	return pack(&resp, limit)
}

func (s *Server) maxUDP() int {
	if s.MaxUDPSize == 0 {
		return DefaultMaxUDPSize
	}
	return max(s.MaxUDPSize, 512)
}

// resolve finds the answer for (qname, qtype), following CNAMEs. Called
// with s.mu held.
func (s *Server) resolve(qname dnsmessage.Name, qtype dnsmessage.Type) (answers []dnsmessage.Resource, rcode dnsmessage.RCode, drop bool) {
	owner := qname
	for range maxCNAMEChain {
		key := strings.ToLower(owner.String())
		rrs, ok := s.zone[key]
		if !ok {
			if s.hasBelow(key) {
				return answers, dnsmessage.RCodeSuccess, false // empty non-terminal: NODATA
			}
			return answers, dnsmessage.RCodeNameError, false
		}
		for _, rr := range rrs {
			if rr.appliesTo(qtype) {
				return nil, rr.rcode, rr.fault == dropFault
			}
		}
		var cname *dnsmessage.CNAMEResource
		for _, rr := range rrs {
			if rr.Body == nil {
				continue
			}
			t := bodyType(rr.Body)
			if t == qtype || qtype == dnsmessage.TypeALL {
				answers = append(answers, resource(owner, rr))
			} else if c, ok := rr.Body.(*dnsmessage.CNAMEResource); ok && cname == nil {
				answers = append(answers, resource(owner, rr))
				cname = c
			}
		}
		if cname == nil || qtype == dnsmessage.TypeCNAME || qtype == dnsmessage.TypeALL {
			return answers, dnsmessage.RCodeSuccess, false
		}
		owner = cname.CNAME
	}
	// CNAME loop or chain too long.
	return nil, dnsmessage.RCodeServerFailure, false
}

// hasType reports whether answers hold a record of type t.
func hasType(answers []dnsmessage.Resource, t dnsmessage.Type) bool {
	for _, rr := range answers {
		if rr.Header.Type == t || t == dnsmessage.TypeALL {
			return true
		}
	}
	return false
}

// soaFor returns the SOA for a negative answer (RFC 2308 §3): that of the
// closest enclosing name of the last owner in the CNAME chain, with TTL
// min(TTL, MINIMUM). Called with s.mu held.
func (s *Server) soaFor(answers []dnsmessage.Resource, qname dnsmessage.Name) []dnsmessage.Resource {
	owner := strings.ToLower(qname.String())
	if n := len(answers); n > 0 {
		if c, ok := answers[n-1].Body.(*dnsmessage.CNAMEResource); ok {
			owner = strings.ToLower(c.CNAME.String())
		}
	}
	for {
		for _, rr := range s.zone[owner] {
			if soa, ok := rr.Body.(*dnsmessage.SOAResource); ok {
				res := resource(name(owner), rr)
				res.Header.TTL = min(res.Header.TTL, soa.MinTTL)
				return []dnsmessage.Resource{res}
			}
		}
		if owner == "." {
			return nil
		}
		_, rest, ok := strings.Cut(owner, ".")
		if !ok || rest == "" {
			rest = "."
		}
		owner = rest
	}
}

// hasBelow reports whether some zone name is a subdomain of key. Called
// with s.mu held.
func (s *Server) hasBelow(key string) bool {
	for n := range s.zone {
		if strings.HasSuffix(n, "."+key) || key == "." {
			return true
		}
	}
	return false
}

func resource(owner dnsmessage.Name, rr Record) dnsmessage.Resource {
	ttl := rr.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	return dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: owner, Type: bodyType(rr.Body), Class: dnsmessage.ClassINET, TTL: ttl},
		Body:   rr.Body,
	}
}

// bodyType returns the record type of b.
func bodyType(b dnsmessage.ResourceBody) dnsmessage.Type {
	switch b := b.(type) {
	case *dnsmessage.AResource:
		return dnsmessage.TypeA
	case *dnsmessage.AAAAResource:
		return dnsmessage.TypeAAAA
	case *dnsmessage.MXResource:
		return dnsmessage.TypeMX
	case *dnsmessage.TXTResource:
		return dnsmessage.TypeTXT
	case *dnsmessage.CNAMEResource:
		return dnsmessage.TypeCNAME
	case *dnsmessage.NSResource:
		return dnsmessage.TypeNS
	case *dnsmessage.PTRResource:
		return dnsmessage.TypePTR
	case *dnsmessage.SOAResource:
		return dnsmessage.TypeSOA
	case *dnsmessage.SRVResource:
		return dnsmessage.TypeSRV
	case *dnsmessage.UnknownResource:
		return b.Type
	}
	return 0
}

// pack encodes m; if it is longer than limit, it sends m truncated: the
// TC bit set and no records but OPT (RFC 2181 §9 leaves partial answers
// optional; an empty one makes the client retry over TCP).
func pack(m *dnsmessage.Message, limit int) []byte {
	b, err := m.Pack()
	if err == nil && len(b) <= limit {
		return b
	}
	if err != nil {
		m.Header.RCode = dnsmessage.RCodeServerFailure
	} else {
		m.Header.Truncated = true
	}
	m.Answers, m.Authorities = nil, nil
	b, err = m.Pack()
	if err != nil {
		return nil
	}
	return b
}
