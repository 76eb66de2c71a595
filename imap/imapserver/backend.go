package imapserver

import (
	"context"
	"io"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
)

// Backend opens a Session for each connection a Server accepts. The server
// calls it from many goroutines at once.
type Backend interface {
	// NewSession is called once the connection is open (and, for implicit
	// TLS, after the handshake), before the greeting. Returning an error
	// refuses the connection: an *imap.Error's text is sent in a BYE, any
	// other error gives "* BYE [UNAVAILABLE]", and the connection is closed.
	NewSession(c *Conn) (Session, error)
}

// BackendFunc adapts a function to the Backend interface.
type BackendFunc func(c *Conn) (Session, error)

// NewSession calls f(c).
func (f BackendFunc) NewSession(c *Conn) (Session, error) { return f(c) }

// Session authenticates the user of one connection and stores their
// mailboxes. The server calls its methods from one goroutine, one at a
// time, and the mailbox methods only once the client has authenticated
// (Conn.Identity names the user). Each method's ctx is the connection's
// (Conn.Context).
//
// The Session only stores: the server matches LIST patterns, keeps the
// message sequence numbers, renders FETCH items from the message content,
// evaluates SEARCH and reports other sessions' changes from successive
// Mailbox.Poll listings.
//
// Errors: an *imap.Error chooses the reply (use the Err variables of this
// package for the usual ones); one wrapping auth.ErrAuthFailed means wrong
// credentials (NO [AUTHENTICATIONFAILED]); any other error is logged and
// answered NO [UNAVAILABLE] without its text.
type Session interface {
	// SASLMechanisms lists the mechanisms AUTHENTICATE offers (RFC 3501
	// §6.2.2). LOGIN (§6.2.3) is offered when the list has PLAIN: the
	// server runs it as a PLAIN exchange, so one credential store serves
	// both. An *auth.ServerConfig provides both methods' substance.
	SASLMechanisms() []string
	// NewSASLServer starts the server side of one exchange of mech.
	NewSASLServer(ctx context.Context, mech string) (auth.Server, error)

	// Mailboxes lists the user's mailboxes, for LIST, LSUB and the
	// \HasChildren attributes; the server matches the patterns.
	Mailboxes(ctx context.Context) ([]MailboxInfo, error)
	// Create creates a mailbox (RFC 3501 §6.3.3); an existing one yields
	// ErrAlreadyExists.
	Create(ctx context.Context, name string) error
	// Delete deletes a mailbox (RFC 3501 §6.3.4).
	Delete(ctx context.Context, name string) error
	// Rename renames a mailbox and its inferiors (RFC 3501 §6.3.5); INBOX
	// moves its messages to the new mailbox and stays, empty.
	Rename(ctx context.Context, from, to string) error
	// Subscribe adds name to, or removes it from, the subscriptions (RFC
	// 3501 §6.3.6, §6.3.7).
	Subscribe(ctx context.Context, name string, subscribe bool) error
	// Status returns a mailbox's counters (RFC 3501 §6.3.10).
	Status(ctx context.Context, name string) (*MailboxStatus, error)
	// Append stores a message of size octets read from r (RFC 3501
	// §6.3.11), and returns its UID and the mailbox's UIDVALIDITY (RFC
	// 4315 APPENDUID). A missing mailbox yields ErrTryCreate. date is the
	// internal date, the current time when the client gave none.
	Append(ctx context.Context, name string, flags []imap.Flag, date time.Time, size int64, r io.Reader) (uid, uidValidity uint32, err error)
	// Open opens a mailbox for SELECT (readOnly false) or EXAMINE (readOnly
	// true).
	Open(ctx context.Context, name string, readOnly bool) (Mailbox, error)
	// Close is called exactly once, when the connection ends, however it
	// ends, after the open Mailbox's Close.
	Close() error
}

// MailboxInfo describes one mailbox for LIST.
type MailboxInfo struct {
	Name       string
	Delim      rune // the hierarchy delimiter; 0 for a flat name space
	Attrs      []imap.MailboxAttr
	Subscribed bool
}

// MailboxStatus holds a mailbox's counters.
type MailboxStatus struct {
	Messages, Recent, Unseen uint32
	UIDNext, UIDValidity     uint32
}

// MessageInfo describes one message of a mailbox.
type MessageInfo struct {
	UID          uint32
	Flags        []imap.Flag // without \Recent
	Size         int64       // octets of the message as FETCH sends it
	InternalDate time.Time
	// Recent is set for the messages this session is the first to see
	// (RFC 3501 §2.3.2 \Recent).
	Recent bool
}

// Snapshot is a mailbox's state at one moment: the messages in ascending
// UID order.
type Snapshot struct {
	UIDValidity uint32
	UIDNext     uint32
	Messages    []MessageInfo
	// PermanentFlags lists the flags STORE can change for good; nil means
	// the system flags and any keyword (\*).
	PermanentFlags []imap.Flag
}

// Mailbox is a mailbox a Session opened for SELECT or EXAMINE. The server
// keeps its own view of it (sequence numbers, flags) and learns of changes
// by calling Poll at the moments RFC 3501 §5.2 and §7.4.1 let it tell the
// client.
type Mailbox interface {
	// Poll lists the mailbox's messages now.
	Poll(ctx context.Context) (*Snapshot, error)
	// Open returns the content of the message with the given UID; a message
	// that is gone yields ErrExpunged.
	Open(ctx context.Context, uid uint32) (io.ReadCloser, error)
	// Store changes the flags of the messages with the given UIDs: replace,
	// add or remove (op '=', '+' or '-'). \Recent never appears in flags.
	Store(ctx context.Context, uids []uint32, op byte, flags []imap.Flag) error
	// Expunge removes the messages with the given UIDs: those with
	// \Deleted in the server's view (EXPUNGE, CLOSE), or those MOVE copied.
	Expunge(ctx context.Context, uids []uint32) error
	// Copy copies the messages with the given UIDs to the mailbox dest,
	// with their flags and internal dates, and returns dest's UIDVALIDITY
	// and the new UIDs in the same order (RFC 4315 COPYUID). A missing
	// dest yields ErrTryCreate.
	Copy(ctx context.Context, uids []uint32, dest string) (uidValidity uint32, newUIDs []uint32, err error)
	// Close releases the mailbox: on CLOSE, UNSELECT, another SELECT, or
	// the end of the connection.
	Close() error
}

// Notifier is an optional interface of a Mailbox: a channel that receives
// a value whenever the mailbox may have changed, so that IDLE (RFC 2177)
// reports changes as they happen. Without it, IDLE reports changes when the
// client ends it.
type Notifier interface {
	Changes() <-chan struct{}
}

// Errors a Session returns to choose the usual replies.
var (
	ErrNoSuchMailbox = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeNonExistent}, Text: "no such mailbox"}
	ErrTryCreate     = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeTryCreate}, Text: "no such mailbox"}
	ErrAlreadyExists = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeAlreadyExists}, Text: "mailbox already exists"}
	ErrExpunged      = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeExpungeIssued}, Text: "message expunged"}
	ErrNoPerm        = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeNoPerm}, Text: "permission denied"}
	ErrCannot        = &imap.Error{Type: imap.StatusNO, Code: &imap.ResponseCode{Code: imap.CodeCannot}, Text: "operation not permitted"}
)
