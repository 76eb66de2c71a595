package imapserver

import (
	"time"

	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/limits"
)

// Defaults of Limits; a zero field means its default.
const (
	// DefaultLoginTimeout is how long the server waits for a command before
	// the client has logged in.
	DefaultLoginTimeout = time.Minute
	// DefaultIdleTimeout is how long the server waits for a command once
	// the client has logged in. RFC 3501 §5.4: "an inactivity autologout
	// timer MUST be of at least 30 minutes' duration".
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultWriteTimeout bounds each write to the client.
	DefaultWriteTimeout = 2 * time.Minute
	// DefaultTLSHandshakeTimeout bounds the TLS handshake, for STARTTLS and
	// implicit TLS.
	DefaultTLSHandshakeTimeout = 30 * time.Second
	// DefaultMaxConnections bounds concurrent connections.
	DefaultMaxConnections = 1024
	// DefaultMaxErrors is the number of bad commands after which the server
	// closes the connection.
	DefaultMaxErrors = 10
	// DefaultMaxAuthFailures is the number of failed logins after which the
	// server closes the connection.
	DefaultMaxAuthFailures = 3
	// DefaultMaxConnectionsPerClient bounds the connections one client
	// address (an IPv6 client's /64) may hold at once.
	DefaultMaxConnectionsPerClient = 50
	// DefaultMaxAuthFailuresPerClient is how many failed logins one client
	// address may have within AuthFailureWindow before logins from it are
	// refused for AuthFailureWindow.
	DefaultMaxAuthFailuresPerClient = 10
	// DefaultAuthFailureWindow is the span over which a client's failed
	// logins are counted, and how long it is then refused.
	DefaultAuthFailureWindow = 15 * time.Minute
	// DefaultMaxMessageBytes bounds a message APPEND stores, as
	// imapwire.DefaultMaxLiteral.
	DefaultMaxMessageBytes = imapwire.DefaultMaxLiteral
	// DefaultMaxSectionBytes bounds a message the server reads into memory
	// to evaluate SEARCH's BODY and TEXT keys.
	DefaultMaxSectionBytes = 16 << 20
	// HardMaxSectionBytes is the most MaxSectionBytes can be.
	HardMaxSectionBytes = 256 << 20
)

// Limits bounds what one client can make a Server spend. For every field, 0
// means the documented default and a negative value means no limit; the
// limits that bound memory (Wire's, MaxSectionBytes) never pass their hard
// maxima.
type Limits struct {
	// LoginTimeout is how long the server waits for a command before
	// authentication (DefaultLoginTimeout).
	LoginTimeout time.Duration
	// IdleTimeout is the autologout timer after authentication, IDLE
	// included (DefaultIdleTimeout; RFC 3501 §5.4 wants at least 30
	// minutes).
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to the client (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// TLSHandshakeTimeout bounds a TLS handshake, for STARTTLS and implicit
	// TLS (DefaultTLSHandshakeTimeout).
	TLSHandshakeTimeout time.Duration
	// MaxConnections bounds concurrent connections; more are answered
	// "* BYE" and closed (DefaultMaxConnections).
	MaxConnections int
	// MaxErrors is the number of malformed, unknown or out-of-state commands
	// after which the connection is closed (DefaultMaxErrors).
	MaxErrors int
	// MaxAuthFailures is the number of failed LOGIN or AUTHENTICATE
	// attempts after which the connection is closed
	// (DefaultMaxAuthFailures).
	MaxAuthFailures int
	// MaxConnectionsPerClient is the most connections one client address
	// may hold at once (DefaultMaxConnectionsPerClient).
	MaxConnectionsPerClient int
	// MaxAuthFailuresPerClient is how many failed logins one client address
	// may have within AuthFailureWindow, over all its connections, before
	// every login from it is refused (DefaultMaxAuthFailuresPerClient).
	MaxAuthFailuresPerClient int
	// AuthFailureWindow is the span of MaxAuthFailuresPerClient
	// (DefaultAuthFailureWindow); negative turns the per-client limit off.
	AuthFailureWindow time.Duration
	// MaxMessageBytes bounds a message APPEND accepts; a larger literal is
	// refused with NO [TOOBIG] before the client sends it
	// (DefaultMaxMessageBytes). It sets Wire.MaxLiteral.
	MaxMessageBytes int64
	// MaxSectionBytes bounds a message read into memory to search its body
	// (DefaultMaxSectionBytes, at most HardMaxSectionBytes); a larger
	// message does not match BODY or TEXT keys.
	MaxSectionBytes int64
	// Wire bounds the command decoder: line length, string literals,
	// nesting, a command's size (see imapwire.Limits; its MaxLiteral is
	// MaxMessageBytes).
	Wire imapwire.Limits
}

// withDefaults returns l with its zero fields set to their defaults and
// every "no limit" as 0.
func (l Limits) withDefaults() Limits {
	limits.Or(&l.LoginTimeout, DefaultLoginTimeout, 0)
	limits.Or(&l.IdleTimeout, DefaultIdleTimeout, 0)
	limits.Or(&l.WriteTimeout, DefaultWriteTimeout, 0)
	limits.Or(&l.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout, 0)
	limits.Or(&l.MaxConnections, DefaultMaxConnections, 0)
	limits.Or(&l.MaxErrors, DefaultMaxErrors, 0)
	limits.Or(&l.MaxAuthFailures, DefaultMaxAuthFailures, 0)
	limits.Or(&l.MaxConnectionsPerClient, DefaultMaxConnectionsPerClient, 0)
	limits.Or(&l.MaxAuthFailuresPerClient, DefaultMaxAuthFailuresPerClient, 0)
	limits.Or(&l.AuthFailureWindow, DefaultAuthFailureWindow, 0)
	if l.AuthFailureWindow == 0 {
		l.MaxAuthFailuresPerClient = 0
	}
	limits.Or(&l.MaxMessageBytes, DefaultMaxMessageBytes, 0)
	limits.Bounded(&l.MaxSectionBytes, DefaultMaxSectionBytes, HardMaxSectionBytes)
	l.Wire.MaxLiteral = l.MaxMessageBytes
	if l.Wire.MaxLiteral == 0 {
		l.Wire.MaxLiteral = -1
	}
	return l
}
