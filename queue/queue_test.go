package queue

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
)

// scripted is a Transport answering each recipient by the local part of
// its address: "temp", "perm", else success. Notices (to the sender
// alice) are recorded and delivered.
type scripted struct {
	mu      sync.Mutex
	notices []string
}

func (s *scripted) Deliver(ctx context.Context, env *Envelope, rcpts []int, open func() (io.ReadCloser, error)) []Outcome {
	var out []Outcome
	for _, i := range rcpts {
		r := env.Recipients[i]
		switch {
		case env.From.IsNull():
			rc, _ := open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			s.mu.Lock()
			s.notices = append(s.notices, string(b))
			s.mu.Unlock()
			out = append(out, Outcome{Index: i, Kind: Success})
		case strings.HasPrefix(r.Addr.Local, "temp"):
			out = append(out, Outcome{Index: i, Kind: Temporary, Status: "4.4.1", Diagnostic: "smtp; 451 4.4.1 later", RemoteMTA: "mx.b.test"})
		case strings.HasPrefix(r.Addr.Local, "perm"):
			out = append(out, Outcome{Index: i, Kind: Permanent, Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no such user", RemoteMTA: "mx.b.test"})
		default:
			out = append(out, Outcome{Index: i, Kind: Success, Status: "2.0.0"})
		}
	}
	return out
}

func TestQueueFiveDaySchedule(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := NewManualClock(t0)
	tr := &scripted{}
	var events []Event
	q := &Queue{Store: &MemStore{}, Transport: tr, Clock: clk, Hostname: "mta.a.test",
		Policy: Policy{Jitter: -1}, Observer: func(e Event) { events = append(events, e) }}
	env := testEnvelope("temp@b.test", "perm@b.test", "ok@b.test")
	env.EnvelopeID = "E1"
	id, err := q.Enqueue(ctx, env, strings.NewReader("Subject: s\r\nX: y\r\n\r\nsecret body\r\n"))
	require.NoError(t, err)

	attempts := 0
	for {
		n, err := q.ProcessDue(ctx)
		require.NoError(t, err)
		attempts += n
		list, err := q.List(ctx)
		require.NoError(t, err)
		var orig *Envelope
		for _, e := range list {
			if e.ID == id {
				orig = e
			}
		}
		if orig == nil {
			break
		}
		clk.Advance(orig.Next.Sub(clk.Now()))
	}
	assert.Equal(t, t0.Add(5*24*time.Hour), clk.Now(), "given up after 5 days")
	require.Len(t, tr.notices, 3, "failed (perm), delayed (temp), failed (temp at expiry)")
	assert.Contains(t, tr.notices[0], "Action: failed")
	assert.Contains(t, tr.notices[0], "Final-Recipient: rfc822; perm@b.test")
	assert.Contains(t, tr.notices[0], "Diagnostic-Code: smtp; 550 5.1.1 no such user")
	assert.Contains(t, tr.notices[0], "Original-Envelope-Id: E1")
	assert.Contains(t, tr.notices[0], "report-type=delivery-status")
	assert.Contains(t, tr.notices[0], "Content-Type: text/rfc822-headers")
	assert.Contains(t, tr.notices[0], "Subject: s")
	assert.NotContains(t, tr.notices[0], "secret body", "RET absent: headers only")
	assert.NotContains(t, tr.notices[0], "ok@b.test")
	assert.Contains(t, tr.notices[1], "Action: delayed")
	assert.Contains(t, tr.notices[1], "Will-Retry-Until:")
	assert.Contains(t, tr.notices[2], "Action: failed")
	assert.Contains(t, tr.notices[2], "Status: 5.4.7")
	var delayedAt time.Time
	for _, e := range events {
		if e.ID == id && e.State == Delayed && delayedAt.IsZero() {
			delayedAt = e.Time
		}
	}
	assert.False(t, delayedAt.Before(t0.Add(4*time.Hour)))
	assert.True(t, delayedAt.Before(t0.Add(6*time.Hour)), "%v", delayedAt)
	empty, _ := q.List(ctx)
	assert.Empty(t, empty, "notices delivered, message removed")
}

func TestQueueNotifyRules(t *testing.T) {
	ctx := context.Background()
	clk := NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	tr := &scripted{}
	q := &Queue{Store: &MemStore{}, Transport: tr, Clock: clk}
	// NOTIFY=NEVER: no notice.
	e1 := testEnvelope("perm@b.test")
	e1.Recipients[0].Notify = []smtp.DSNNotify{smtp.NotifyNever}
	// The null sender: never a notice.
	e2 := testEnvelope("perm@b.test")
	e2.From = smtp.Mailbox{}
	e2.Recipients[0].Addr = smtp.MustParseMailbox("perm2@b.test")
	// NOTIFY=SUCCESS and RET=FULL.
	e3 := testEnvelope("ok@b.test", "perm@b.test")
	e3.Recipients[0].Notify = []smtp.DSNNotify{smtp.NotifySuccess}
	e3.Return = smtp.ReturnFull
	for _, e := range []*Envelope{e1, e2, e3} {
		_, err := q.Enqueue(ctx, e, strings.NewReader("Subject: s\r\n\r\nthe body\r\n"))
		require.NoError(t, err)
	}
	_, err := q.ProcessDue(ctx)
	require.NoError(t, err)
	var fromNull int
	for _, n := range tr.notices {
		if strings.Contains(n, "perm2@b.test") && !strings.Contains(n, "Action") {
			fromNull++
		}
	}
	require.Len(t, tr.notices, 3, "e2's own message reaches the transport; e3 gets two notices")
	var full, success bool
	for _, n := range tr.notices {
		full = full || (strings.Contains(n, "Content-Type: message/rfc822") && strings.Contains(n, "the body"))
		success = success || strings.Contains(n, "Action: delivered")
		assert.NotContains(t, n, "Final-Recipient: rfc822; perm2@b.test")
	}
	assert.True(t, full, "RET=FULL returns the message")
	assert.True(t, success, "NOTIFY=SUCCESS")
}

func TestQueueEndToEnd(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.NewServer(t, smtptest.WithRcptHook(func(to string) error {
		if strings.HasPrefix(to, "gone") {
			return &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 1, Detail: 1}, Message: "no"}
		}
		return nil
	}))
	d := newDeliverer(t, dnsmxtest.Zone{
		"b.test": {dnsmxtest.A("127.0.0.3")},
		"a.test": {dnsmxtest.A("127.0.0.3")},
	}, map[string]string{"127.0.0.3:25": srv.Addr})
	store, err := OpenDirStore(t.TempDir(), nil)
	require.NoError(t, err)
	q := &Queue{Store: store, Transport: d, Hostname: "mta.a.test", Clock: NewManualClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))}
	_, err = q.Enqueue(ctx, testEnvelope("bob@b.test", "gone@b.test"), strings.NewReader(testMsg))
	require.NoError(t, err)
	_, err = q.ProcessDue(ctx)
	require.NoError(t, err)
	msgs := srv.Messages()
	require.Len(t, msgs, 2, "the message, then the bounce")
	assert.Equal(t, []string{"bob@b.test"}, msgs[0].To)
	assert.Equal(t, "", msgs[1].From, "bounce from the null sender")
	assert.Equal(t, []string{"alice@a.test"}, msgs[1].To)
	assert.Contains(t, string(msgs[1].Data), "Final-Recipient: rfc822; gone@b.test")
	left, _ := q.List(ctx)
	assert.Empty(t, left)
}

func TestQueueRunAndDeliverNow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := NewManualClock(t0)
	delivered := make(chan Event, 10)
	q := &Queue{Store: &MemStore{}, Transport: &scripted{}, Clock: clk,
		Observer: func(e Event) { delivered <- e }}
	id, err := q.Enqueue(ctx, testEnvelope("temp@b.test"), strings.NewReader("x\r\n"))
	require.NoError(t, err)
	done := make(chan error)
	added := clk.TimerAdded()
	go func() { done <- q.Run(ctx) }()
	ev := <-delivered
	assert.Equal(t, Temporary, ev.Outcome.Kind)
	<-added // the scan is over: Run waits for its next poll
	list, err := q.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "smtp; 451 4.4.1 later", list[0].LastError())
	require.NoError(t, q.DeliverNow(ctx, id))
	ev = <-delivered
	assert.Equal(t, id, ev.ID)
	require.NoError(t, q.Remove(ctx, id))
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}
