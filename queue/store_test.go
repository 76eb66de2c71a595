package queue

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/smtp"
)

func testEnvelope(rcpts ...string) *Envelope {
	e := &Envelope{From: smtp.MustParseMailbox("alice@a.test")}
	for _, r := range rcpts {
		e.Recipients = append(e.Recipients, Recipient{Addr: smtp.MustParseMailbox(r)})
	}
	return e
}

func stores(t *testing.T) map[string]func() Store {
	return map[string]func() Store{
		"mem": func() Store { return &MemStore{} },
		"dir": func() Store {
			s, err := OpenDirStore(t.TempDir(), nil)
			require.NoError(t, err)
			return s
		},
	}
}

func readBody(t *testing.T, s Store, id ID) string {
	t.Helper()
	rc, err := s.Open(context.Background(), id)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := mk()
			env := testEnvelope("bob@b.test", "carol@c.test")
			env.Arrival = t0
			env.Recipients[0].Notify = []smtp.DSNNotify{smtp.NotifyFailure}
			env.Recipients[0].OrigType, env.Recipients[0].Orig = "rfc822", "bob@b.test"
			env.EnvelopeID, env.Return = "env-1", smtp.ReturnHeaders
			id, err := s.Put(ctx, env, strings.NewReader("Subject: x\r\n\r\nhello\r\n"))
			require.NoError(t, err)
			require.True(t, ValidID(id))
			assert.Equal(t, ID(""), env.ID, "Put copies env")

			got, err := s.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, int64(21), got.Size)
			assert.Equal(t, "env-1", got.EnvelopeID)
			assert.Equal(t, []smtp.DSNNotify{smtp.NotifyFailure}, got.Recipients[0].Notify)
			assert.Equal(t, "Subject: x\r\n\r\nhello\r\n", readBody(t, s, id))

			// Lease: due now, then leased.
			l, err := s.Lease(ctx, t0, 10, t0.Add(time.Minute))
			require.NoError(t, err)
			require.Len(t, l, 1)
			l2, err := s.Lease(ctx, t0.Add(time.Second), 10, t0.Add(time.Minute))
			require.NoError(t, err)
			assert.Empty(t, l2, "leased")
			// The lease expires by itself.
			l3, err := s.Lease(ctx, t0.Add(2*time.Minute), 10, t0.Add(3*time.Minute))
			require.NoError(t, err)
			assert.Len(t, l3, 1)

			e := l3[0]
			e.Recipients[0].State, e.Recipients[0].Status = Delivered, "2.0.0"
			e.Recipients[1].Status = "4.4.1"
			e.AddAttempt(Attempt{Time: t0, Host: "mx.c.test", Err: "connection refused"})
			require.NoError(t, s.Update(ctx, e))
			require.NoError(t, s.Release(ctx, id, t0.Add(time.Hour)))
			l4, err := s.Lease(ctx, t0.Add(30*time.Minute), 10, t0.Add(31*time.Minute))
			require.NoError(t, err)
			assert.Empty(t, l4, "not due")

			list, err := s.List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, Delivered, list[0].Recipients[0].State)
			assert.Equal(t, "connection refused", list[0].LastError())
			assert.Equal(t, t0.Add(time.Hour), list[0].Next.UTC())

			// A message with no active recipient is never due.
			e.Recipients[1].State = Failed
			require.NoError(t, s.Update(ctx, e))
			l5, err := s.Lease(ctx, t0.Add(48*time.Hour), 10, t0.Add(49*time.Hour))
			require.NoError(t, err)
			assert.Empty(t, l5)

			require.NoError(t, s.Remove(ctx, id))
			_, err = s.Get(ctx, id)
			assert.ErrorIs(t, err, ErrNotFound)
			_, err = s.Open(ctx, id)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.ErrorIs(t, s.Remove(ctx, id), ErrNotFound)
			assert.ErrorIs(t, s.Release(ctx, id, t0), ErrNotFound)
		})
	}
}

func TestStoreLeaseOrderAndLimit(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := mk()
			var ids []ID
			for i := range 5 {
				e := testEnvelope("b@b.test")
				e.Arrival = t0
				e.Next = t0.Add(time.Duration(5-i) * time.Minute)
				id, err := s.Put(ctx, e, strings.NewReader("x"))
				require.NoError(t, err)
				ids = append(ids, id)
			}
			l, err := s.Lease(ctx, t0.Add(time.Hour), 2, t0.Add(2*time.Hour))
			require.NoError(t, err)
			require.Len(t, l, 2)
			assert.Equal(t, ids[4], l[0].ID)
			assert.Equal(t, ids[3], l[1].ID)
		})
	}
}

func TestDirStoreRecovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenDirStore(dir, nil)
	require.NoError(t, err)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := testEnvelope("b@b.test", "c@c.test")
	e.Arrival = t0
	id, err := s.Put(ctx, e, strings.NewReader("body"))
	require.NoError(t, err)
	id2, err := s.Put(ctx, testEnvelope("d@d.test"), strings.NewReader("two"))
	require.NoError(t, err)
	l, err := s.Lease(ctx, time.Now(), 10, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, l, 2)
	for _, le := range l {
		if le.ID == id {
			le.Recipients[0].State = Failed
			require.NoError(t, s.Update(ctx, le))
		}
	}
	require.NoError(t, s.Remove(ctx, id2))
	// Debris a crash could leave: a temporary file, an orphaned state
	// file.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".x.msg.tmp123"), []byte("partial"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "orphan.state"), []byte("{}"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.msg"), []byte("garbage"), 0o600))

	s2, err := OpenDirStore(dir, nil)
	require.NoError(t, err)
	list, err := s2.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, id, list[0].ID)
	assert.Equal(t, Failed, list[0].Recipients[0].State)
	assert.Equal(t, Pending, list[0].Recipients[1].State)
	assert.True(t, list[0].LeaseUntil.IsZero(), "leases do not survive")
	assert.Equal(t, "body", readBody(t, s2, id))
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	var base []string
	for _, n := range names {
		base = append(base, filepath.Base(n))
	}
	assert.ElementsMatch(t, []string{string(id) + ".msg", string(id) + ".state", "bad.corrupt", "tmp"}, base)
	tmp, _ := filepath.Glob(filepath.Join(dir, ".*"))
	assert.Empty(t, tmp)
}

func TestDirStoreDetectsDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenDirStore(dir, nil)
	require.NoError(t, err)
	id, err := s.Put(ctx, testEnvelope("b@b.test"), strings.NewReader("hello world"))
	require.NoError(t, err)
	p := filepath.Join(dir, string(id)+".msg")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	i := bytes.Index(b, []byte("hello"))
	b[i] = 'j'
	require.NoError(t, os.WriteFile(p, b, 0o600))
	rc, err := s.Open(ctx, id)
	require.NoError(t, err)
	defer rc.Close()
	_, err = io.ReadAll(rc)
	assert.ErrorContains(t, err, "CRC")
}

func TestDirStoreConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	s, err := OpenDirStore(t.TempDir(), nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	ids := make([]ID, 40)
	for i := range ids {
		wg.Go(func() {
			e := testEnvelope("b@b.test")
			e.EnvelopeID = strconv.Itoa(i)
			id, err := s.Put(ctx, e, strings.NewReader(crashBody(i)))
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for i, id := range ids {
		assert.Equal(t, crashBody(i), readBody(t, s, id))
	}
}

// crashBody is the body of the n'th message of the crash test: its size
// varies from a few bytes to some 40 KB.
func crashBody(n int) string {
	var b strings.Builder
	for l := range (n * 37) % 800 {
		fmt.Fprintf(&b, "message %d line %d padding padding padding\r\n", n, l)
	}
	return b.String()
}

const crashEnv = "MAILWIRE_QUEUE_CRASH_DIR"

// TestDirStoreCrashChild is the child process of TestDirStoreCrash: it
// enqueues messages until killed, printing the number of each once Put has
// acknowledged it.
func TestDirStoreCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("child of TestDirStoreCrash")
	}
	s, err := OpenDirStore(dir, nil)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var next int
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				e := testEnvelope("b@b.test")
				e.EnvelopeID = strconv.Itoa(n)
				id, err := s.Put(context.Background(), e, strings.NewReader(crashBody(n)))
				mu.Lock()
				if err != nil {
					fmt.Println("ERR", err)
				} else {
					fmt.Printf("ACK %s %d\n", id, n)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestDirStoreCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for round := range 3 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirStoreCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		acked := map[ID]int{}
		sc := bufio.NewScanner(out)
		killAt := 20 + 15*round
		killed := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 0 && f[0] == "ERR" {
				t.Errorf("child: %s", sc.Text())
			}
			if len(f) != 3 || f[0] != "ACK" {
				continue
			}
			n, err := strconv.Atoi(f[2])
			require.NoError(t, err)
			acked[ID(f[1])] = n
			if len(acked) >= killAt && !killed {
				// SIGKILL on Unix: no chance to clean up.
				require.NoError(t, cmd.Process.Kill())
				killed = true
			}
		}
		cmd.Wait()
		require.True(t, killed, "child ended by itself")

		s, err := OpenDirStore(dir, nil)
		require.NoError(t, err)
		list, err := s.List(context.Background())
		require.NoError(t, err)
		present := map[ID]bool{}
		for _, e := range list {
			present[e.ID] = true
			n, err := strconv.Atoi(e.EnvelopeID)
			require.NoError(t, err)
			// Every entry present is whole, acknowledged or not.
			require.Equal(t, crashBody(n), readBody(t, s, e.ID), "entry %s", e.ID)
		}
		for id, n := range acked {
			require.True(t, present[id], "acknowledged message %d (%s) lost", n, id)
		}
		corrupt, _ := filepath.Glob(filepath.Join(dir, "*.corrupt"))
		assert.Empty(t, corrupt)
		t.Logf("round %d: %d acknowledged, %d present after restart", round, len(acked), len(list))
	}
}

func BenchmarkPutParallel(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 64) // 4 KB
	for _, impl := range []struct {
		name string
		opts DirOptions
	}{
		{"groupcommit", DirOptions{}},
		{"fsync-each", DirOptions{NoGroupCommit: true}},
	} {
		b.Run("size=4KB/impl="+impl.name, func(b *testing.B) {
			s, err := OpenDirStore(b.TempDir(), &impl.opts)
			require.NoError(b, err)
			env := testEnvelope("b@b.test")
			b.SetBytes(int64(len(body)))
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Put(context.Background(), env, bytes.NewReader(body)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}
