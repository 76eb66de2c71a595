package smtp

import (
	"context"
	"io"

	"github.com/mailwire/mailwire/auth"
)

// Backend opens a Session for each connection a Server accepts.
type Backend interface {
	// NewSession is called once the connection is open (and, for implicit TLS,
	// after the handshake), before the greeting. Returning an error refuses the
	// connection: an *Error is sent as the greeting reply (use 554 to refuse
	// service, RFC 5321 §3.1), any other error as 421 4.3.2, and the connection
	// is closed.
	NewSession(c *Conn) (Session, error)
}

// BackendFunc adapts a function to the Backend interface.
type BackendFunc func(c *Conn) (Session, error)

// NewSession calls f(c).
func (f BackendFunc) NewSession(c *Conn) (Session, error) { return f(c) }

// Session receives the mail transactions of one connection. The Server calls
// its methods from one goroutine, one at a time. Each method's ctx is the
// connection's (Conn.Context): it is cancelled when the connection ends or
// the Server is closed.
//
// A method returning an *Error has that reply sent to the client. Any other
// error is logged and answered with 451 4.3.0, a transient failure, so the
// client keeps the message and retries.
type Session interface {
	// Mail starts a transaction with the reverse-path, which is the zero
	// Mailbox for the null path "<>" of bounces.
	Mail(ctx context.Context, from Mailbox, opts *MailOptions) error
	// Rcpt adds a recipient. Each refusal gets its own reply; the transaction
	// goes on with the recipients accepted.
	Rcpt(ctx context.Context, to Mailbox, opts *RcptOptions) error
	// Data receives the message as the client sends it: for DATA with the
	// dot-stuffing removed, for BDAT the chunks joined. Data must read r to its
	// end (io.EOF) and store the message durably before returning nil: the
	// server replies success only then. An error from r (ErrMessageTooLarge,
	// ErrBareNewline, a broken connection) means the message must not be
	// stored; return it or any error.
	Data(ctx context.Context, r io.Reader) error
	// Reset ends the current transaction: after RSET, a new EHLO, STARTTLS
	// and each message's end, whatever its outcome.
	Reset(ctx context.Context)
	// Close is called exactly once, when the connection ends, however it
	// ends.
	Close() error
}

// AuthSession is implemented by Sessions that offer SMTP AUTH (RFC 4954).
// The Server advertises and accepts AUTH only over TLS, unless
// Server.AllowInsecureAuth is set. An *auth.ServerConfig provides the
// substance of both methods:
//
//	func (s *session) SASLMechanisms() []string {
//		return s.cfg.Mechanisms(s.conn.TLS())
//	}
//	func (s *session) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
//		return s.cfg.NewServer(mech, s.conn.TLS())
//	}
//
// For SCRAM's -PLUS mechanisms on TLS 1.2 connections, set the config's
// Certificate to the server's own leaf certificate: the
// tls-server-end-point channel binding (RFC 5929 §4) needs it and a
// server's tls.ConnectionState does not hold it. TLS 1.3 uses tls-exporter
// (RFC 9266) and needs nothing.
type AuthSession interface {
	Session
	// SASLMechanisms lists the SASL mechanisms to advertise.
	SASLMechanisms() []string
	// NewSASLServer returns the server side of one exchange of mech, one of
	// those advertised. The authenticated identity (auth.Server.Identity)
	// is then available from Conn.Identity. An exchange failing with an
	// error wrapping auth.ErrAuthFailed is answered 535 5.7.8, an *Error as
	// it is, any other error 454 4.7.0. A *auth.CRAMMD5Server returned
	// without a Hostname gets the Server's, which its challenge names.
	NewSASLServer(ctx context.Context, mech string) (auth.Server, error)
}

// StatusCollector receives the per-recipient outcome of an LMTP delivery.
type StatusCollector interface {
	// SetStatus sets the reply for one accepted recipient: nil for success,
	// an *Error for a refusal. When a recipient was accepted twice, each call
	// sets the first one not yet set.
	SetStatus(rcpt Mailbox, err error)
}

// LMTPSession is implemented by Sessions that deliver to each LMTP recipient
// separately (RFC 2033 §4.2). Without it, the Server replies to every
// recipient with the outcome of Data.
type LMTPSession interface {
	Session
	// LMTPData is like Data, setting the outcome of each recipient through
	// status. A recipient without a status gets the outcome of the returned
	// error.
	LMTPData(ctx context.Context, r io.Reader, status StatusCollector) error
}
