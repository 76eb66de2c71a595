// Package pop3maildir serves a Maildir (package message/maildir) as a POP3
// maildrop: Open returns a pop3.Maildrop for a Session's OpenMaildrop.
//
// It is a thin adapter. The Maildir package provides what it relies on:
//
//   - The exclusive-access lock RFC 1939 §4 requires for the length of a
//     session is the Maildir's session lock (maildir.Dir.TryLock). A second
//     session gets an error wrapping pop3.ErrInUse, which the server
//     answers with -ERR [IN-USE] (RFC 2449 §8.1.2). The lock does not stop
//     deliveries, nor other programs (Dovecot, an IMAP server) that read
//     the same Maildir.
//   - Message sizes are sizes with CRLF line ends, as RFC 1939 §5 wants in
//     LIST and STAT: the W= field of the file name when present (this
//     module's deliveries and Dovecot's write it), else counted once and
//     cached by maildir.Dir.FillWireSizes.
//   - Unique-id listings (RFC 1939 §7, UIDL) are the Maildir UID and the
//     folder's UIDVALIDITY, in hexadecimal (as Dovecot's default
//     pop3_uidl_format %08Xu%08Xv), so they never repeat even if the
//     Maildir's UID list is lost and started over with a new UIDVALIDITY.
//
// The maildrop is the messages in new and cur, in UID order, as they were
// when the session entered the TRANSACTION state; messages delivered later
// wait for the next session. DELE'd messages are removed from the Maildir
// at QUIT (the UPDATE state, RFC 1939 §6). Messages are not moved from new
// to cur, nor flagged as seen: POP3 has no such notion, and an IMAP server
// reading the same Maildir still shows them as new.
package pop3maildir
