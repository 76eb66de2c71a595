package pop3maildir

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
)

// backend serves each user's Maildir at root/USER, with the passwords of
// creds (USER/PASS and AUTH alike).
type backend struct {
	root string
	cfg  auth.ServerConfig
}

func newBackend(root string, users ...string) *backend {
	creds := auth.NewMemoryStore()
	for i := 0; i+1 < len(users); i += 2 {
		if err := creds.SetPassword(users[i], users[i+1]); err != nil {
			panic(err)
		}
	}
	return &backend{root: root, cfg: auth.ServerConfig{Credentials: creds, AllowCleartext: true}}
}

func (b *backend) NewSession(c *pop3.Conn) (pop3.Session, error) {
	return &session{b: b, c: c}, nil
}

type session struct {
	b *backend
	c *pop3.Conn
}

func (s *session) SASLMechanisms() []string { return s.b.cfg.Mechanisms(s.c.TLS()) }

func (s *session) NewSASLServer(_ context.Context, mech string) (auth.Server, error) {
	return s.b.cfg.NewServer(mech, s.c.TLS())
}

func (s *session) OpenMaildrop(_ context.Context, user string) (pop3.Maildrop, error) {
	if user == "" || strings.ContainsAny(user, `/\`) || user[0] == '.' {
		return nil, auth.ErrAuthFailed
	}
	d, err := maildir.Open(filepath.Join(s.b.root, user))
	if err != nil {
		return nil, err
	}
	return Open(d)
}

func (s *session) Close() error { return nil }

func serve(t testing.TB, b pop3.Backend) string {
	srv := &pop3.Server{Backend: b, AllowInsecureAuth: true, Hostname: "pop.test"}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func login(t testing.TB, ctx context.Context, addr, user, pass string) *pop3.Client {
	t.Helper()
	c, err := pop3.Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Login(ctx, user, pass))
	return c
}

func testCtx(t testing.TB) context.Context {
	// Dovecot's login process can take seconds on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func readAll(t testing.TB, rc io.ReadCloser, err error) string {
	t.Helper()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	return string(b)
}

// TestServerOverMaildir: a pop3.Server over the adapter locks the maildrop
// for a session, sends CRLF sizes and bytes, and deletes at QUIT only.
func TestServerOverMaildir(t *testing.T) {
	root := t.TempDir()
	d, err := maildir.Create(filepath.Join(root, "alice"))
	require.NoError(t, err)
	for _, m := range []string{msg1, msg2} {
		_, err := d.Deliver(strings.NewReader(m))
		require.NoError(t, err)
	}
	addr := serve(t, newBackend(root, "alice", "secret"))
	ctx := testCtx(t)

	c := login(t, ctx, addr, "alice", "secret")
	n, size, err := c.Stat(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, int64(len(msg1)+len(msg2)+6), size, "msg2's six bare LFs count as CRLF")

	c2, err := pop3.Dial(ctx, addr)
	require.NoError(t, err)
	defer c2.Close()
	c2.AllowInsecureAuth = true
	var pe *pop3.Error
	require.ErrorAs(t, c2.Login(ctx, "alice", "secret"), &pe)
	assert.Equal(t, pop3.CodeInUse, pe.Code)

	rc, err := c.Retr(ctx, 2)
	assert.Equal(t, strings.ReplaceAll(msg2, "\n", "\r\n"), readAll(t, rc, err))
	require.NoError(t, c.Dele(ctx, 2))
	require.NoError(t, c.Quit(ctx))

	c3 := login(t, ctx, addr, "alice", "secret")
	n, _, err = c3.Stat(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, c3.Quit(ctx))
}

// TestSameAsDovecot serves the same Maildir through our server and through
// Dovecot's, and checks that a client sees the same sizes, bytes and TOP
// output from both.
func TestSameAsDovecot(t *testing.T) {
	msgs := []string{
		msg1, msg2,
		"Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n",
		"Subject: no final newline\n\nlast line",
		"Subject: dots\n\n.\n..\n.x\n",
		"Subject: bare CR\n\na\rb\n",
		"Subject: mixed\r\n\nCRLF and LF\r\nmixed\n",
		"Subject: empty body\n\n",
		"Subject: header only",
	}
	d := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"pop3"},
		Users:     map[string]string{"alice": "secret"},
		Prefill: func(user, dir string) error {
			md, err := maildir.Create(dir)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if _, err := md.Deliver(strings.NewReader(m)); err != nil {
					return err
				}
			}
			return nil
		},
	})
	ours := serve(t, newBackend(d.MailRoot, "alice", "secret"))
	ctx := testCtx(t)

	type view struct {
		list []pop3.ListEntry
		retr []string
		top  []string
	}
	look := func(addr string) view {
		c, err := pop3.Dial(ctx, addr)
		require.NoError(t, err)
		c.AllowInsecureAuth = true
		defer c.Close()
		require.NoError(t, c.Login(ctx, "alice", "secret"))
		var v view
		v.list, err = c.List(ctx)
		require.NoError(t, err)
		for _, m := range v.list {
			rc, err := c.Retr(ctx, m.Number)
			v.retr = append(v.retr, readAll(t, rc, err))
			rc, err = c.Top(ctx, m.Number, 1)
			v.top = append(v.top, readAll(t, rc, err))
		}
		require.NoError(t, c.Quit(ctx))
		return v
	}
	want, got := look(peer.Addr(d.POP3Port)), look(ours)
	require.Len(t, got.list, len(msgs))
	for i := range msgs {
		assert.Equal(t, want.list[i], got.list[i], "LIST of %q", msgs[i])
		assert.Equal(t, want.retr[i], got.retr[i], "RETR of %q", msgs[i])
		assert.Equal(t, want.top[i], got.top[i], "TOP of %q", msgs[i])
	}
}

// benchMessage makes a plausible message of about size bytes with LF line
// ends (as Maildirs conventionally store them), some lines starting with a dot.
func benchMessage(rng *rand.Rand, i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <sender%d@example.org>\nDelivered-To: alice@example.test\n"+
		"From: Sender %d <sender%d@example.org>\nTo: alice@example.test\nSubject: message %d\n"+
		"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <%d@example.org>\n\n", i, i, i, i, i)
	words := []string{"lorem", "ipsum", "dolor", "sit", "amet", ".dot", "consectetur", "adipiscing", "elit"}
	for b.Len() < size {
		n := 0
		for n < 72 {
			w := words[rng.IntN(len(words))]
			b.WriteString(w)
			b.WriteByte(' ')
			n += len(w) + 1
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// fillBenchMaildir writes count messages straight into cur (no fsync: this is
// test data) and returns their total stored size.
func fillBenchMaildir(t testing.TB, dir string, count int) int64 {
	t.Helper()
	_, err := maildir.Create(dir)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for i := range count {
		size := 1000 + rng.IntN(8000)
		if i%100 == 0 {
			size = 100_000 // a few large ones
		}
		m := benchMessage(rng, i, size)
		total += int64(len(m))
		name := fmt.Sprintf("%d.M%dP1Q%d.bench,S=%d:2,S", 1700000000+i, i, i, len(m))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cur", name), m, 0o600))
	}
	return total
}

// retrAll logs in and retrieves every message, returning the bytes
// received.
func retrAll(t testing.TB, addr, user, pass string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := pop3.Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true
	defer c.Close()
	require.NoError(t, c.Login(ctx, user, pass))
	n, _, err := c.Stat(ctx)
	require.NoError(t, err)
	var total int64
	for i := 1; i <= n; i++ {
		rc, err := c.Retr(ctx, i)
		require.NoError(t, err)
		k, err := io.Copy(io.Discard, rc)
		require.NoError(t, err)
		total += k
	}
	require.NoError(t, c.Quit(ctx))
	return total
}

// TestBenchRetrDovecot compares RETR of every message of one Maildir through
// our server and through Dovecot's POP3 server, with our client. Run with
//
//	MAILWIRE_BENCH_POP3=1 go test -run TestBenchRetrDovecot -v ./pop3/pop3maildir
//
// (10,000 messages; 1,000 with -short).
func TestBenchRetrDovecot(t *testing.T) {
	if os.Getenv("MAILWIRE_BENCH_POP3") != "1" {
		t.Skip("set MAILWIRE_BENCH_POP3=1 to run the POP3 benchmark against Dovecot")
	}
	count := 10_000
	if testing.Short() {
		count = 1_000
	}
	var stored int64
	d := peer.StartDovecot(t, peer.DovecotOptions{
		Protocols: []string{"pop3"},
		Users:     map[string]string{"alice": "secret"},
		Prefill: func(user, dir string) error {
			stored = fillBenchMaildir(t, dir, count)
			return nil
		},
	})
	ours, theirs := serve(t, newBackend(d.MailRoot, "alice", "secret")), peer.Addr(d.POP3Port)
	// Warm up both (page cache, Dovecot's index, our UID list), and check that
	// both send the same bytes.
	a, b := retrAll(t, ours, "alice", "secret"), retrAll(t, theirs, "alice", "secret")
	require.Equal(t, b, a, "both servers send the same bytes")
	// Alternate the servers so that load from elsewhere on the machine hits
	// both alike, and keep each one's best session.
	var tOurs, tDovecot time.Duration
	timeOne := func(addr string, best *time.Duration) {
		start := time.Now()
		retrAll(t, addr, "alice", "secret")
		if el := time.Since(start); *best == 0 || el < *best {
			*best = el
		}
	}
	for range 5 {
		timeOne(ours, &tOurs)
		timeOne(theirs, &tDovecot)
	}
	t.Logf("RETR of %d messages (%d MB stored, %d MB sent), best of 5 sessions each, alternating:", count, stored>>20, a>>20)
	t.Logf("  mailwire pop3: %v (%.0f msg/s)", tOurs, float64(count)/tOurs.Seconds())
	t.Logf("  dovecot pop3:  %v (%.0f msg/s)", tDovecot, float64(count)/tDovecot.Seconds())
	t.Logf("  ratio dovecot/mailwire: %.2f (above 1: mailwire faster)", float64(tDovecot)/float64(tOurs))
}

// BenchmarkRetr measures a session retrieving every message of a Maildir
// from a pop3.Server over loopback.
func BenchmarkRetr(b *testing.B) {
	count := 1000
	if n, err := strconv.Atoi(os.Getenv("MAILWIRE_BENCH_POP3_COUNT")); err == nil && n > 0 {
		count = n
	}
	root := b.TempDir()
	fillBenchMaildir(b, filepath.Join(root, "alice"), count)
	addr := serve(b, newBackend(root, "alice", "secret"))
	var n int64
	for b.Loop() {
		n = retrAll(b, addr, "alice", "secret")
	}
	b.SetBytes(n)
	b.ReportMetric(float64(count)*float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
