// Package sasl runs the server side of a SASL exchange (RFC 4422) for every
// protocol server of the module: SMTP AUTH (RFC 4954), POP3 AUTH (RFC 5034)
// and IMAP AUTHENTICATE (RFC 3501 §6.2.2). A protocol supplies its framing
// through a Transport; the exchange itself, with its bounds, its base64
// rules and the logging of its outcome, is the same everywhere.
package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"

	"github.com/mailwire/mailwire/auth"
)

// Defaults of an Exchange.
const (
	// DefaultMaxRounds bounds the challenges of one exchange. Real
	// mechanisms need at most three (SCRAM with additional data).
	DefaultMaxRounds = 16
	// MaxLine is the longest response line a transport reads, without its
	// line end: RFC 4954 §4 allows 12288 octets.
	MaxLine = 12288
)

// Errors of Run; Classify maps them, and the mechanism's, to an Outcome.
var (
	ErrNoMechanism   = errors.New("sasl: mechanism not offered")
	ErrInsecure      = errors.New("sasl: authentication requires TLS")
	ErrCancelled     = errors.New("sasl: authentication cancelled by the client")
	ErrBadBase64     = errors.New("sasl: malformed base64")
	ErrTooManyRounds = errors.New("sasl: too many rounds")
	ErrUnexpected    = errors.New("sasl: data after the last challenge")
	// ErrLineTooLong is returned by a Transport for a response line over
	// MaxLine, once it has read past it.
	ErrLineTooLong = errors.New("sasl: response line too long")
)

// Hook is what a protocol session implements to offer authentication.
type Hook interface {
	// SASLMechanisms lists the mechanisms to offer.
	SASLMechanisms() []string
	// NewSASLServer starts the server side of one exchange of mech.
	NewSASLServer(ctx context.Context, mech string) (auth.Server, error)
}

// Transport is one protocol's framing of challenges and responses.
type Transport interface {
	// Challenge sends data (raw, not yet base64) as a challenge and returns
	// the client's response line without its line end. It returns
	// ErrLineTooLong for an over-long line and any other error when the
	// connection failed.
	Challenge(data []byte) (line string, err error)
}

// Exchange runs one authentication.
type Exchange struct {
	Hook      Hook
	Transport Transport
	// Secure says whether the connection has TLS; AllowInsecure lets the
	// exchange run without it.
	Secure, AllowInsecure bool
	// MaxRounds bounds the challenges; 0 means DefaultMaxRounds.
	MaxRounds int
	// Logger receives the outcome, with the connection's attributes
	// already attached; nil discards it.
	Logger *slog.Logger
}

// Run authenticates with mech. initial is the initial response as the
// client sent it in base64 ("=" for an empty one), hasInitial whether it
// sent one. It returns the authenticated identity, or an error that
// Classify explains. The outcome is logged.
func (x *Exchange) Run(ctx context.Context, mech, initial string, hasInitial bool) (string, error) {
	mech = strings.ToUpper(mech)
	id, err := x.run(ctx, mech, initial, hasInitial)
	x.log(ctx, mech, id, err)
	return id, err
}

func (x *Exchange) run(ctx context.Context, mech, initial string, hasInitial bool) (string, error) {
	if !x.Secure && !x.AllowInsecure {
		return "", ErrInsecure
	}
	if !offered(x.Hook.SASLMechanisms(), mech) {
		return "", ErrNoMechanism
	}
	var resp []byte
	if hasInitial {
		var err error
		if resp, err = Decode(initial); err != nil {
			return "", err
		}
	}
	srv, err := x.Hook.NewSASLServer(ctx, mech)
	if errors.Is(err, auth.ErrNoMechanism) {
		return "", ErrNoMechanism
	}
	if err != nil {
		return "", err
	}
	rounds := x.MaxRounds
	if rounds <= 0 {
		rounds = DefaultMaxRounds
	}
	for range rounds {
		challenge, done, err := srv.Next(ctx, resp)
		if err != nil {
			return "", err
		}
		if done && len(challenge) == 0 {
			return srv.Identity(), nil
		}
		// A challenge; or, when done, additional data with success, which
		// these protocols send as a last challenge answered by an empty
		// response (RFC 4422 §3.6, RFC 4954 §4, RFC 5034 §4).
		line, err := x.Transport.Challenge(challenge)
		if err != nil {
			return "", err
		}
		if line == "*" {
			return "", ErrCancelled
		}
		if done {
			if line != "" && line != "=" {
				return "", ErrUnexpected
			}
			return srv.Identity(), nil
		}
		if resp, err = Decode(line); err != nil {
			return "", err
		}
	}
	return "", ErrTooManyRounds
}

