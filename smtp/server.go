package smtp

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

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or Close.
var ErrServerClosed = errors.New("smtp: server closed")

// Server is an SMTP or LMTP server. The zero value, with a Backend, is ready
// to use; a Server must not be copied or changed once it serves.
type Server struct {
	// Addr is the address ListenAndServe listens on; "" means ":25"
	// (":465" for ListenAndServeTLS; LMTP has no default port).
	Addr string
	// Hostname is the server's host name, sent in the greeting and the EHLO
	// reply; "" means os.Hostname(), or "localhost" when that fails.
	Hostname string
	// Backend opens a Session per connection. It must be set.
	Backend Backend
	// TLSConfig enables STARTTLS (RFC 3207) when set, and is used by
	// ListenAndServeTLS. It is cloned once; MinVersion is TLS 1.2 unless it
	// sets one.
	TLSConfig *tls.Config
	// AllowInsecureAuth allows AUTH on connections without TLS. Leave it
	// false except on trusted networks: PLAIN and LOGIN send passwords.
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
	// Limits.MaxAuthFailuresPerClient) do not apply to: a submission
	// server's own webmail, say, or a trusted relay.
	LimitExempt []netip.Prefix
	// LMTP makes the server speak LMTP (RFC 2033) instead of SMTP.
	LMTP bool
	// BareNewline says what to do with a bare CR or LF in DATA; the zero
	// value, BareNewlineReject, refuses such messages with 554 5.6.0.
	BareNewline BareNewlinePolicy
	// AllowNUL accepts messages whose data holds a NUL octet. By default
	// such a message is refused, as one with a bare CR or LF is, with 554
	// 5.6.0 once its data has ended, the session going on: 7bit and 8bit
	// data hold no NUL (RFC 2045 §2.8), and a server downstream that
	// mishandles one could be made to see a message end where there is
	// none. The Session's Data reader returns ErrNUL at the offending line.
	// A message sent with BDAT and BODY=BINARYMIME (RFC 3030) may carry
	// any octet either way.
	AllowNUL bool
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
	})
}

// limits returns Limits with the defaults applied.
func (s *Server) limits() *Limits { s.init(); return &s.lim }

func (s *Server) domain() string { s.init(); return s.host }

// tlsConfig returns the STARTTLS configuration, nil without TLSConfig.
func (s *Server) tlsConfig() *tls.Config { return s.tls.Config(s.TLSConfig) }

func (s *Server) logf(level slog.Level, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Log(context.Background(), level, msg, append([]any{"proto", s.proto()}, args...)...)
	}
}

// proto names the protocol in logs.
func (s *Server) proto() string {
	if s.LMTP {
		return "lmtp"
	}
	return "smtp"
}

// ListenAndServe listens on s.Addr and serves connections.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.Listen(s.Addr, ":25")
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// ListenAndServeTLS listens on s.Addr and serves connections over implicit
// TLS (RFC 8314 §3.3, port 465 for submission), with the certificate and key
// in the given PEM files, or s.TLSConfig's certificates when both are "".
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	l, err := netutil.ListenTLS(s.Addr, ":465", s.tlsConfig(), certFile, keyFile, s.proxyListener)
	if err != nil {
		return fmt.Errorf("smtp: ListenAndServeTLS: %w", err)
	}
	return s.serve(l)
}

// shuttingDown reports whether Shutdown or Close has been called.
func (s *Server) shuttingDown() bool { return s.conns.Closing() }

// tracked is a Conn as the server's Tracker sees it.
type tracked struct{ c *Conn }

func (t tracked) CloseIdle()   { t.c.interruptIfIdle() }
func (t tracked) Close() error { t.c.abort(); return nil }

// Serve accepts connections on l and serves each in its own goroutine. It
// closes l when it returns; after Shutdown or Close it returns ErrServerClosed.
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
		return errors.New("smtp: Server.Backend is nil")
	}
	err := s.conns.Serve(l, s.handle, func(err error, delay time.Duration) {
		s.logf(slog.LevelWarn, "accept error", "err", err, "retry", delay)
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
		// RFC 5321 §3.8: 421.
		s.logf(slog.LevelInfo, "connection refused: too many connections", "remote", nc.RemoteAddr().String())
		s.conns.Refuse(nc, fmt.Appendf(nil, "421 4.7.0 %s Too many connections, try again later\r\n", s.domain()))
	} else {
		nc.Close()
	}
}

// Shutdown stops the server gracefully: it closes the listeners, lets
// transactions in progress finish, replies 421 4.3.2 to connections waiting for
// a command outside a transaction and closes them, and waits until all
// connections are closed or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx)
}

// Close closes the listeners at once and ends every connection: a
// connection waiting for the client, in a transaction or not, is told 421
// 4.3.2 by its own goroutine and closed (RFC 5321 §3.8); one busy elsewhere,
// in a slow Session method, is closed within a second whatever it is doing.
// A transaction ended this way stores nothing.
func (s *Server) Close() error {
	return s.conns.Close()
}
