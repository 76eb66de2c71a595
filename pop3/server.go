package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/netutil"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("pop3: server closed")

// Server is a POP3 server (RFC 1939) with the extensions of RFC 2449 (CAPA,
// response codes, PIPELINING...), RFC 2595 (STLS) and RFC 5034 (AUTH). The
// zero value, with a Backend, is ready to use; fields must not change once
// the server is serving.
type Server struct {
	// Addr is the address ListenAndServe and ListenAndServeTLS listen on;
	// ":pop3" (110) or ":pop3s" (995) when empty.
	Addr string
	// Hostname names the server in the greeting and in the APOP timestamp;
	// "" means os.Hostname(), or "localhost" when that fails.
	Hostname string
	// Backend opens a Session per connection. Required.
	Backend Backend
	// TLSConfig enables STLS (RFC 2595) when non-nil, and is used by
	// ListenAndServeTLS. It is cloned once; MinVersion is TLS 1.2 unless it
	// sets one.
	TLSConfig *tls.Config
	// AllowInsecureAuth lets USER/PASS and AUTH run over a connection without
	// TLS. When false (the default), they are refused with -ERR [AUTH] and not
	// advertised until STLS has succeeded. APOP never sends the password and
	// is always allowed.
	AllowInsecureAuth bool
	// Limits bounds what one client can make the server spend.
	Limits Limits
	// TrustedProxies lists the load balancers whose connections begin with
	// a PROXY protocol header (version 1 or 2, as HAProxy's send-proxy and
	// send-proxy-v2 send it) naming the client, whose address RemoteAddr
	// then gives. A connection from them without a valid header within
	// Limits.TLSHandshakeTimeout is closed; connections from other
	// addresses are served as they are, a header being data.
	TrustedProxies []netip.Prefix
	// LimitExempt lists the client addresses and networks the per-client
	// limits (Limits.MaxConnectionsPerClient and
	// Limits.MaxAuthFailuresPerClient) do not apply to: a webmail front
	// end, say, that connects for all its users.
	LimitExempt []netip.Prefix
	// Logger receives connection events (Debug), authentication outcomes
	// and refusals (Info), accept errors (Warn), and backend failures and
	// recovered panics (Error), with the keys proto, remote, user, cmd and
	// err; nil discards them.
	Logger *slog.Logger

	// Implementation is announced by CAPA IMPLEMENTATION (RFC 2449 §6.9);
	// "mailwire" when empty, nothing when "-".
	Implementation string
	// Expire is announced by CAPA EXPIRE (RFC 2449 §6.7): "NEVER", a number
	// of days, optionally followed by " USER". Nothing is announced when empty.
	// The server itself never expires messages.
	Expire string
	// LoginDelay is announced by CAPA LOGIN-DELAY (RFC 2449 §6.5) when
	// positive, in whole seconds. The Session enforces it by returning
	// ErrLoginDelay.
	LoginDelay time.Duration

	conns    netutil.Tracker
	clients  netutil.ClientLimits
	tls      netutil.ServerTLS
	initOnce sync.Once
	lim      Limits
	host     string
	log      *slog.Logger
}

// init computes what the fields imply, once.
func (s *Server) init() {
	s.initOnce.Do(func() {
		s.lim = s.Limits.withDefaults()
		s.clients = netutil.ClientLimits{
			MaxConns:        s.lim.MaxConnectionsPerClient,
			MaxAuthFailures: s.lim.MaxAuthFailuresPerClient,
			AuthWindow:      s.lim.AuthFailureWindow,
			Exempt:          s.LimitExempt,
		}
		s.host = s.Hostname
		if s.host == "" {
			s.host = netutil.Hostname()
		}
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.log = s.log.With("proto", "pop3")
	})
}

func (s *Server) limits() *Limits { s.init(); return &s.lim }

func (s *Server) hostname() string { s.init(); return s.host }

func (s *Server) logger() *slog.Logger { s.init(); return s.log }

// tlsConfig returns the STLS configuration, nil without TLSConfig.
func (s *Server) tlsConfig() *tls.Config { return s.tls.Config(s.TLSConfig) }

// ListenAndServe listens on Addr (":pop3" when empty) and serves plain POP3,
// with STLS when TLSConfig is set.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.Listen(s.Addr, ":pop3")
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// ListenAndServeTLS listens on Addr (":pop3s" when empty) and serves POP3
// over implicit TLS (port 995 style, RFC 8314). The certificate comes from
// the files when they are given, else from TLSConfig.
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.ListenTLS(s.Addr, ":pop3s", s.tlsConfig(), certFile, keyFile, s.proxyListener)
	if err != nil {
		return fmt.Errorf("pop3: ListenAndServeTLS: %w", err)
	}
	return s.serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine. A
// listener made by tls.NewListener gives implicit TLS. Serve always returns a
// non-nil error and closes l; after Shutdown or Close it is ErrServerClosed.
//
// With TrustedProxies, Serve reads PROXY headers from the connections l
// accepts, so l must not be a TLS listener: for implicit TLS behind a proxy,
// use ListenAndServeTLS.
func (s *Server) Serve(l net.Listener) error {
	return s.serve(s.proxyListener(l))
}

// proxyListener wraps l to read PROXY headers from TrustedProxies.
func (s *Server) proxyListener(l net.Listener) net.Listener {
	return netutil.ProxyListener(l, s.TrustedProxies, s.limits().TLSHandshakeTimeout)
}

func (s *Server) serve(l net.Listener) error {
	if s.Backend == nil {
		l.Close()
		return errors.New("pop3: Server.Backend is nil")
	}
	err := s.conns.Serve(l, s.handle, func(err error, delay time.Duration) {
		s.logger().Warn("accept error", "err", err, "retry", delay)
	})
	if errors.Is(err, netutil.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// handle starts serving a new connection, or refuses it.
func (s *Server) handle(nc net.Conn) {
	c := s.newConn(nc)
	err := s.addConn(c)
	if err == nil {
		go c.serve()
		return
	}
	c.cancel()
	if err == netutil.ErrLimit {
		s.logger().Info("connection refused: too many connections", "remote", nc.RemoteAddr().String())
		s.conns.Refuse(nc, []byte("-ERR [SYS/TEMP] too many connections, try later\r\n"))
	} else {
		nc.Close()
	}
}

// shuttingDown reports whether Shutdown or Close has been called.
func (s *Server) shuttingDown() bool { return s.conns.Closing() }

// tracked is a Conn as the server's Tracker sees it.
type tracked struct{ c *Conn }

func (t tracked) CloseIdle()   { t.c.kick() }
func (t tracked) Close() error { t.c.closeNow(); return nil }

// addConn tracks c, unless the server is closing or has MaxConnections
// already.
func (s *Server) addConn(c *Conn) error {
	return s.conns.Add(tracked{c}, s.limits().MaxConnections)
}

// untrackConn forgets c once it has ended.
func (s *Server) untrackConn(c *Conn) { s.conns.Remove(tracked{c}) }

// Shutdown stops the server gracefully: it closes the listeners, then closes
// each connection as soon as it is waiting for a command (a RETR in progress
// completes), and waits for all of them to end or for ctx to be done. Sessions
// ended this way delete nothing (RFC 1939 §6: only QUIT enters UPDATE).
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx)
}

// Close closes the listeners and all connections at once. Maildrops are
// closed without deleting anything.
func (s *Server) Close() error {
	return s.conns.Close()
}
