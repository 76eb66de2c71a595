package queue

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/mailwire/mailwire/smtp"
)

// Defaults of a Queue.
const (
	DefaultWorkers   = 4
	DefaultLeaseTime = 30 * time.Minute
	DefaultPoll      = time.Minute
)

// Event is reported to Queue.Observer after each attempt and outcome.
type Event struct {
	ID ID
	// Recipient is the recipient concerned.
	Recipient smtp.Mailbox
	Outcome   Outcome
	// State is the recipient's state after the attempt.
	State State
	Time  time.Time
	// DSN names the notice queued for it, "" if none.
	DSN string
}

// Queue delivers the messages of a Store through a Transport, retrying on
// the schedule of its Policy and returning delivery status notifications
// to senders. Set the fields, then call Run (or ProcessDue from a test).
type Queue struct {
	Store     Store
	Transport Transport
	Policy    Policy
	// Clock tells the time; nil means SystemClock.
	Clock Clock
	// Hostname names this MTA in notices (Reporting-MTA, MAILER-DAEMON@).
	Hostname string
	// Workers is the number of messages delivered at once; default
	// DefaultWorkers.
	Workers int
	// LeaseTime is how long a worker holds a message before another may
	// take it (a crashed worker's messages come back); default
	// DefaultLeaseTime.
	LeaseTime time.Duration
	// Poll is the interval between scans for due messages; default
	// DefaultPoll. Enqueue and DeliverNow wake the scan early.
	Poll time.Duration
	// Observer, when set, sees every outcome.
	Observer func(Event)
	// Logger receives a record per attempt outcome; nil discards.
	Logger *slog.Logger

	wakeOnce sync.Once
	wake     chan struct{}
}

func (q *Queue) clock() Clock {
	if q.Clock == nil {
		return SystemClock{}
	}
	return q.Clock
}

func (q *Queue) logger() *slog.Logger {
	if q.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return q.Logger
}

func (q *Queue) wakeCh() chan struct{} {
	q.wakeOnce.Do(func() { q.wake = make(chan struct{}, 1) })
	return q.wake
}

func (q *Queue) poke() {
	select {
	case q.wakeCh() <- struct{}{}:
	default:
	}
}

// Enqueue stores a message for delivery, due at once. env.Arrival becomes
// now when zero.
func (q *Queue) Enqueue(ctx context.Context, env *Envelope, body io.Reader) (ID, error) {
	e := env.Clone()
	now := q.clock().Now()
	if e.Arrival.IsZero() {
		e.Arrival = now
	}
	if e.ID == "" {
		e.ID = NewID(now)
	}
	id, err := q.Store.Put(ctx, e, body)
	if err == nil {
		q.poke()
	}
	return id, err
}

// List returns every queued message with its recipients' states and last
// error.
func (q *Queue) List(ctx context.Context) ([]*Envelope, error) { return q.Store.List(ctx) }

// Remove deletes a message from the queue without notice.
func (q *Queue) Remove(ctx context.Context, id ID) error { return q.Store.Remove(ctx, id) }

// DeliverNow makes a message due at once. A message being attempted at
// the time keeps the next attempt time that attempt sets.
func (q *Queue) DeliverNow(ctx context.Context, id ID) error {
	e, err := q.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	e.Next = q.clock().Now()
	if err := q.Store.Update(ctx, e); err != nil {
		return err
	}
	q.poke()
	return nil
}

// Run delivers due messages with Workers workers until ctx ends.
func (q *Queue) Run(ctx context.Context) error {
	poll := q.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		if _, err := q.ProcessDue(ctx); err != nil && ctx.Err() == nil {
			q.logger().Error("queue: scan failed", "err", err)
		}
		t := q.clock().NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case <-q.wakeCh():
			t.Stop()
		}
	}
}

