// Package maildir stores mail in Maildir directories, for a delivery agent
// that writes messages and POP3 or IMAP servers that read them.
//
// A Maildir is a directory with three subdirectories: tmp, new and cur. It
// follows the Maildir specification (cr.yp.to/proto/maildir.html) and the
// Maildir++ extensions of Courier and Dovecot:
//
//   - Delivery (Dir.Deliver) writes the message into tmp under a unique name
//     (SECONDS.M<usec>P<pid>Q<count>R<random>.HOST), fsyncs it, hard-links it
//     into new as KEY = UNIQUE,S=SIZE,W=WIRESIZE (stored size and size with
//     CRLF line ends, as Dovecot writes them) and fsyncs new. A message is visible in
//     new only once it is complete and durable; a crash leaves at most a file
//     in tmp, which Dir.CleanTmp removes after DefaultTmpAge (36 hours, the
//     Maildir convention).
//   - A reader moves messages from new to cur (Dir.MoveToCur, Dir.SetFlags)
//     and keeps flags in the info suffix of the name, KEY:2,FLAGS, with the
//     letters sorted: D draft, F flagged, P passed, R replied, S seen,
//     T trashed. Lower-case letters are IMAP keywords in Dovecot and Courier;
//     they are kept, never interpreted.
//   - Folders (Maildir++) are Maildirs named .NAME inside the root, with '.'
//     as the hierarchy separator: folder "A/B" is ROOT/.A.B.
//
// # Keys and UIDs
//
// A message's key is its file name before ":" and does not change when the
// message moves to cur or its flags change. IMAP UIDs and POP3 UIDLs must
// persist across sessions and restarts, so each folder keeps a UID list,
// the file mailwire-uidlist, mapping keys to UIDs together with UIDVALIDITY
// and the next UID (RFC 3501 §2.3.1.1). Dir.List assigns UIDs to new keys in
// arrival order and replaces the list atomically (temporary file, fsync,
// rename, directory fsync).
//
// The UID list is this package's own: Dovecot keeps dovecot-uidlist and
// Courier courierimapuiddb, and none of them reads the others'. A Maildir
// written here is read correctly by Dovecot (which assigns its own UIDs),
// and a Maildir Dovecot wrote is read correctly here (with our UIDs); the
// UID numbers the two servers show differ.
//
// # Concurrency
//
// Deliveries take no lock: a unique name and an atomic link suffice, so any
// number of processes may deliver at once. List, SetFlags, MoveToCur,
// MoveNewToCur, Remove and UIDValidity hold an exclusive lock on the file
// mailwire-uidlist.lock in the folder (flock(2) where there is one; see Lock
// for each platform's mechanism), which serialises them across goroutines
// and processes using this package; this is what keeps a rename from new
// to cur from hiding a message from a concurrent scan. Other programs that
// rename files in the same Maildir (a Dovecot, a mutt) do not take that
// lock; a message they move while List scans is seen again at the next
// List, still under its key and UID.
//
// A server that needs exclusive access to a Maildir for a whole session, as
// POP3 does (RFC 1939 §4), takes its session lock with Dir.TryLock or
// Dir.Lock: a separate lock file (SessionLockFile), so that List and the
// other operations above still work while it is held. A crashed holder
// leaves no stale lock: the lock goes with the process.
//
// # Wire sizes
//
// POP3 (LIST, STAT) and IMAP (RFC822.SIZE) report sizes with CRLF line
// ends. WireSize computes one; Deliver records it in the W= field of the
// name, and Message.WireSize reads it back without opening the file. For
// messages other programs delivered without W=, Dir.FillWireSizes counts
// each once and remembers it in a cache file (WireSizeCacheFile).
//
// # Stored bytes
//
// Messages are stored exactly as delivered: this package neither converts
// CRLF to LF nor the reverse, and sizes (S= and Message.Size) are stored
// sizes. Dovecot and most delivery agents store LF line ends; a POP3 or IMAP
// server over this package converts on output as its protocol requires.
// Flag changes are not fsynced: after a crash a message may show its
// previous flags, but never disappears.
//
// Files and directories are created with modes 0600 and 0700, owned by
// the process: deliver as the mailbox owner (as Dovecot's mail_uid does),
// or the servers reading the Maildir may not be able to.
//
// Durable writes (the UID list, deliveries) go through a temporary file,
// fsync, rename or link and a directory fsync. On Windows, where a
// directory cannot be fsynced, the last step is skipped: NTFS's journal
// keeps a rename whole, but one done just before a crash may be lost.
// The package builds and delivers on Windows, but Maildir names for cur
// (KEY:2,FLAGS) hold a ':', which Windows file names cannot: moving a
// message to cur or setting its flags fails there, and so does renaming a
// file another process holds open. Maildir is a Unix format; on Windows it
// serves as a delivery target at most.
//
// Not implemented: Maildir++ quotas (maildirsize), the keyword name files
// (dovecot-keywords), and modified UTF-7 encoding of folder names, which
// callers sharing folders with Dovecot or Courier should apply themselves.
package maildir
