package auth

import (
	"context"
	"errors"
)

// Client is the client side of one SASL exchange (RFC 4422 §3).
// Protocol packages do the base64 and the framing; a Client sees raw bytes.
type Client interface {
	// Start begins the exchange. It returns the mechanism name and the initial
	// response: nil when the mechanism sends none, an empty non-nil slice for an
	// empty initial response (sent as "=" in SMTP, POP3 and IMAP).
	Start() (mech string, ir []byte, err error)
	// Next answers a server challenge.
	Next(challenge []byte) (response []byte, err error)
}

// Server is the server side of one SASL exchange.
type Server interface {
	// Next takes the client's next response and returns the next challenge, or
	// done when the exchange is over. The first call carries the initial
	// response, or nil when the client sent none. A successful exchange ends with
	// done true and a nil error; challenge then holds additional data to send with
	// the success reply, if any.
	Next(ctx context.Context, response []byte) (challenge []byte, done bool, err error)
	// Identity returns the identity the client is authenticated as (the
	// authorization identity when one was given and allowed, else the
	// authentication identity). It is valid once Next has returned done and no error.
	Identity() string
}

var (
	// ErrAuthFailed: the credentials were wrong (SMTP 535 5.7.8, IMAP NO
	// [AUTHENTICATIONFAILED], POP3 -ERR [AUTH]). Server mechanisms wrap it so
	// that callers can tell it from malformed input with errors.Is.
	ErrAuthFailed = errors.New("auth: authentication failed")
	// ErrMalformed: the peer's message does not follow the mechanism's syntax
	// (SMTP 501 5.5.2).
	ErrMalformed = errors.New("auth: malformed message")
	// ErrTooLong: a message exceeded the exchange size limit.
	ErrTooLong = errors.New("auth: message too long")
	// ErrUnexpected: a message arrived when the exchange was already over.
	ErrUnexpected = errors.New("auth: unexpected message")
)

// ErrNoMechanism: the mechanism is unknown, or the credentials given cannot
// serve it (SMTP 504 5.5.4, IMAP NO, POP3 -ERR).
var ErrNoMechanism = errors.New("auth: mechanism not available")

// ErrNoCredentials is returned by credential lookups for an unknown user, or
// a user for whom the store holds nothing the mechanism can use. Server
// mechanisms turn it into ErrAuthFailed.
var ErrNoCredentials = errors.New("auth: no credentials for user")

// DefaultMaxSize is the default limit, in bytes, on one message of an exchange
// (after base64 decoding). It leaves room for large OAuth 2.0 bearer tokens.
const DefaultMaxSize = 16 << 10

// Completer is implemented by clients of mechanisms in which the server
// proves itself too (SCRAM, RFC 5802 §5: the server signature). When the
// server reports success, a protocol client first passes any additional
// data sent with the success to Next, then calls Complete, which returns an
// error unless the server's proof arrived and was right. A success without
// the proof must be treated as a failed authentication.
type Completer interface {
	Client
	Complete() error
}