// Decode decodes a base64 response strictly: no stray characters, padding
// only at the end. "=" is the empty response (RFC 4954 §4, RFC 5034 §4),
// and so is an empty line after a challenge (RFC 3501 §6.2.2).
func Decode(s string) ([]byte, error) {
	if s == "=" || s == "" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, ErrBadBase64
	}
	return b, nil
}

func offered(mechs []string, mech string) bool {
	if mech == "" {
		return false
	}
	for _, m := range mechs {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// Outcome is what a protocol replies after an exchange.
type Outcome int

const (
	// OK: authenticated.
	OK Outcome = iota
	// NoMechanism: the mechanism is unknown or not offered.
	NoMechanism
	// Insecure: the connection needs TLS first.
	Insecure
	// Cancelled: the client sent "*".
	Cancelled
	// Syntax: bad base64, a malformed SASL message, data where none was
	// due, or too many rounds.
	Syntax
	// TooLong: a response line over MaxLine, or a SASL message over the
	// mechanism's limit.
	TooLong
	// Failed: wrong credentials (auth.ErrAuthFailed). It counts toward
	// the connection's limit of failed attempts.
	Failed
	// Temporary: the credential store or the session failed; the detail
	// goes to the log only.
	Temporary
	// Closed: the connection failed during the exchange.
	Closed
)

// Classify returns the outcome of an error from Run. A protocol's own
// error type (a reply chosen by the session) is not classified here: the
// caller tests for it first.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrNoMechanism):
		return NoMechanism
	case errors.Is(err, ErrInsecure):
		return Insecure
	case errors.Is(err, ErrCancelled):
		return Cancelled
	case errors.Is(err, ErrLineTooLong), errors.Is(err, auth.ErrTooLong):
		return TooLong
	case errors.Is(err, auth.ErrAuthFailed):
		return Failed
	case errors.Is(err, ErrBadBase64), errors.Is(err, ErrUnexpected), errors.Is(err, ErrTooManyRounds),
		errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrUnexpected):
		return Syntax
	case isConnErr(err):
		return Closed
	}
	return Temporary
}

// connError marks a Transport's connection failure.
type connError struct{ err error }

func (e connError) Error() string { return e.err.Error() }
func (e connError) Unwrap() error { return e.err }

// ConnError wraps a connection failure of a Transport, so that Classify
// reports Closed rather than Temporary.
func ConnError(err error) error {
	if err == nil {
		return nil
	}
	return connError{err}
}

func isConnErr(err error) bool {
	var ce connError
	return errors.As(err, &ce)
}

func (x *Exchange) log(ctx context.Context, mech, id string, err error) {
	if x.Logger == nil {
		return
	}
	switch o := Classify(err); o {
	case OK:
		x.Logger.LogAttrs(ctx, slog.LevelInfo, "authenticated", slog.String("mech", mech), slog.String("user", id))
	case Closed:
		x.Logger.LogAttrs(ctx, slog.LevelDebug, "authentication: connection lost", slog.String("mech", mech), slog.Any("err", err))
	case Temporary:
		x.Logger.LogAttrs(ctx, slog.LevelError, "authentication: backend failure", slog.String("mech", mech), slog.Any("err", err))
	default:
		x.Logger.LogAttrs(ctx, slog.LevelInfo, "authentication failed", slog.String("mech", mech), slog.Any("err", err))
	}
}
