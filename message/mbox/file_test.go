package mbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, path string) []readMsg {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return readAllMessages(t, NewReader(f))
}

func TestAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	require.NoError(t, Append(path, "a@x", date, strings.NewReader("Subject: 1\n\nFrom me\n")))
	require.NoError(t, Append(path, "b@x", date, strings.NewReader("Subject: 2\n\nno newline")))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.NoFileExists(t, path+".lock")
	msgs := readFile(t, path)
	require.Len(t, msgs, 2)
	assert.Equal(t, "Subject: 1\n\nFrom me\n", msgs[0].content)
	assert.Equal(t, "Subject: 2\n\nno newline\n", msgs[1].content)
	assert.Equal(t, "b@x", msgs[1].sender)
}

func TestAppendRepairsMissingTerminator(t *testing.T) {
	for _, existing := range []string{"From a b\nx", "From a b\nx\n", "From a b\nx\n\n", "\n"} {
		path := filepath.Join(t.TempDir(), "inbox")
		require.NoError(t, os.WriteFile(path, []byte(existing), 0o600))
		require.NoError(t, Append(path, "c@x", date, strings.NewReader("y\n")))
		msgs := readFile(t, path)
		require.NotEmpty(t, msgs, "%q", existing)
		last := msgs[len(msgs)-1]
		assert.Equal(t, "c@x", last.sender, "%q", existing)
		assert.Equal(t, "y\n", last.content)
	}
}

func TestAppendFailureTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	require.NoError(t, Append(path, "a@x", date, strings.NewReader("first\n")))
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	big := io.MultiReader(strings.NewReader(strings.Repeat("partial line\n", 20000)), errReader{})
	require.ErrorContains(t, Append(path, "b@x", date, big), "disk error")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	assert.NoFileExists(t, path+".lock")
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				body := fmt.Sprintf("Subject: %d-%d\n\n%s", w, i, strings.Repeat(fmt.Sprintf("From %d %d\n", w, i), 500))
				assert.NoError(t, Append(path, "x@y", date, strings.NewReader(body)))
			}
		}(w)
	}
	wg.Wait()
	msgs := readFile(t, path)
	require.Len(t, msgs, workers*each)
	seen := map[string]bool{}
	for _, m := range msgs {
		var w, i int
		_, err := fmt.Sscanf(m.content, "Subject: %d-%d\n", &w, &i)
		require.NoError(t, err)
		want := fmt.Sprintf("Subject: %d-%d\n\n%s", w, i, strings.Repeat(fmt.Sprintf("From %d %d\n", w, i), 500))
		require.Equal(t, want, m.content)
		seen[m.content[:15]] = true
	}
	assert.Len(t, seen, workers*each)
}

func TestLockTimeoutAndStaleLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	l, err := LockFile(path, 0)
	require.NoError(t, err)
	_, err = LockFile(path, 30*time.Millisecond)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, l.Unlock())

	// A dot-lock left by a crashed process is broken once stale.
	require.NoError(t, os.WriteFile(path+".lock", []byte("99999\n"), 0o600))
	_, err = LockFile(path, 30*time.Millisecond)
	require.ErrorIs(t, err, ErrLocked, "fresh dot-lock is respected")
	old := time.Now().Add(-StaleLockAge - time.Minute)
	require.NoError(t, os.Chtimes(path+".lock", old, old))
	l, err = LockFile(path, time.Second)
	require.NoError(t, err)
	b, err := os.ReadFile(path + ".lock")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%d\n", os.Getpid()), string(b))
	require.NoError(t, l.Unlock())
	require.NoError(t, l.Unlock())
	assert.NoFileExists(t, path+".lock")
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box")
	require.NoError(t, os.WriteFile(path, []byte("From old x\nold\n"), 0o600))
	err := WriteFile(path, func(w *Writer) error {
		if err := w.WriteMessage("a", date, strings.NewReader("one\n")); err != nil {
			return err
		}
		return errors.New("stop")
	})
	require.ErrorContains(t, err, "stop")
	assert.Equal(t, "old\n", readFile(t, path)[0].content)
	ents, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "a failed WriteFile leaves no temporary file")
	require.NoError(t, WriteFile(path, func(w *Writer) error {
		return w.WriteMessage("a", date, strings.NewReader("one\n"))
	}))
	msgs := readFile(t, path)
	require.Len(t, msgs, 1)
	assert.Equal(t, "one\n", msgs[0].content)
	ents, err = os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary or lock files left")
}

func TestLockWaitsForHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	l, err := LockFile(path, 0)
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		l2, err := LockFile(path, time.Hour)
		if err == nil {
			err = l2.Unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second LockFile returned while the lock was held: %v", err)
	default:
	}
	require.NoError(t, l.Unlock())
	require.NoError(t, <-got, "the waiting locker gets the lock once released")
	assert.NoFileExists(t, path+".lock")
}
