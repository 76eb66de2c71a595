// Package imapserver is an IMAP4rev1 server (RFC 3501) that serves
// mailboxes from a small Backend interface.
//
// # Standards
//
//   - RFC 3501: the not authenticated, authenticated, selected and logout
//     states (§3); CAPABILITY, NOOP, LOGOUT, STARTTLS, LOGIN, AUTHENTICATE,
//     SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST,
//     LSUB, STATUS, APPEND, CHECK, CLOSE, EXPUNGE, SEARCH, FETCH, STORE,
//     COPY and UID (§6); synchronising literals with "+" continuations
//     (§7.5); the untagged EXISTS, RECENT, EXPUNGE and FETCH updates at the
//     moments §5.2 and §7.4.1 allow; the autologout timer (§5.4, 30
//     minutes once logged in); LOGINDISABLED without TLS.
//   - RFC 4959 SASL-IR, RFC 7888 LITERAL+, RFC 2177 IDLE, RFC 4315 UIDPLUS
//     (APPENDUID, COPYUID, UID EXPUNGE), RFC 3691 UNSELECT, RFC 6851 MOVE,
//     RFC 5530 response codes (AUTHENTICATIONFAILED, PRIVACYREQUIRED,
//     UNAVAILABLE, NONEXISTENT, ALREADYEXISTS, EXPUNGEISSUED...), RFC 7889's
//     TOOBIG for a literal over Limits.MaxMessageBytes.
//
// # Server
//
// Server has the shape of net/http's, and of the smtp and pop3 servers:
// set Addr, Hostname, Backend, TLSConfig and Limits, then call
// ListenAndServe (cleartext with STARTTLS), ListenAndServeTLS (implicit
// TLS, port 993) or Serve, and stop with Shutdown ("* BYE" to idle and
// IDLEing connections, a command in progress finishes) or Close. The
// Backend opens a Session per connection; a *Conn gives its addresses, TLS
// state and, once logged in, the user. The Session offers SASL mechanisms,
// which serve AUTHENTICATE and, as PLAIN, LOGIN, through the exchange the
// module's protocol servers share.
//
// The Session only stores. The server parses every command with package
// imapwire, matches LIST patterns, keeps the sequence numbers of the
// selected mailbox and reports other sessions' changes by comparing the
// Mailbox's successive Poll listings, renders ENVELOPE and BODYSTRUCTURE
// (package imap over package mime) and body sections
// (BODY[section]<partial>, HEADER.FIELDS (NOT), MIME, TEXT, RFC822.*) from
// the message content, and evaluates SEARCH. Body sections stream from
// Mailbox.Open: a section is located in one pass over the message and sent
// in another. A Mailbox that implements Notifier lets IDLE report changes
// as they happen. Package imapserver/imapmem is an in-memory backend.
//
// Backend errors: an *imap.Error chooses the reply (ErrTryCreate,
// ErrNoSuchMailbox... are ready-made); auth.ErrAuthFailed gives NO
// [AUTHENTICATIONFAILED]; anything else NO [UNAVAILABLE], its detail in
// the log only.
//
// # Not implemented
//
// IMAP4rev2 (RFC 9051), ENABLE, CONDSTORE and QRESYNC, ESEARCH, BINARY,
// LIST-EXTENDED and LIST-STATUS, SPECIAL-USE, NAMESPACE, ID, UTF8=ACCEPT,
// MULTIAPPEND, CATENATE, COMPRESS, QUOTA, ACL, SORT and THREAD. SEARCH
// reads a message into memory (up to Limits.MaxSectionBytes) to match
// BODY and TEXT, and accepts only US-ASCII and UTF-8 as CHARSET; MODSEQ,
// OLDER and YOUNGER keys match nothing. \Recent is whatever the Backend
// reports.
package imapserver
