// Package smtptest provides an SMTP server for tests, as net/http/httptest
// does for HTTP: it listens on 127.0.0.1, accepts every message (unless told
// otherwise) and records it, so that a test can send mail with its own code
// and then look at what arrived.
//
//	srv := smtptest.NewServer(t)
//	err := smtp.SendMail(ctx, srv.Addr, nil, "a@example.test", []string{"b@example.test"}, msg)
//	m := srv.Messages()[0] // m.From, m.To, m.Data
//
// Options add STARTTLS or implicit TLS with a self-signed certificate (the
// client side is in ClientTLSConfig), AUTH with one user name and password,
// LMTP, and hooks that refuse senders, recipients or messages so that a test
// can exercise its error handling. The server is mailwire's smtp.Server, so
// what it accepts follows the RFCs.
//
// A message is recorded before the server replies to its data: once the
// client has the reply, Messages holds the message. Nothing to wait for.
package smtptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/mailwire/mailwire/smtp"
)

// Message is one message the server received.
type Message struct {
	// From is the reverse-path, "" for the null path of bounces.
	From string
	// To lists the accepted recipients.
	To []string
	// MailOptions are the parameters of the MAIL command.
	MailOptions smtp.MailOptions
	// RcptOptions are the parameters of each accepted RCPT, as To.
	RcptOptions []smtp.RcptOptions
	// Data is the message as received: dot-stuffing removed for DATA, the
	// chunks joined for BDAT.
	Data []byte
	// Hello is the name the client gave with EHLO, HELO or LHLO.
	Hello string
	// TLS reports whether the connection used TLS (STARTTLS or implicit).
	TLS bool
	// Identity is the identity the client authenticated as, "" without AUTH.
	Identity string
	// RemoteAddr is the client's address.
	RemoteAddr string
}

// Server is a recording SMTP server on a loopback port.
type Server struct {
	// Addr is the "127.0.0.1:port" address the server listens on.
	Addr string
	// Server is the underlying smtp.Server.
	Server *smtp.Server

	clientTLS *tls.Config
	mu        sync.Mutex
	msgs      []Message
	conns     int
	hooks     hooks
	ln        net.Listener
	done      chan error
	closeOnce sync.Once
}

type hooks struct {
	mail func(from string) error
	rcpt func(to string) error
	data func(m *Message) error
}

type config struct {
	startTLS, implicitTLS bool
	user, pass            string
	insecureAuth          bool
	lmtp                  bool
	hooks                 hooks
	configure             func(*smtp.Server)
}

// Option configures a Server.
type Option func(*config)

// WithSTARTTLS offers STARTTLS (RFC 3207) with a self-signed certificate for
// 127.0.0.1 and localhost. Clients trust it with ClientTLSConfig.
func WithSTARTTLS() Option { return func(c *config) { c.startTLS = true } }

// WithImplicitTLS serves TLS from the first byte, as on port 465 (RFC 8314),
// with a self-signed certificate. Clients trust it with ClientTLSConfig.
func WithImplicitTLS() Option { return func(c *config) { c.implicitTLS = true } }

// WithAuth offers AUTH PLAIN and LOGIN (and the other password mechanisms
// mailwire's auth package serves) for one user name and password. The
// server advertises AUTH only over TLS, so combine it with WithSTARTTLS or
// WithImplicitTLS, or allow cleartext with WithInsecureAuth.
func WithAuth(username, password string) Option {
	return func(c *config) { c.user, c.pass = username, password }
}

// WithInsecureAuth lets clients authenticate without TLS.
func WithInsecureAuth() Option { return func(c *config) { c.insecureAuth = true } }

// WithLMTP makes the server speak LMTP (RFC 2033) instead of SMTP.
func WithLMTP() Option { return func(c *config) { c.lmtp = true } }

// WithMailHook calls f with each reverse-path; an error refuses MAIL. An
// *smtp.Error is sent as it is, so a test picks the reply it wants.
func WithMailHook(f func(from string) error) Option {
	return func(c *config) { c.hooks.mail = f }
}

// WithRcptHook calls f with each recipient; an error refuses that RCPT.
func WithRcptHook(f func(to string) error) Option {
	return func(c *config) { c.hooks.rcpt = f }
}

// WithDataHook calls f with each complete message before it is recorded;
// an error refuses the message, which is then not recorded.
func WithDataHook(f func(m *Message) error) Option {
	return func(c *config) { c.hooks.data = f }
}

// WithConfig lets f change the smtp.Server (limits, timeouts, Logger)
// before it starts.
func WithConfig(f func(*smtp.Server)) Option { return func(c *config) { c.configure = f } }

