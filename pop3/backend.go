package pop3

import (
	"context"
	"io"

	"github.com/mailwire/mailwire/auth"
)

// Backend opens a Session for each connection a Server accepts. The server
// calls it from many goroutines at once.
type Backend interface {
	// NewSession is called once the connection is open (and, for implicit
	// TLS, after the handshake), before the greeting. Returning an error
	// refuses the connection: an *Error is sent as it is, any other error
	// as -ERR [SYS/TEMP], and the connection is closed.
	NewSession(c *Conn) (Session, error)
}

// BackendFunc adapts a function to the Backend interface.
type BackendFunc func(c *Conn) (Session, error)

// NewSession calls f(c).
func (f BackendFunc) NewSession(c *Conn) (Session, error) { return f(c) }

// Session authenticates the user of one connection and opens their
// maildrop. The server calls its methods from one goroutine, one at a time.
// Each method's ctx is the connection's (Conn.Context): it is cancelled when
// the connection ends or the Server is closed.
//
// Errors: one wrapping auth.ErrAuthFailed means wrong credentials (-ERR
// [AUTH]); ErrInUse a maildrop locked by another session (-ERR [IN-USE]);
// ErrLoginDelay or any *Error chooses the response code and text. Other
// errors are logged and reported as -ERR [SYS/TEMP] without their text.
type Session interface {
	// SASLMechanisms lists the mechanisms AUTH offers (RFC 5034). USER and
	// PASS (RFC 1939 §7) are offered when the list has PLAIN: the server
	// runs them as a PLAIN exchange, so one credential store serves both.
	// An *auth.ServerConfig provides both methods' substance:
	//
	//	func (s *session) SASLMechanisms() []string {
	//		return s.cfg.Mechanisms(s.conn.TLS())
	//	}
	//	func (s *session) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	//		return s.cfg.NewServer(mech, s.conn.TLS())
	//	}
	//
	// For SCRAM -PLUS on TLS 1.2 connections, set the ServerConfig's
	// Certificate to the leaf certificate of the Server's TLSConfig: a
	// server's TLS 1.2 connection state does not hold it, and
	// tls-server-end-point (RFC 5929 §4) needs it. TLS 1.3 needs nothing.
	SASLMechanisms() []string
	// NewSASLServer starts the server side of one exchange of mech.
	NewSASLServer(ctx context.Context, mech string) (auth.Server, error)
	// OpenMaildrop opens and locks the maildrop of username, who has just
	// authenticated (RFC 1939 §4: "the server then acquires an
	// exclusive-access lock on the maildrop"). A maildrop that is already
	// locked must yield ErrInUse.
	OpenMaildrop(ctx context.Context, username string) (Maildrop, error)
	// Close is called exactly once, when the connection ends, however it
	// ends, after the maildrop's Close.
	Close() error
}

// APOPSession is implemented by Sessions that support APOP (RFC 1939 §7).
// APOP needs the shared secret itself, in the clear, to compute the digest.
type APOPSession interface {
	Session
	// APOPSecret returns the secret shared with the user. An unknown user must
	// yield an error wrapping auth.ErrAuthFailed.
	APOPSecret(ctx context.Context, username string) (string, error)
}

// Message describes one message of a maildrop.
type Message struct {
	// Size is the size in octets of the message as RETR sends it, that is with
	// CRLF line ends (RFC 1939 §5: "the exact size of the message"); see
	// WireSize.
	Size int64
	// UID is the unique-id listing of the message (RFC 1939 §7, UIDL): 1 to
	// 70 characters in the range 0x21 to 0x7E, never reused for another
	// message of the same maildrop. The server refuses a maildrop listing
	// an invalid one (or a negative Size) with -ERR [SYS/PERM].
	UID string
}

// Maildrop is one user's locked maildrop for the duration of a session. The
// server calls its methods from a single goroutine.
//
// Message numbers in the protocol are indexes into the slice Messages returns,
// plus one; they stay stable for the session (RFC 1939 §5).
type Maildrop interface {
	// Messages lists the messages in the maildrop. It is called once, when the
	// session enters the TRANSACTION state.
	Messages(ctx context.Context) ([]Message, error)
	// Open returns the content of message i (an index into Messages). The
	// server streams it to the client, converting bare LF to CRLF, and closes
	// it.
	Open(ctx context.Context, i int) (io.ReadCloser, error)
	// Delete removes the messages with the given indexes. It is called at most
	// once, in the UPDATE state after QUIT (RFC 1939 §6), and never when the
	// connection ends otherwise.
	Delete(ctx context.Context, indexes []int) error
	// Close releases the lock. It is called exactly once per opened maildrop,
	// however the session ends.
	Close() error
}
