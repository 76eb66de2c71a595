package smtp

import (
	"time"

	"github.com/mailwire/mailwire/internal/limits"
)

// Defaults of Limits; a zero field means its default.
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
	// DefaultTLSHandshakeTimeout bounds a TLS handshake, for STARTTLS and
	// implicit TLS.
	DefaultTLSHandshakeTimeout = 30 * time.Second
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
	// DefaultMaxAuthFailures is how many failed AUTH exchanges a connection
	// may have before it is closed.
	DefaultMaxAuthFailures = 3
	// DefaultMaxConnectionsPerClient bounds the connections one client
	// address (an IPv6 client's /64) may hold at once, so that one host
	// cannot fill MaxConnections (Postfix's
	// smtpd_client_connection_count_limit is also 50).
	DefaultMaxConnectionsPerClient = 50
	// DefaultMaxAuthFailuresPerClient is how many failed AUTH exchanges one
	// client address may have within AuthFailureWindow, over all its
	// connections, before AUTH from it is refused for AuthFailureWindow.
	DefaultMaxAuthFailuresPerClient = 10
	// DefaultAuthFailureWindow is the span over which a client's failed
	// authentications are counted, and how long it is then refused.
	DefaultAuthFailureWindow = 15 * time.Minute

	// HardMaxLineLength is the longest MaxLineLength can make a command
	// line: the line is held in memory.
	HardMaxLineLength = 64 << 10
	// HardMaxRecipients is the most MaxRecipients can allow: the
	// recipients of a transaction are held in memory.
	HardMaxRecipients = 100000
)

// Limits bounds what one client can make a Server spend. For every field, 0
// means the documented default and a negative value means no limit, except
// where a field bounds memory: MaxLineLength and MaxRecipients never exceed
// HardMaxLineLength and HardMaxRecipients, which a negative value selects.
type Limits struct {
	// ReadTimeout bounds the wait for each command line and each read of
	// message data (DefaultReadTimeout).
	ReadTimeout time.Duration
	// DataTimeout bounds the whole transfer of a message, from DATA to the
	// final dot or from the first BDAT to BDAT LAST, however steadily the
	// bytes come (DefaultDataTimeout). The client then gets 421 4.4.2 and
	// the connection is closed.
	DataTimeout time.Duration
	// WriteTimeout bounds each write of replies (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// TLSHandshakeTimeout bounds a TLS handshake, for STARTTLS and implicit
	// TLS (DefaultTLSHandshakeTimeout).
	TLSHandshakeTimeout time.Duration
	// MaxMessageBytes is the largest message accepted, advertised with SIZE
	// (RFC 1870) (DefaultMaxMessageBytes). Messages are streamed, so no
	// limit holds more in memory.
	MaxMessageBytes int64
	// MaxRecipients is the most recipients per transaction
	// (DefaultMaxRecipients). Further RCPT commands get 452 4.5.3.
	MaxRecipients int
	// MaxLineLength is the longest command line accepted, without CR LF
	// (DefaultMaxLineLength). Longer lines get 500 5.5.2.
	MaxLineLength int
	// MaxConnections is the most connections served at once
	// (DefaultMaxConnections). Further connections get 421 4.7.0 and are
	// closed (closed at once past 64 such refusals in progress, and on
	// implicit TLS).
	MaxConnections int
	// MaxErrors is how many error replies a connection may get before it is
	// closed with 421 4.7.0 (DefaultMaxErrors).
	MaxErrors int
	// MaxJunkCommands is how many NOOP, RSET, VRFY, EXPN, HELP and
	// EHLO/HELO/LHLO commands a connection may send between messages
	// delivered before each further one counts toward MaxErrors, so that a
	// client cannot hold a connection forever with them
	// (DefaultMaxJunkCommands).
	MaxJunkCommands int
	// MaxAuthFailures is how many failed AUTH exchanges a connection may
	// have before it is closed with 421 4.7.0 (DefaultMaxAuthFailures).
	MaxAuthFailures int
	// MaxConnectionsPerClient is the most connections one client address
	// may hold at once, IPv6 clients being counted per /64
	// (DefaultMaxConnectionsPerClient). Further connections from it get
	// 421 4.7.0 and are closed (closed at once on implicit TLS).
	// Server.LimitExempt lists the addresses it does not apply to.
	MaxConnectionsPerClient int
	// MaxAuthFailuresPerClient is how many failed AUTH exchanges one client
	// address (an IPv6 client's /64) may have within AuthFailureWindow,
	// over all its connections, before every AUTH from it gets 454 4.7.0
	// for AuthFailureWindow after the last failure
	// (DefaultMaxAuthFailuresPerClient). Server.LimitExempt lists the
	// addresses it does not apply to.
	MaxAuthFailuresPerClient int
	// AuthFailureWindow is the span over which MaxAuthFailuresPerClient
	// counts failures, and how long a client that reached it is refused
	// (DefaultAuthFailureWindow). A negative value, like a negative
	// MaxAuthFailuresPerClient, turns the per-client limit off.
	AuthFailureWindow time.Duration
}

// withDefaults returns l with its zero fields set to their defaults, the
// memory bounds clamped, and every other "no limit" as 0.
func (l Limits) withDefaults() Limits {
	limits.Or(&l.ReadTimeout, DefaultReadTimeout, 0)
	limits.Or(&l.DataTimeout, DefaultDataTimeout, 0)
	limits.Or(&l.WriteTimeout, DefaultWriteTimeout, 0)
	limits.Or(&l.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout, 0)
	limits.Or(&l.MaxMessageBytes, DefaultMaxMessageBytes, 0)
	limits.Bounded(&l.MaxRecipients, DefaultMaxRecipients, HardMaxRecipients)
	limits.Bounded(&l.MaxLineLength, DefaultMaxLineLength, HardMaxLineLength)
	limits.Or(&l.MaxConnections, DefaultMaxConnections, 0)
	limits.Or(&l.MaxErrors, DefaultMaxErrors, 0)
	limits.Or(&l.MaxJunkCommands, DefaultMaxJunkCommands, 0)
	limits.Or(&l.MaxAuthFailures, DefaultMaxAuthFailures, 0)
	limits.Or(&l.MaxConnectionsPerClient, DefaultMaxConnectionsPerClient, 0)
	limits.Or(&l.MaxAuthFailuresPerClient, DefaultMaxAuthFailuresPerClient, 0)
	limits.Or(&l.AuthFailureWindow, DefaultAuthFailureWindow, 0)
	if l.AuthFailureWindow == 0 {
		l.MaxAuthFailuresPerClient = 0
	}
	return l
}
