package netutil

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) lets a
// load balancer pass the client's address in front of the connection's own
// bytes. Only connections from trusted proxies may carry a header: from
// anyone else a header would let a client choose the address the server
// sees.

// ErrProxyHeader is wrapped by the errors of a malformed or missing header.
var ErrProxyHeader = errors.New("PROXY protocol header")

// DefaultProxyHeaderTimeout bounds the wait for a header.
const DefaultProxyHeaderTimeout = 10 * time.Second

// proxyV2Sig is the 12-byte signature of a version 2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// ProxyListener wraps l so that every connection from an address in trusted
// must begin with a PROXY header (version 1 or 2) naming the client;
// connections from other addresses are passed on as they are. The header is
// read by ProxyHandshake, or at the connection's first Read, never in
// Accept, so that one slow proxy connection cannot stall the accept loop.
func ProxyListener(l net.Listener, trusted []netip.Prefix, timeout time.Duration) net.Listener {
	if len(trusted) == 0 {
		return l
	}
	if timeout <= 0 {
		timeout = DefaultProxyHeaderTimeout
	}
	return &proxyListener{Listener: l, trusted: trusted, timeout: timeout}
}

type proxyListener struct {
	net.Listener
	trusted []netip.Prefix
	timeout time.Duration
}

func (l *proxyListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ap, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	if err != nil {
		return nc, nil
	}
	for _, p := range l.trusted {
		if p.Contains(ap.Addr().Unmap()) {
			return &ProxyConn{Conn: nc, timeout: l.timeout}, nil
		}
	}
	return nc, nil
}

// ProxyConn is a connection from a trusted proxy. Until its header has been
// read, RemoteAddr and LocalAddr are the proxy's connection's own.
type ProxyConn struct {
	net.Conn
	timeout time.Duration

	once          sync.Once
	err           error
	remote, local net.Addr
}

// Handshake reads the header once; later calls return its outcome.
func (c *ProxyConn) Handshake() error {
	c.once.Do(func() {
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		c.remote, c.local, c.err = readProxyHeader(c.Conn)
		c.Conn.SetReadDeadline(time.Time{})
	})
	return c.err
}

func (c *ProxyConn) Read(p []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// RemoteAddr returns the client's address from the header, once read.
func (c *ProxyConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// LocalAddr returns the address the client connected to, from the header,
// once read.
func (c *ProxyConn) LocalAddr() net.Addr {
	if c.local != nil {
		return c.local
	}
	return c.Conn.LocalAddr()
}

// ProxyHandshake reads the PROXY header of nc, or of the connection under
// it when nc is a *tls.Conn, if it comes from a ProxyListener; otherwise it
// does nothing. A server calls it first thing in the connection's
// goroutine, so that everything it logs has the client's address.
func ProxyHandshake(nc net.Conn) error {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if pc, ok := nc.(*ProxyConn); ok {
		return pc.Handshake()
	}
	return nil
}

// readProxyHeader reads a version 1 or 2 header from r, byte by byte for
// version 1, so that nothing after the header is consumed. It returns nil
// addresses for a LOCAL (v2) or UNKNOWN (v1) header: the connection's own
// addresses then stand.
func readProxyHeader(r io.Reader) (remote, local net.Addr, err error) {
	var first [1]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrProxyHeader, err)
	}
	switch first[0] {
	case 'P':
		return readProxyV1(r)
	case '\r':
		return readProxyV2(r)
	}
	return nil, nil, fmt.Errorf("%w: missing", ErrProxyHeader)
}

// readProxyV1 reads "PROXY TCP4 src dst sport dport\r\n", at most 107
// bytes, the "P" already read.
func readProxyV1(r io.Reader) (net.Addr, net.Addr, error) {
	buf := []byte{'P'}
	var b [1]byte
	for len(buf) < 107 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrProxyHeader, err)
		}
		buf = append(buf, b[0])
		if b[0] == '\n' {
			break
		}
	}
	line, ok := bytes.CutSuffix(buf, []byte("\r\n"))
	if !ok {
		return nil, nil, fmt.Errorf("%w: v1 line not ended by CRLF within 107 bytes", ErrProxyHeader)
	}
	f := strings.Split(string(line), " ")
	if f[0] != "PROXY" || len(f) < 2 {
		return nil, nil, fmt.Errorf("%w: v1: not a PROXY line", ErrProxyHeader)
	}
	if f[1] == "UNKNOWN" {
		return nil, nil, nil
	}
	if len(f) != 6 || f[1] != "TCP4" && f[1] != "TCP6" {
		return nil, nil, fmt.Errorf("%w: v1: malformed %q", ErrProxyHeader, line)
	}
	src, err1 := netip.ParseAddr(f[2])
	dst, err2 := netip.ParseAddr(f[3])
	sport, err3 := parsePort(f[4])
	dport, err4 := parsePort(f[5])
	if err := errors.Join(err1, err2, err3, err4); err != nil || src.Is4() != (f[1] == "TCP4") || dst.Is4() != src.Is4() {
		return nil, nil, fmt.Errorf("%w: v1: malformed %q", ErrProxyHeader, line)
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, sport)), net.TCPAddrFromAddrPort(netip.AddrPortFrom(dst, dport)), nil
}

// parsePort parses a decimal port without leading zeros or sign.
func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 1 && s[0] == '0' || strings.ContainsAny(s, "+-") {
		return 0, errors.New("bad port")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err
}

// readProxyV2 reads a binary header, the first byte of its signature
// already read.
func readProxyV2(r io.Reader) (net.Addr, net.Addr, error) {
	var hdr [15]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrProxyHeader, err)
	}
	if !bytes.Equal(hdr[:11], proxyV2Sig[1:]) {
		return nil, nil, fmt.Errorf("%w: v2: bad signature", ErrProxyHeader)
	}
	verCmd, fam := hdr[11], hdr[12]
	n := int(binary.BigEndian.Uint16(hdr[13:15]))
	if verCmd>>4 != 2 || verCmd&0xf > 1 {
		return nil, nil, fmt.Errorf("%w: v2: version and command %#x", ErrProxyHeader, verCmd)
	}
	// The addresses and TLVs: at most 65535 bytes, and only the addresses
	// are kept.
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrProxyHeader, err)
	}
	if verCmd&0xf == 0 {
		return nil, nil, nil // LOCAL: the proxy's own connection, a health check
	}
	switch fam {
	case 0x11: // TCP over IPv4
		if n < 12 {
			return nil, nil, fmt.Errorf("%w: v2: short IPv4 addresses", ErrProxyHeader)
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		dst := netip.AddrFrom4([4]byte(body[4:8]))
		return tcpAddr(src, body[8:10]), tcpAddr(dst, body[10:12]), nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return nil, nil, fmt.Errorf("%w: v2: short IPv6 addresses", ErrProxyHeader)
		}
		src := netip.AddrFrom16([16]byte(body[0:16]))
		dst := netip.AddrFrom16([16]byte(body[16:32]))
		return tcpAddr(src, body[32:34]), tcpAddr(dst, body[34:36]), nil
	case 0x00: // UNSPEC: keep the connection's addresses
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("%w: v2: unsupported family %#x", ErrProxyHeader, fam)
}

func tcpAddr(a netip.Addr, port []byte) net.Addr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, binary.BigEndian.Uint16(port)))
}
