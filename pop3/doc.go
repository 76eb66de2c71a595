// Package pop3 implements the Post Office Protocol version 3: a command and
// response codec, a Client, and a Server that serves maildrops through a
// small Backend interface.
//
// # Standards
//
//   - RFC 1939: POP3 — the AUTHORIZATION, TRANSACTION and UPDATE states;
//     USER, PASS, APOP, STAT, LIST, RETR, DELE, NOOP, RSET, TOP, UIDL, QUIT;
//     multi-line responses with dot-stuffing; the autologout timer.
//   - RFC 2449: the extension mechanism — CAPA, response codes ([IN-USE],
//     [LOGIN-DELAY]), PIPELINING, EXPIRE, LOGIN-DELAY, IMPLEMENTATION, and
//     the line limits (255 octets for a command, 512 for a response line;
//     the server accepts AUTH lines and SASL responses up to 12288 octets).
//   - RFC 3206: the [SYS/TEMP], [SYS/PERM] and [AUTH] response codes.
//   - RFC 2595: STLS.
//   - RFC 5034: AUTH with SASL mechanisms (see package auth), initial
//     responses, "=" for an empty response, "*" to cancel.
//
// # Server
//
// Server has the shape of net/http's, and of the smtp and imap servers: set
// Addr, Hostname, Backend, TLSConfig and Limits, then call ListenAndServe
// (cleartext with STLS), ListenAndServeTLS (implicit TLS, port 995) or
// Serve, and stop with Shutdown or Close. The Backend opens a Session for
// each connection (a *Conn gives its addresses, TLS state and, once
// logged in, the user). The Session offers SASL mechanisms, which serve AUTH
// and, as PLAIN, USER and PASS, so one credential store checks every login
// and the server logs every outcome; APOPSession adds APOP. After login the
// Session opens the user's Maildrop, which lists message sizes and unique
// ids, opens a message as an io.Reader, and deletes messages at UPDATE.
// Package pop3/pop3maildir provides one over a Maildir (package
// message/maildir) with an exclusive lock; package pop3 itself imports no
// storage.
//
// Limits bound connections (in all and per client address, an IPv6
// client's /64), bad commands and failed logins per connection, and failed
// logins per client address over a time window, after which logins from it
// get -ERR [SYS/TEMP] until the window passes (Server.LimitExempt lists
// addresses exempt from the per-client limits). A CRAM-MD5 challenge names
// Server.Hostname.
//
// The server streams each message through the dot-stuffer, so memory per
// connection does not depend on message size, and converts bare LF line ends
// to CRLF (WireSize computes the resulting size). Deletions happen only when the client sends QUIT in
// the TRANSACTION state: a connection that drops, times out or is shut down
// deletes nothing. Without TLS, USER/PASS and AUTH are refused (and not
// advertised) unless AllowInsecureAuth is set; input received before a
// STLS handshake is discarded. Every limit has a documented default.
//
// # Client
//
// Dial and DialTLS connect; STLS upgrades. Login (the strongest SASL
// mechanism offered, as in package smtp, else USER and PASS), UserPass,
// APOP and Auth (any auth.Client, SCRAM included) authenticate; without
// TLS, all but APOP refuse unless Client.AllowInsecureAuth is set. Retr and Top return
// the message as a stream. Every call honours its context; when the context
// has no deadline, Client.Timeout (DefaultClientTimeout, 5 minutes) bounds
// each wait for the server. Failures the server reports are *Error values
// carrying the response code, usable with errors.As.
//
// # Not implemented
//
// The UTF8 and LANG capabilities (RFC 6856), SASL security layers (no
// mechanism in package auth negotiates one), the RFC 1939 §8 mailbox-lock
// semantics of UPDATE on a backend's behalf (locking and deletion are the
// Maildrop's), and enforcement of LOGIN-DELAY and EXPIRE (the server only
// announces them; the Session enforces them).
package pop3
