package pop3

import (
	"time"

	"github.com/mailwire/mailwire/internal/limits"
)

// Defaults of Limits; a zero field means its default.
const (
	// DefaultReadTimeout is the autologout timer. RFC 1939 §3: "such a timer
	// MUST be of at least 10 minutes' duration".
	DefaultReadTimeout = 10 * time.Minute
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
	// DefaultMaxAuthFailures is the number of failed logins after which the
	// server closes the connection.
	DefaultMaxAuthFailures = 3
	// DefaultMaxConnectionsPerClient bounds the connections one client
	// address (an IPv6 client's /64) may hold at once, so that one host
	// cannot fill MaxConnections.
	DefaultMaxConnectionsPerClient = 50
	// DefaultMaxAuthFailuresPerClient is how many failed logins one client
	// address may have within AuthFailureWindow, over all its connections,
	// before logins from it are refused for AuthFailureWindow.
	DefaultMaxAuthFailuresPerClient = 10
	// DefaultAuthFailureWindow is the span over which a client's failed
	// logins are counted, and how long it is then refused.
	DefaultAuthFailureWindow = 15 * time.Minute
)

// Limits bounds what one client can make a Server spend. For every field, 0
// means the documented default and a negative value means no limit. The
// lines the server holds in memory have fixed bounds: a command line 255
// octets (RFC 2449 §4), a line of an AUTH exchange 12288 (as RFC 4954 §4
// allows SMTP), which an AUTH command with its initial response may also
// reach (RFC 5034 §4 keeps it within 255 octets, but clients sending OAuth
// tokens exceed it).
type Limits struct {
	// ReadTimeout is the autologout timer: how long the server waits for a
	// command (DefaultReadTimeout; RFC 1939 §3 wants at least 10 minutes).
	ReadTimeout time.Duration
	// WriteTimeout bounds each write to the client (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// TLSHandshakeTimeout bounds a TLS handshake, for STLS and implicit TLS
	// (DefaultTLSHandshakeTimeout).
	TLSHandshakeTimeout time.Duration
	// MaxConnections bounds concurrent connections; more are greeted with
	// -ERR [SYS/TEMP] and closed (closed at once past 64 such refusals in
	// progress, and on implicit TLS) (DefaultMaxConnections).
	MaxConnections int
	// MaxErrors is the number of unknown, malformed or out-of-state commands
	// after which the connection is closed (DefaultMaxErrors).
	MaxErrors int
	// MaxAuthFailures is the number of failed USER/PASS, APOP or AUTH
	// attempts after which the connection is closed
	// (DefaultMaxAuthFailures).
	MaxAuthFailures int
	// MaxConnectionsPerClient is the most connections one client address
	// may hold at once, IPv6 clients being counted per /64
	// (DefaultMaxConnectionsPerClient). Further connections from it are
	// greeted with -ERR [SYS/TEMP] and closed (closed at once on implicit
	// TLS). Server.LimitExempt lists the addresses it does not apply to.
	MaxConnectionsPerClient int
	// MaxAuthFailuresPerClient is how many failed USER/PASS, APOP or AUTH
	// attempts one client address (an IPv6 client's /64) may have within
	// AuthFailureWindow, over all its connections, before every login
	// from it gets -ERR [SYS/TEMP] for AuthFailureWindow after the last
	// failure (DefaultMaxAuthFailuresPerClient). Server.LimitExempt lists
	// the addresses it does not apply to.
	MaxAuthFailuresPerClient int
	// AuthFailureWindow is the span over which MaxAuthFailuresPerClient
	// counts failures, and how long a client that reached it is refused
	// (DefaultAuthFailureWindow). A negative value, like a negative
	// MaxAuthFailuresPerClient, turns the per-client limit off.
	AuthFailureWindow time.Duration
}

// withDefaults returns l with its zero fields set to their defaults and
// every "no limit" as 0.
func (l Limits) withDefaults() Limits {
	limits.Or(&l.ReadTimeout, DefaultReadTimeout, 0)
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
	return l
}