// NewServer starts a recording server on 127.0.0.1. When tb is not nil, the
// server is closed when the test ends, and a failure to start fails the test;
// with a nil tb, NewServer panics on failure and the caller must Close it.
func NewServer(tb testing.TB, opts ...Option) *Server {
	if tb != nil {
		tb.Helper()
	}
	s, err := start(opts)
	if err != nil {
		if tb == nil {
			panic("smtptest: " + err.Error())
		}
		tb.Fatalf("smtptest: %v", err)
	}
	if tb != nil {
		tb.Cleanup(func() { s.Close() })
	}
	return s
}

func start(opts []Option) (*Server, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{hooks: cfg.hooks, done: make(chan error, 1)}
	srv := &smtp.Server{
		Hostname:          "smtptest.localhost",
		LMTP:              cfg.lmtp,
		AllowInsecureAuth: cfg.insecureAuth,
	}
	var creds *auth.ServerConfig
	if cfg.user != "" {
		store := auth.NewMemoryStore()
		if err := store.SetPassword(cfg.user, cfg.pass); err != nil {
			return nil, err
		}
		creds = &auth.ServerConfig{Credentials: store, AllowCleartext: cfg.insecureAuth}
	}
	srv.Backend = smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		base := &session{s: s, c: c}
		if creds != nil {
			return &authSession{session: base, creds: creds}, nil
		}
		return base, nil
	})
	if cfg.startTLS || cfg.implicitTLS {
		pair, err := selfsigned.NewPair()
		if err != nil {
			return nil, err
		}
		if cert, err := x509.ParseCertificate(pair.Server.Certificates[0].Certificate[0]); err == nil && creds != nil {
			creds.Certificate = cert
		}
		s.clientTLS = pair.Client
		srv.TLSConfig = pair.Server
	}
	if cfg.configure != nil {
		cfg.configure(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if cfg.implicitTLS {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.Addr, s.Server, s.ln = ln.Addr().String(), srv, ln
	go func() { s.done <- srv.Serve(ln) }()
	return s, nil
}

// ClientTLSConfig returns a client TLS configuration that trusts the
// server's certificate, or nil when the server has no TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// Reset forgets the messages received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	s.msgs = nil
	s.mu.Unlock()
}

// Connections returns how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Close stops the server and closes every connection.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.Server.Close()
		if serr := <-s.done; serr != nil && !errors.Is(serr, smtp.ErrServerClosed) && err == nil {
			err = serr
		}
	})
	return err
}

type session struct {
	s    *Server
	c    *smtp.Conn
	from string
	mo   smtp.MailOptions
	to   []string
	ro   []smtp.RcptOptions
}

func (x *session) Mail(_ context.Context, from smtp.Mailbox, opts *smtp.MailOptions) error {
	addr := from.String()
	if h := x.s.hooks.mail; h != nil {
		if err := h(addr); err != nil {
			return err
		}
	}
	x.from, x.to, x.ro = addr, nil, nil
	x.mo = smtp.MailOptions{}
	if opts != nil {
		x.mo = *opts
	}
	return nil
}

func (x *session) Rcpt(_ context.Context, to smtp.Mailbox, opts *smtp.RcptOptions) error {
	addr := to.String()
	if h := x.s.hooks.rcpt; h != nil {
		if err := h(addr); err != nil {
			return err
		}
	}
	x.to = append(x.to, addr)
	var ro smtp.RcptOptions
	if opts != nil {
		ro = *opts
	}
	x.ro = append(x.ro, ro)
	return nil
}

func (x *session) Data(_ context.Context, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{
		From:        x.from,
		To:          append([]string(nil), x.to...),
		MailOptions: x.mo,
		RcptOptions: append([]smtp.RcptOptions(nil), x.ro...),
		Data:        data,
		Hello:       x.c.Hostname(),
		TLS:         x.c.TLS() != nil,
		Identity:    x.c.Identity(),
		RemoteAddr:  x.c.RemoteAddr().String(),
	}
	if h := x.s.hooks.data; h != nil {
		if err := h(&m); err != nil {
			return err
		}
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset(context.Context) { x.from, x.to, x.ro = "", nil, nil }

func (x *session) Close() error { return nil }

type authSession struct {
	*session
	creds *auth.ServerConfig
}

func (a *authSession) SASLMechanisms() []string { return a.creds.Mechanisms(a.c.TLS()) }

func (a *authSession) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	srv, err := a.creds.NewServer(mech, a.c.TLS())
	if err != nil {
		return nil, fmt.Errorf("smtptest: %w", err)
	}
	return srv, nil
}
