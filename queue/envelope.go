package queue

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"time"

	"github.com/mailwire/mailwire/smtp"
)

// ID names a queued message. IDs made by NewID are 24 lower-case hex digits
// that sort by creation time; stores accept any ID that ValidID accepts, so
// that an ID can be a file name.
type ID string

// NewID returns a fresh ID: the time in nanoseconds and 32 random bits.
func NewID(now time.Time) ID {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	rand.Read(b[8:])
	return ID(hex.EncodeToString(b[:]))
}

// ValidID reports whether id is usable: 1 to 64 characters of [0-9a-zA-Z_-].
func ValidID(id ID) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// State is what has become of one recipient.
type State uint8

const (
	// Pending: not delivered yet; attempts go on.
	Pending State = iota
	// Delayed: still pending, and a "delayed" DSN has been sent for it
	// (RFC 3464 §2.3.3 Action: delayed), so none is sent again.
	Delayed
	// Delivered: the next hop accepted the message for this recipient.
	Delivered
	// Failed: delivery failed permanently or the queue gave up.
	Failed
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Delayed:
		return "delayed"
	case Delivered:
		return "delivered"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Active reports whether the recipient still waits for delivery.
func (s State) Active() bool { return s == Pending || s == Delayed }

// Recipient is one recipient of a queued message, with its DSN parameters
// (RFC 3461 §4.1, §4.2) and its own state.
type Recipient struct {
	Addr smtp.Mailbox
	// Notify is the NOTIFY parameter; nil means absent, which RFC 3461 §4.1
	// lets the MTA read as NOTIFY=FAILURE (and DELAY, at its choice; this
	// package sends delay notices then too).
	Notify []smtp.DSNNotify `json:",omitempty"`
	// OrigType and Orig are the ORCPT parameter (RFC 3461 §4.2): the
	// address type ("rfc822", "utf-8") and the decoded address.
	OrigType string `json:",omitempty"`
	Orig     string `json:",omitempty"`

	State State
	// Status is the RFC 3463 status of the last outcome, "5.1.1" say, and
	// Diagnostic the next hop's reply ("smtp; 550 5.1.1 no such user")
	// or our own explanation. RemoteMTA names the host that gave it.
	Status     string `json:",omitempty"`
	Diagnostic string `json:",omitempty"`
	RemoteMTA  string `json:",omitempty"`
	// Updated is when the state or status last changed.
	Updated time.Time `json:",omitzero"`
}

// wantsNotify reports whether a DSN of kind n is due for r. A recipient
// without NOTIFY gets failure and delay notices (RFC 3461 §4.1 leaves the
// default to the MTA; RFC 3461 §6.2 allows delays when NOTIFY is absent).
func (r *Recipient) wantsNotify(n smtp.DSNNotify) bool {
	if r.Notify == nil {
		return n == smtp.NotifyFailure || n == smtp.NotifyDelay
	}
	return slices.Contains(r.Notify, n)
}

// Attempt is one delivery attempt, kept in the message's history.
type Attempt struct {
	Time time.Time
	// Host is the next hop tried last ("mx1.example.org [192.0.2.1]"), if any.
	Host string `json:",omitempty"`
	// Err describes what went wrong, "" when every recipient tried was
	// delivered.
	Err string `json:",omitempty"`
}

// MaxHistory bounds the attempts an Envelope keeps: the oldest are dropped.
const MaxHistory = 32

// Envelope is a queued message's envelope and delivery state: everything
// but the message itself, which a Store keeps apart and streams.
type Envelope struct {
	ID ID
	// From is the reverse-path; the zero Mailbox is the null sender of
	// bounces, for whose messages no DSN is ever sent (RFC 3461 §6.2).
	From       smtp.Mailbox
	Recipients []Recipient
	// EnvelopeID and Return are the MAIL parameters ENVID and RET (RFC
	// 3461 §4.3, §4.4).
	EnvelopeID string         `json:",omitempty"`
	Return     smtp.DSNReturn `json:",omitempty"`
	Body       smtp.BodyType  `json:",omitempty"`
	UTF8       bool           `json:",omitempty"`
	Size       int64          `json:",omitempty"` // the body's size, set by the store
	Arrival    time.Time      // when the message was queued
	Next       time.Time      `json:",omitzero"` // when the next attempt is due
	Attempts   []Attempt      `json:",omitempty"`
	Tries      int            `json:",omitempty"` // attempts so far, beyond those kept
	// LeaseUntil is set by Store.Lease: until then no other Lease returns
	// the message. It is not stored durably: after a restart every message
	// is free.
	LeaseUntil time.Time `json:"-"`
}

// Clone returns a deep copy of e.
func (e *Envelope) Clone() *Envelope {
	c := *e
	c.Recipients = slices.Clone(e.Recipients)
	for i := range c.Recipients {
		c.Recipients[i].Notify = slices.Clone(e.Recipients[i].Notify)
	}
	c.Attempts = slices.Clone(e.Attempts)
	return &c
}

// Active reports whether any recipient still waits for delivery.
func (e *Envelope) Active() bool {
	for i := range e.Recipients {
		if e.Recipients[i].State.Active() {
			return true
		}
	}
	return false
}

// LastError returns the error of the last attempt, "" if none failed.
func (e *Envelope) LastError() string {
	if len(e.Attempts) == 0 {
		return ""
	}
	return e.Attempts[len(e.Attempts)-1].Err
}

// AddAttempt appends a to the history, dropping the oldest beyond MaxHistory.
func (e *Envelope) AddAttempt(a Attempt) {
	e.Tries++
	e.Attempts = append(e.Attempts, a)
	if n := len(e.Attempts) - MaxHistory; n > 0 {
		e.Attempts = slices.Delete(e.Attempts, 0, n)
	}
}
