package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/netutil"
)

// Defaults for the Server's limits; a zero field means its default.
const (
	// DefaultReadTimeout: RFC 5321 §4.5.3.2.7, the server waits at least 5
	// minutes for each command; also applied to each read of message data
	// (§4.5.3.2.5: 3 minutes per data block on the client side).
	DefaultReadTimeout = 5 * time.Minute
	// DefaultDataTimeout bounds the transfer of one message, so that a
	// client trickling bytes just within ReadTimeout cannot hold a
	// connection for hours: an hour moves 32 MiB at 10 KiB/s.
	DefaultDataTimeout = time.Hour
	// DefaultWriteTimeout bounds each flush of replies.
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultMaxMessageBytes is the message size limit advertised with SIZE.
	DefaultMaxMessageBytes = 32 << 20
	// DefaultMaxRecipients: RFC 5321 §4.5.3.1.8 asks for at least 100.
	DefaultMaxRecipients = 100
	// DefaultMaxLineLength bounds a command line, without CR LF. RFC 5321
	// §4.5.3.1.4 says 512 octets; ESMTP parameters add to it (RFC 1869 §4.1.2).
	DefaultMaxLineLength = 2048
	// DefaultMaxConnections bounds concurrent connections.
	DefaultMaxConnections = 1000
	// DefaultMaxErrors is how many error replies a connection may earn before
	// the server replies 421 and disconnects (Postfix's smtpd_hard_error_limit
	// is also 20).
	DefaultMaxErrors = 20
	// DefaultMaxJunkCommands is how many NOOP, RSET, VRFY, EXPN, HELP and
	// EHLO/HELO/LHLO commands a connection may send, between messages
	// delivered, before each further one counts as an error (Postfix's
	// smtpd_junk_command_limit is also 100).
	DefaultMaxJunkCommands = 100
	// maxAuthLineLength: RFC 4954 §4, a SASL response line may be 12288 octets.
	maxAuthLineLength = 12288
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or Close.
var ErrServerClosed = errors.New("smtp: Server closed")

// Server is an SMTP or LMTP server. Set Backend (and any other field) before
// calling Serve; a Server must not be copied or changed after that.
type Server struct {
	// Addr is the address ListenAndServe listens on; "" means ":25"
	// (":465" for ListenAndServeTLS, and for LMTP there is no default port).
	Addr string
	// Domain is the server's host name, sent in the greeting and the EHLO
	// reply; "" means "localhost".
	Domain string
	// Backend opens a Session per connection. It must be set.
	Backend Backend
	// TLSConfig enables STARTTLS (RFC 3207) when set, and is used by
	// ListenAndServeTLS. TLS 1.2 is the minimum unless it says otherwise.
	TLSConfig *tls.Config

	// ReadTimeout bounds the wait for each command line and each read of
	// message data; 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// DataTimeout bounds the whole transfer of a message, from DATA to the
	// final dot or from the first BDAT to BDAT LAST, however steadily the
	// bytes come; 0 means DefaultDataTimeout, negative means no limit. The
	// client then gets 421 4.4.2 and the connection is closed.
	DataTimeout time.Duration
	// WriteTimeout bounds each write of replies; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxMessageBytes is the largest message accepted, advertised with SIZE
	// (RFC 1870); 0 means DefaultMaxMessageBytes, negative means no limit.
	MaxMessageBytes int64
	// MaxRecipients is the most recipients per transaction; 0 means
	// DefaultMaxRecipients. Further RCPT commands get 452 4.5.3.
	MaxRecipients int
	// MaxLineLength is the longest command line accepted, without CR LF; 0
	// means DefaultMaxLineLength. Longer lines get 500 5.5.2.
	MaxLineLength int
	// MaxConnections is the most connections served at once; 0 means
	// DefaultMaxConnections, negative means no limit. Further connections get
	// 421 4.7.0 and are closed (closed at once past 64 such refusals in
	// progress, and on implicit TLS).
	MaxConnections int
	// MaxErrors is how many error replies a connection may get before it is
	// closed with 421 4.7.0; 0 means DefaultMaxErrors, negative no limit.
	MaxErrors int
	// MaxJunkCommands is how many NOOP, RSET, VRFY, EXPN, HELP and
	// EHLO/HELO/LHLO commands a connection may send between messages
	// delivered before each further one counts toward MaxErrors, so that a
	// client cannot hold a connection forever with them; 0 means
	// DefaultMaxJunkCommands, negative means no limit.
	MaxJunkCommands int
	// AllowInsecureAuth allows AUTH on connections without TLS. Leave it
	// false except on trusted networks: PLAIN and LOGIN send passwords.
	AllowInsecureAuth bool
	// LMTP makes the server speak LMTP (RFC 2033) instead of SMTP.
	LMTP bool
	// BareNewline says what to do with a bare CR or LF in DATA; the zero
	// value, BareNewlineReject, refuses such messages with 554 5.6.0.
	BareNewline BareNewlinePolicy
	// Logger, when set, receives connection events and errors.
	Logger *slog.Logger

	conns   netutil.Tracker
	tlsOnce sync.Once
	tlsCfg  *tls.Config
}

func (s *Server) domain() string {
	if s.Domain == "" {
		return "localhost"
	}
	return s.Domain
}

func (s *Server) readTimeout() time.Duration {
	if s.ReadTimeout <= 0 {
		return DefaultReadTimeout
	}
	return s.ReadTimeout
}

func (s *Server) dataTimeout() time.Duration {
	if s.DataTimeout == 0 {
		return DefaultDataTimeout
	}
	return s.DataTimeout
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout <= 0 {
		return DefaultWriteTimeout
	}
	return s.WriteTimeout
}

func (s *Server) maxMessageBytes() int64 {
	switch {
	case s.MaxMessageBytes == 0:
		return DefaultMaxMessageBytes
	case s.MaxMessageBytes < 0:
		return 0
	}
	return s.MaxMessageBytes
}

func (s *Server) maxRecipients() int {
	if s.MaxRecipients <= 0 {
		return DefaultMaxRecipients
	}
	return s.MaxRecipients
}

func (s *Server) maxLineLength() int {
	if s.MaxLineLength <= 0 {
		return DefaultMaxLineLength
	}
	return s.MaxLineLength
}

func (s *Server) maxConnections() int {
	if s.MaxConnections == 0 {
		return DefaultMaxConnections
	}
	return s.MaxConnections
}

func (s *Server) maxErrors() int {
	if s.MaxErrors == 0 {
		return DefaultMaxErrors
	}
	return s.MaxErrors
}

func (s *Server) maxJunkCommands() int {
	if s.MaxJunkCommands == 0 {
		return DefaultMaxJunkCommands
	}
	return s.MaxJunkCommands
}

// tlsConfig returns TLSConfig with the TLS 1.2 minimum applied, made once so
// that all connections share session ticket keys.
func (s *Server) tlsConfig() *tls.Config {
	s.tlsOnce.Do(func() {
		s.tlsCfg = s.TLSConfig.Clone()
		if s.tlsCfg.MinVersion == 0 {
			s.tlsCfg.MinVersion = tls.VersionTLS12
		}
	})
	return s.tlsCfg
}

func (s *Server) logf(level slog.Level, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Log(context.Background(), level, msg, args...)
	}
}

