package imapserver

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
var ErrServerClosed = errors.New("imapserver: server closed")

// Server is an IMAP4rev1 server (RFC 3501). The zero value, with a Backend,
// is ready to use; fields must not change once the server is serving.
type Server struct {
	// Addr is the address ListenAndServe and ListenAndServeTLS listen on;
	// ":imap" (143) or ":imaps" (993) when empty.
	Addr string
	// Hostname names the server in the greeting and in a CRAM-MD5
	// challenge; "" means os.Hostname(), or "localhost" when that fails.
	Hostname string
	// Backend opens a Session per connection. Required.
	Backend Backend
	// TLSConfig enables STARTTLS (RFC 3501 §6.2.1) when non-nil, and is
	// used by ListenAndServeTLS. It is cloned once; MinVersion is TLS 1.2
	// unless it sets one.
	TLSConfig *tls.Config
	// AllowInsecureAuth lets LOGIN and AUTHENTICATE run over a connection
	// without TLS. When false (the default), LOGINDISABLED is announced and
	// both are refused until STARTTLS has succeeded (RFC 3501 §6.2.3).
	AllowInsecureAuth bool
	// Limits bounds what one client can make the server spend.
	Limits Limits
	// TrustedProxies lists the load balancers whose connections begin with
	// a PROXY protocol header (version 1 or 2) naming the client, whose
	// address RemoteAddr then gives. Connections from other addresses are
	// served as they are.
	TrustedProxies []netip.Prefix
	// LimitExempt lists the client addresses the per-client limits do not
	// apply to.
	LimitExempt []netip.Prefix
	// Logger receives connection events (Debug), authentication outcomes
	// and refusals (Info), accept errors (Warn), and backend failures and
	// recovered panics (Error), with the keys proto, remote, user, cmd and
	// err; nil discards them.
	Logger *slog.Logger

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
		s.log = s.log.With("proto", "imap")
	})
}

func (s *Server) limits() *Limits { s.init(); return &s.lim }

func (s *Server) hostname() string { s.init(); return s.host }

func (s *Server) logger() *slog.Logger { s.init(); return s.log }

// tlsConfig returns the STARTTLS configuration, nil without TLSConfig.
func (s *Server) tlsConfig() *tls.Config { return s.tls.Config(s.TLSConfig) }

// ListenAndServe listens on Addr (":imap" when empty) and serves IMAP, with
// STARTTLS when TLSConfig is set.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.Listen(s.Addr, ":imap")
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// ListenAndServeTLS listens on Addr (":imaps" when empty) and serves IMAP
// over implicit TLS (port 993, RFC 8314). The certificate comes from the
// files when they are given, else from TLSConfig.
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.ListenTLS(s.Addr, ":imaps", s.tlsConfig(), certFile, keyFile, s.proxyListener)
	if err != nil {
		return fmt.Errorf("imapserver: ListenAndServeTLS: %w", err)
	}
	return s.serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine. A
// listener made by tls.NewListener gives implicit TLS. Serve always returns
// a non-nil error and closes l; after Shutdown or Close it is
// ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.serve(s.proxyListener(l))
}

func (s *Server) proxyListener(l net.Listener) net.Listener {
	return netutil.ProxyListener(l, s.TrustedProxies, s.limits().TLSHandshakeTimeout)
}

func (s *Server) serve(l net.Listener) error {
	if s.Backend == nil {
		l.Close()
		return errors.New("imapserver: Server.Backend is nil")
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
	err := s.conns.Add(tracked{c}, s.limits().MaxConnections)
	if err == nil {
		go c.serve()
		return
	}
	c.cancel()
	if err == netutil.ErrLimit {
		s.logger().Info("connection refused: too many connections", "remote", nc.RemoteAddr().String())
		s.conns.Refuse(nc, []byte("* BYE [UNAVAILABLE] too many connections, try later\r\n"))
	} else {
		nc.Close()
	}
}

func (s *Server) shuttingDown() bool { return s.conns.Closing() }

// tracked is a Conn as the server's Tracker sees it.
type tracked struct{ c *Conn }

func (t tracked) CloseIdle()   { t.c.kick() }
func (t tracked) Close() error { t.c.closeNow(); return nil }

// Shutdown stops the server gracefully: it closes the listeners, then says
// "* BYE" to each connection as soon as it is waiting for a command or
// idling (a command in progress completes), and waits for all of them to
// end or for ctx to be done.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx)
}

// Close closes the listeners and all connections at once.
func (s *Server) Close() error {
	return s.conns.Close()
}
