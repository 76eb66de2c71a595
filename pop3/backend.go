package pop3

import (
	"context"
	"crypto/tls"
	"io"
	"net"

	"github.com/mailwire/mailwire/auth"
)

// Backend authenticates users and opens their maildrops. The server calls it
// from many goroutines at once.
//
// Errors: return an error wrapping auth.ErrAuthFailed for wrong credentials
// (the server replies -ERR [AUTH]); ErrInUse when the maildrop is locked by
// another session (-ERR [IN-USE]); ErrLoginDelay or any *Error to choose the
// response code and text. Other errors are logged and reported as
// -ERR [SYS/TEMP] without their text.
type Backend interface {
	// Authenticate checks a user name and password given with USER and PASS
	// (RFC 1939 §7).
	Authenticate(ctx context.Context, username, password string) error
	// OpenMaildrop opens and locks the maildrop of a user who has
	// authenticated (RFC 1939 §4: "the server then acquires an
	// exclusive-access lock on the maildrop"). A maildrop that is already
	// locked must yield ErrInUse.
	OpenMaildrop(ctx context.Context, username string) (Maildrop, error)
}

// APOPBackend is implemented by backends that support APOP (RFC 1939 §7).
// APOP needs the shared secret itself, in the clear, to compute the digest.
type APOPBackend interface {
	Backend
	// APOPSecret returns the secret shared with the user. An unknown user must
	// yield an error wrapping auth.ErrAuthFailed.
	APOPSecret(ctx context.Context, username string) (string, error)
}

// SASLBackend is implemented by backends that support AUTH (RFC 5034). An
// *auth.ServerConfig provides both methods' substance:
//
//	func (b *myBackend) SASLMechanisms(cs *tls.ConnectionState) []string {
//		return b.sasl.Mechanisms(cs)
//	}
//	func (b *myBackend) NewSASLServer(ctx context.Context, mech string, cs *tls.ConnectionState) (auth.Server, error) {
//		return b.sasl.NewServer(mech, cs)
//	}
//
// For SCRAM -PLUS on TLS 1.2 connections, set the ServerConfig's Certificate
// to the leaf certificate of the Server's TLSConfig: a server's TLS 1.2
// connection state does not hold it, and tls-server-end-point (RFC 5929 §4)
// needs it. TLS 1.3 needs nothing (tls-exporter, RFC 9266).
type SASLBackend interface {
	Backend
	// SASLMechanisms lists the mechanisms to offer on a connection in state
	// cs (nil without TLS).
	SASLMechanisms(cs *tls.ConnectionState) []string
	// NewSASLServer starts the server side of one exchange of mech. The
	// identity it authenticates is then passed to OpenMaildrop.
	NewSASLServer(ctx context.Context, mech string, cs *tls.ConnectionState) (auth.Server, error)
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

// ConnState describes the connection a request came from. The server puts it
// in the context passed to the Backend; see ConnStateFromContext.
type ConnState struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// TLS is non-nil once the connection is protected by TLS.
	TLS *tls.ConnectionState
}

type connStateKey struct{}

// ConnStateFromContext returns the connection state the server stored in a
// context passed to a Backend.
func ConnStateFromContext(ctx context.Context) (ConnState, bool) {
	cs, ok := ctx.Value(connStateKey{}).(ConnState)
	return cs, ok
}