// ListenAndServe listens on s.Addr and serves connections.
func (s *Server) ListenAndServe() error {
	if s.shuttingDown() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = ":25"
	}
	l, err := net.Listen("tcp", addr)
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
	addr := s.Addr
	if addr == "" {
		addr = ":465"
	}
	var base *tls.Config
	if s.TLSConfig != nil {
		base = s.tlsConfig()
	}
	cfg, err := netutil.ImplicitTLS(base, certFile, keyFile)
	if err != nil {
		return fmt.Errorf("smtp: ListenAndServeTLS: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(tls.NewListener(l, cfg))
}

// shuttingDown reports whether Shutdown or Close has been called.
func (s *Server) shuttingDown() bool { return s.conns.Closing() }

// tracked is a Conn as the server's Tracker sees it.
type tracked struct{ c *Conn }

func (t tracked) CloseIdle()   { t.c.interruptIfIdle() }
func (t tracked) Close() error { t.c.abort(); return nil }

// Serve accepts connections on l and serves each in its own goroutine. It
// closes l when it returns; after Shutdown or Close it returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if s.Backend == nil {
		return errors.New("smtp: Server.Backend is nil")
	}
	err := s.conns.Serve(l, s.handle, func(err error, delay time.Duration) {
		s.logf(slog.LevelWarn, "smtp: accept error", "err", err, "retry", delay)
	})
	if errors.Is(err, netutil.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// handle starts serving a new connection, or refuses it.
func (s *Server) handle(nc net.Conn) {
	c := s.newConn(nc)
	err := s.conns.Add(tracked{c}, s.maxConnections())
	if err == nil {
		go c.serve()
		return
	}
	c.cancel()
	if err == netutil.ErrLimit {
		// RFC 5321 §3.8: 421.
		s.logf(slog.LevelWarn, "smtp: connection refused: too many connections", "remote", nc.RemoteAddr())
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
