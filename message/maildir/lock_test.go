package maildir

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTryLock(t *testing.T) {
	d := newDir(t)
	l, err := d.TryLock()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(d.Path(), SessionLockFile))

	// A second locker is refused, through the same Dir or another one for
	// the same Maildir.
	_, err = d.TryLock()
	assert.ErrorIs(t, err, ErrLocked)
	other, err := Open(d.Path())
	require.NoError(t, err)
	_, err = other.TryLock()
	assert.ErrorIs(t, err, ErrLocked)

	// The session lock is not the folder lock: List and delivery go on.
	_, err = d.Deliver(strings.NewReader("x\n"))
	require.NoError(t, err)
	msgs, err := other.List()
	require.NoError(t, err)
	assert.Len(t, msgs, 1)

	require.NoError(t, l.Unlock())
	require.NoError(t, l.Unlock(), "unlocking twice does nothing")
	l2, err := other.TryLock()
	require.NoError(t, err, "released on Unlock")
	require.NoError(t, l2.Unlock())
}

func TestTryLockRelativePath(t *testing.T) {
	// Two Dirs naming the Maildir by different paths still exclude each
	// other (on platforms that key the lock table by path, too).
	d := newDir(t)
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, d.Path())
	if err != nil {
		t.Skip("no relative path to the test directory")
	}
	d2, err := Open(rel)
	require.NoError(t, err)
	l, err := d.TryLock()
	require.NoError(t, err)
	defer l.Unlock()
	_, err = d2.TryLock()
	assert.ErrorIs(t, err, ErrLocked)
}

func TestTryLockFolders(t *testing.T) {
	// Each folder has its own lock.
	d := newDir(t)
	f, err := d.CreateFolder("Sent")
	require.NoError(t, err)
	l1, err := d.TryLock()
	require.NoError(t, err)
	defer l1.Unlock()
	l2, err := f.TryLock()
	require.NoError(t, err)
	require.NoError(t, l2.Unlock())
}

func TestLockWaits(t *testing.T) {
	d := newDir(t)
	held, err := d.TryLock()
	require.NoError(t, err)

	got := make(chan error, 1)
	var second *Lock
	go func() {
		l, err := d.Lock(context.Background())
		second = l
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned while the lock was held: %v", err)
	default:
	}
	require.NoError(t, held.Unlock())
	require.NoError(t, <-got, "the waiting Lock gets it once released")
	_, err = d.TryLock()
	assert.ErrorIs(t, err, ErrLocked)
	require.NoError(t, second.Unlock())
}

func TestLockCancelled(t *testing.T) {
	d := newDir(t)
	held, err := d.TryLock()
	require.NoError(t, err)
	defer held.Unlock()
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("session ended")
	got := make(chan error, 1)
	go func() {
		_, err := d.Lock(ctx)
		got <- err
	}()
	cancel(stop)
	assert.ErrorIs(t, <-got, stop)

	// An unheld lock is taken even when ctx is already done: it does not
	// wait.
	free := newDir(t)
	l, err := free.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Unlock())
}

func TestLockManyGoroutines(t *testing.T) {
	// Goroutines taking the lock in turn never hold it together.
	d := newDir(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		holders int
		bad     bool
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				l, err := d.Lock(context.Background())
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				holders++
				bad = bad || holders > 1
				mu.Unlock()
				mu.Lock()
				holders--
				mu.Unlock()
				assert.NoError(t, l.Unlock())
			}
		}()
	}
	wg.Wait()
	assert.False(t, bad, "two goroutines held the lock at once")
}

func TestProcessLocks(t *testing.T) {
	// The in-process table behind the lock on platforms whose file locks do
	// not exclude goroutines; tested here on every platform.
	var p procLocks
	assert.True(t, p.acquire("a", false))
	assert.False(t, p.acquire("a", false))
	assert.True(t, p.acquire("b", false), "keys are independent")
	got := make(chan bool)
	go func() { got <- p.acquire("a", true) }()
	p.release("a")
	assert.True(t, <-got, "a waiter gets it on release")
	p.release("a")
	p.release("b")
	p.release("c") // releasing what is not held does nothing
	assert.True(t, p.acquire("a", false))
}

// The cross-process test re-executes the test binary as a lock holder:
// with lockChildEnv set, TestMain runs lockChild instead of the tests.
const lockChildEnv = "MAILWIRE_MAILDIR_LOCK_CHILD"

// lockChild takes the session lock of the Maildir dir, says so on standard
// output and holds it until its standard input ends.
func lockChild(dir string) {
	d, err := Open(dir)
	if err == nil {
		_, err = d.TryLock()
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func TestLockOtherProcess(t *testing.T) {
	if !crossProcessLocks {
		t.Skip("no file locks between processes on this platform")
	}
	d := newDir(t)
	for _, kill := range []bool{false, true} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+d.Path())
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "locked\n", line)

		_, err = d.TryLock()
		assert.ErrorIs(t, err, ErrLocked, "held by another process")

		// The lock goes with the process, however it ends: no stale lock.
		if kill {
			require.NoError(t, cmd.Process.Kill())
		} else {
			require.NoError(t, stdin.Close())
		}
		_ = cmd.Wait()
		l, err := d.TryLock()
		require.NoError(t, err, "released when the holder ended (killed: %v)", kill)
		require.NoError(t, l.Unlock())
	}
}