// ProcessDue leases the messages due now and attempts each, Workers at a
// time, returning when all are done: one scan of Run. It returns how many
// messages it attempted.
func (q *Queue) ProcessDue(ctx context.Context) (int, error) {
	workers := q.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	lease := q.LeaseTime
	if lease <= 0 {
		lease = DefaultLeaseTime
	}
	total := 0
	for {
		now := q.clock().Now()
		envs, err := q.Store.Lease(ctx, now, workers*4, now.Add(lease))
		if err != nil || len(envs) == 0 {
			return total, err
		}
		total += len(envs)
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for _, e := range envs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := q.attempt(ctx, e); err != nil {
					q.logger().Error("queue: attempt failed", "id", e.ID, "err", err)
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// attempt delivers one leased message and records the outcome.
func (q *Queue) attempt(ctx context.Context, e *Envelope) error {
	var idx []int
	for i := range e.Recipients {
		if e.Recipients[i].State.Active() {
			idx = append(idx, i)
		}
	}
	open := func() (io.ReadCloser, error) { return q.Store.Open(ctx, e.ID) }
	outs := q.Transport.Deliver(ctx, e, idx, open)
	now := q.clock().Now()
	pol := q.Policy.withDefaults()
	var failed, delayed, delivered []int
	att := Attempt{Time: now}
	temp := false
	for _, o := range outs {
		r := &e.Recipients[o.Index]
		r.Status, r.Diagnostic, r.RemoteMTA, r.Updated = o.Status, o.Diagnostic, o.RemoteMTA, now
		if o.RemoteMTA != "" {
			att.Host = o.RemoteMTA
		}
		switch o.Kind {
		case Success:
			r.State = Delivered
			if r.wantsNotify(smtp.NotifySuccess) {
				delivered = append(delivered, o.Index)
			}
		case Permanent:
			r.State = Failed
			failed = append(failed, o.Index)
			att.Err = o.Diagnostic
		default:
			temp = true
			att.Err = o.Diagnostic
		}
	}
	e.AddAttempt(att)
	next := time.Time{}
	if temp {
		var giveUp bool
		next, giveUp = pol.Next(e.Arrival, now, e.Tries)
		for _, o := range outs {
			r := &e.Recipients[o.Index]
			if o.Kind != Temporary {
				continue
			}
			if giveUp {
				// RFC 5321 §4.5.4.1: give up and return the message.
				r.State = Failed
				// RFC 3463: delivery time expired; Action failed needs 5.x.x
				// (RFC 3464 §2.3.4).
				r.Status = "5.4.7"
				failed = append(failed, o.Index)
			} else if r.State == Pending && pol.DelayDue(e.Arrival, now) && r.wantsNotify(smtp.NotifyDelay) {
				r.State = Delayed
				delayed = append(delayed, o.Index)
			}
		}
	}
	// Notices are queued before the state is recorded: a crash between the
	// two repeats a notice rather than lose one.
	dsn := map[int]string{}
	for _, n := range []struct {
		act  dsnAction
		idx  []int
		want smtp.DSNNotify
	}{{actionFailed, failed, smtp.NotifyFailure}, {actionDelayed, delayed, smtp.NotifyDelay}, {actionDelivered, delivered, smtp.NotifySuccess}} {
		var to []int
		for _, i := range n.idx {
			if e.Recipients[i].wantsNotify(n.want) {
				to = append(to, i)
			}
		}
		if len(to) == 0 || e.From.IsNull() {
			// RFC 3461 §6.2, RFC 5321 §6.1: never a notice about a notice.
			continue
		}
		id, err := q.notify(ctx, e, n.act, to, now, e.Arrival.Add(pol.GiveUp))
		if err != nil {
			q.logger().Error("queue: queuing a notice failed", "id", e.ID, "err", err)
			continue
		}
		for _, i := range to {
			dsn[i] = string(id)
		}
	}
	for _, o := range outs {
		r := &e.Recipients[o.Index]
		q.logger().Info("queue: attempt", "id", e.ID, "rcpt", r.Addr.String(), "outcome", o.Kind.String(),
			"state", r.State.String(), "status", o.Status, "diag", o.Diagnostic)
		if q.Observer != nil {
			q.Observer(Event{ID: e.ID, Recipient: r.Addr, Outcome: o, State: r.State, Time: now, DSN: dsn[o.Index]})
		}
	}
	if !e.Active() {
		return q.Store.Remove(ctx, e.ID)
	}
	e.Next = next
	if err := q.Store.Update(ctx, e); err != nil {
		return err
	}
	return q.Store.Release(ctx, e.ID, next)
}

// notify queues a notice from the null sender to the envelope sender.
func (q *Queue) notify(ctx context.Context, e *Envelope, act dsnAction, idx []int, now, until time.Time) (ID, error) {
	host := q.Hostname
	if host == "" {
		host = "localhost"
	}
	var orig io.ReadCloser
	orig, err := q.Store.Open(ctx, e.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	pr, pw := io.Pipe()
	go func() {
		var src io.Reader
		if orig != nil {
			src = orig
		}
		pw.CloseWithError(writeDSN(pw, host, e, act, idx, now, until, src))
		if orig != nil {
			orig.Close()
		}
	}()
	env := &Envelope{
		Recipients: []Recipient{{Addr: e.From, Notify: []smtp.DSNNotify{smtp.NotifyNever}}},
		Arrival:    now,
		UTF8:       !isASCII(e.From.String()) || e.UTF8,
		Body:       smtp.Body8BitMIME,
	}
	id, err := q.Enqueue(ctx, env, pr)
	pr.Close()
	return id, err
}
