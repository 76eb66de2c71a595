// Package mbox reads and writes mbox mailboxes (RFC 4155): one file holding
// a sequence of messages, each after a separator line "From SENDER DATE"
// and followed by an empty line.
//
// Reader streams messages from any io.Reader with memory bounded by a 64 KB
// buffer, whatever the size of the mailbox, of its messages or of their
// lines. Writer streams messages out. Both handle the two quoting variants
// of "From " at the start of message lines:
//
//   - mboxrd (Mboxrd, the default): the writer adds a '>' to every line matching
//     ^>*From  and the reader removes one, so every message round-trips.
//   - mboxo (Mboxo): only "From " is quoted as ">From "; the reader turns
//     ">From " back into "From ", which alters lines that began with
//     ">From " originally.
//
// Reader.ContentLength trusts Content-Length fields (mboxcl and mboxcl2):
// Dovecot and mutt write mboxes that way, without quoting "From " lines, so
// reading their files needs it. Reader.Strict accepts
// only full separator lines (sender and date, after an empty line) as RFC
// 4155 Appendix A describes; by default every line starting with "From "
// separates messages, which is right for files whose writers quoted.
//
// Append adds a message to an mbox file under the locks other mail programs
// use: a dot-lock file (PATH.lock, created with O_EXCL, broken after
// StaleLockAge) and an fcntl write lock, fsyncs, and on failure truncates
// the file back to its previous size; where there is no fcntl (Windows,
// Plan 9, WebAssembly) the dot-lock alone locks. WriteFile replaces a whole
// mbox atomically: temporary file, fsync, rename, directory fsync (skipped
// on Windows, which cannot fsync a directory). ToMaildir and FromMaildir convert between mbox and Maildir
// (package maildir), mapping the Status and X-Status fields that mutt and
// Dovecot keep to Maildir flags.
//
// Line ends are passed through as they are: messages with CRLF keep CRLF,
// and separator and terminator lines are written with LF (the canonical
// form RFC 4155 requires for transfer is LF throughout; convert before
// writing if that matters).
//
// Not implemented: the MMDF format (^A^A^A^A separators), in-place
// rewriting of an mbox (expunge, flag updates inside the file; use
// WriteFile to write a new version), and NFS-safe dot-locking through
// link(2).
package mbox
