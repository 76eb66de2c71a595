// Package imapclient is an IMAP client (RFC 3501 IMAP4rev1) built on the
// codec of package imapwire.
//
// A Client is safe for concurrent use and pipelines the commands of
// several goroutines, matching responses to commands by tag and holding
// back a command that would make the responses ambiguous (RFC 3501 §5.5).
// Every call takes a context; Options.Timeout bounds each wait for the
// server in calls without a deadline. Login and Authenticate refuse to
// send credentials over a connection without TLS unless
// Options.AllowInsecureAuth is set (ErrInsecureAuth).
//
// Responses the server sends on its own (EXISTS, EXPUNGE, FETCH with new
// flags, VANISHED, ALERT, BYE) go to the callbacks of Options.Handler.
// Message data streams both ways: Append sends a message from an
// io.Reader of known size, and FetchOptions.Section receives each body
// section of a FETCH as an io.Reader, so that no message is held whole in
// memory.
//
// # Commands
//
//   - RFC 3501: CAPABILITY, NOOP, LOGOUT, STARTTLS, AUTHENTICATE, LOGIN,
//     SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
//     LIST, LSUB, STATUS, APPEND, CHECK, CLOSE (CloseMailbox), EXPUNGE,
//     SEARCH, FETCH, STORE, COPY, and the UID forms.
//   - SASL-IR (RFC 4959), with the mechanisms of package auth.
//   - IDLE (RFC 2177), UIDPLUS (RFC 4315: UID EXPUNGE, APPENDUID,
//     COPYUID), MOVE (RFC 6851), UNSELECT (RFC 3691), ENABLE (RFC 5161),
//     ID (RFC 2971), NAMESPACE (RFC 2342), ESEARCH (RFC 4731),
//     LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE
//     (RFC 6154), CONDSTORE and QRESYNC (RFC 7162: SELECT parameters,
//     FETCH CHANGEDSINCE and VANISHED, STORE UNCHANGEDSINCE, VANISHED
//     responses), QUOTA (RFC 9208: GETQUOTA, GETQUOTAROOT), LITERAL+ and
//     LITERAL- (RFC 7888), BINARY APPEND (RFC 3516), UTF8=ACCEPT mailbox
//     names after ENABLE (RFC 6855), SORT and THREAD (RFC 5256),
//     COMPRESS=DEFLATE (RFC 4978).
//
// # Not implemented
//
// IMAP4rev2 (RFC 9051) as such, ESORT and CONTEXT (RFC 5267),
// MULTIAPPEND (RFC 3502), CATENATE (RFC 4469), SETQUOTA, NOTIFY (RFC
// 5465), METADATA, ACL, SEARCHRES (RFC 5182), BINARY fetches' decoding
// beyond what imapwire parses, and a MOVE emulated with COPY, STORE and
// EXPUNGE for servers without MOVE. IDLE is not restarted by the client
// every 29 minutes (RFC 2177 §3): the caller does that. A FETCH's body
// sections stream through FetchOptions.Section on the Client's reading
// goroutine; responses of other commands wait meanwhile.
package imapclient
