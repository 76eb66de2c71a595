package queue

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"time"
)

// ErrNotFound is returned for an ID the store does not hold.
var ErrNotFound = errors.New("queue: no such message")

// ErrInvalidID is returned for an ID that ValidID refuses.
var ErrInvalidID = errors.New("queue: invalid message ID")

// Store keeps queued messages: their envelopes with delivery state, and
// their bodies. Implementations are safe for concurrent use.
//
// A message is leased to one worker at a time. A lease expires by itself,
// so the messages of a worker that died come back; Release ends it early.
type Store interface {
	// Put stores a new message, reading its body from body, and returns
	// only once the message will survive a crash (for a durable store).
	// An empty env.ID gets a fresh one; a zero Arrival becomes the current
	// time. The store sets env.Size. env is copied.
	Put(ctx context.Context, env *Envelope, body io.Reader) (ID, error)
	// Lease returns up to limit messages that have an active recipient,
	// are due (Next not after now) and are not leased, earliest due first,
	// and leases them until the given time. The envelopes are copies.
	Lease(ctx context.Context, now time.Time, limit int, until time.Time) ([]*Envelope, error)
	// Update records the delivery state of env (recipients' states and
	// statuses, attempts, Next) durably. The message keeps its lease.
	Update(ctx context.Context, env *Envelope) error
	// Release ends the lease of a message and sets its next attempt time.
	Release(ctx context.Context, id ID, next time.Time) error
	// Remove deletes a message and its body.
	Remove(ctx context.Context, id ID) error
	// List returns copies of all envelopes, by arrival time.
	List(ctx context.Context) ([]*Envelope, error)
	// Get returns a copy of one envelope.
	Get(ctx context.Context, id ID) (*Envelope, error)
	// Open returns the message body.
	Open(ctx context.Context, id ID) (io.ReadCloser, error)
}

// due reports whether e may be leased at now.
func due(e *Envelope, now time.Time) bool {
	return e.Active() && !e.Next.After(now) && !e.LeaseUntil.After(now)
}

// pickDue returns the due envelopes among all, earliest Next first, at most
// limit of them.
func pickDue(all []*Envelope, now time.Time, limit int) []*Envelope {
	var out []*Envelope
	for _, e := range all {
		if due(e, now) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Envelope) int {
		if c := a.Next.Compare(b.Next); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func sortByArrival(list []*Envelope) {
	slices.SortFunc(list, func(a, b *Envelope) int {
		if c := a.Arrival.Compare(b.Arrival); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// applyState copies the delivery state of src into dst.
func applyState(dst, src *Envelope) {
	n := src.Clone()
	dst.Recipients = n.Recipients
	dst.Attempts = n.Attempts
	dst.Tries = n.Tries
	dst.Next = n.Next
}
