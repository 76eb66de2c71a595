package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/mailwire/mailwire/internal/netutil"
)

// Defaults of the Server's limits and timeouts.
const (
	// DefaultIdleTimeout is the autologout timer. RFC 1939 §3: "such a timer
	// MUST be of at least 10 minutes' duration".
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultWriteTimeout bounds each write to the client.
	DefaultWriteTimeout = 2 * time.Minute
	// DefaultTLSHandshakeTimeout bounds the TLS handshake, for STLS and
	// implicit TLS.
	DefaultTLSHandshakeTimeout = 30 * time.Second
	// DefaultMaxConnections bounds concurrent connections.
	DefaultMaxConnections = 1024
	// DefaultMaxErrors is the number of bad commands after which the server
	// closes the connection.
	DefaultMaxErrors = 10
	// DefaultMaxAuthAttempts is the number of failed logins after which the
	// server closes the connection.
	DefaultMaxAuthAttempts = 3
	// DefaultMaxSASLLine bounds one line of a SASL exchange (RFC 5034 §4 lets
	// them exceed the 255-octet command limit).
	DefaultMaxSASLLine = 12 * 1024
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
	// Backend authenticates users and opens their maildrops. Required.
	Backend Backend
	// TLSConfig enables STLS (RFC 2595) when non-nil, and is used by
	// ListenAndServeTLS. Its MinVersion is raised to TLS 1.2 if lower.
	TLSConfig *tls.Config
	// AllowInsecureAuth lets USER/PASS and AUTH run over a connection without
	// TLS. When false (the default), they are refused with -ERR [AUTH] and not
	// advertised until STLS has succeeded. APOP never sends the password and
	// is always allowed.
	AllowInsecureAuth bool
	// Hostname names the server in the greeting and in the APOP timestamp;
	// os.Hostname() when empty.
	Hostname string
	// Implementation is announced by CAPA IMPLEMENTATION (RFC 2449 §6.9);
	// "mailwire" when empty, nothing when "-".
	Implementation string
	// Expire is announced by CAPA EXPIRE (RFC 2449 §6.7): "NEVER", a number
	// of days, optionally followed by " USER". Nothing is announced when empty.
	// The server itself never expires messages.
	Expire string
	// LoginDelay is announced by CAPA LOGIN-DELAY (RFC 2449 §6.5) when
	// positive, in whole seconds. The Backend enforces it by returning
	// ErrLoginDelay.
	LoginDelay time.Duration

	// IdleTimeout is the autologout timer: how long the server waits for a
	// command (DefaultIdleTimeout when zero; RFC 1939 §3 wants at least 10
	// minutes).
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to the client (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// TLSHandshakeTimeout bounds a TLS handshake (DefaultTLSHandshakeTimeout).
	TLSHandshakeTimeout time.Duration
	// MaxConnections bounds concurrent connections; more are greeted with
	// -ERR [SYS/TEMP] and closed (closed at once past 64 such refusals in
	// progress, and on implicit TLS). DefaultMaxConnections when zero;
	// negative: no limit.
	MaxConnections int
	// MaxErrors is the number of unknown, malformed or out-of-state commands
	// after which the connection is closed (DefaultMaxErrors).
	MaxErrors int
	// MaxAuthAttempts is the number of failed USER/PASS, APOP or AUTH attempts
	// after which the connection is closed (DefaultMaxAuthAttempts).
	MaxAuthAttempts int
	// MaxSASLLine bounds a client line in an AUTH exchange, the AUTH
	// command with its initial response included, without the CRLF
	// (DefaultMaxSASLLine).
	MaxSASLLine int

	// Logger receives connection-level events and backend errors; nil is
	// silent.
	Logger *slog.Logger

	conns netutil.Tracker
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func intOr(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func (s *Server) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (s *Server) tlsConfig() *tls.Config {
	if s.TLSConfig == nil {
		return nil
	}
	cfg := s.TLSConfig.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// ListenAndServe listens on Addr (":pop3" when empty) and serves plain POP3,
// with STLS when TLSConfig is set.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = ":pop3"
	}
	l, err := net.Listen("tcp", addr)
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
	cfg, err := netutil.ImplicitTLS(s.tlsConfig(), certFile, keyFile)
	if err != nil {
		return fmt.Errorf("pop3: ListenAndServeTLS: %w", err)
	}
	addr := s.Addr
	if addr == "" {
		addr = ":pop3s"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(tls.NewListener(l, cfg))
}

// Serve accepts connections on l and serves each in its own goroutine. A
// listener made by tls.NewListener gives implicit TLS. Serve always returns a
// non-nil error and closes l; after Shutdown or Close it is ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if s.Backend == nil {
		l.Close()
		return errors.New("pop3: Server.Backend is nil")
	}
	err := s.conns.Serve(l, s.handle, func(err error, delay time.Duration) {
		s.logger().Warn("pop3: accept error", "err", err, "retry", delay)
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
		s.logger().Warn("pop3: connection refused: too many connections", "remote", nc.RemoteAddr())
		s.conns.Refuse(nc, []byte("-ERR [SYS/TEMP] too many connections, try later\r\n"))
	} else {
		nc.Close()
	}
}

// shuttingDown reports whether Shutdown or Close has been called.
func (s *Server) shuttingDown() bool { return s.conns.Closing() }

// tracked is a conn as the server's Tracker sees it.
type tracked struct{ c *conn }

func (t tracked) CloseIdle()   { t.c.kick() }
func (t tracked) Close() error { t.c.closeNow(); return nil }

// addConn tracks c, unless the server is closing or has MaxConnections
// already.
func (s *Server) addConn(c *conn) error {
	return s.conns.Add(tracked{c}, intOr(s.MaxConnections, DefaultMaxConnections))
}

// untrackConn forgets c once it has ended.
func (s *Server) untrackConn(c *conn) { s.conns.Remove(tracked{c}) }

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
