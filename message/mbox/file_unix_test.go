//go:build unix

package mbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A spool mailbox such as /var/mail/bob (owner bob, group mail, mode 0660)
// keeps its mode and owner when WriteFile replaces it, or its owner could
// no longer read it.
func TestWriteFileKeepsModeAndOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box")
	require.NoError(t, os.WriteFile(path, []byte("From old x\nold\n"), 0o600))
	require.NoError(t, os.Chmod(path, 0o640))
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 12345, 23456 // root may give the file away
		require.NoError(t, os.Chown(path, uid, gid))
	}
	require.NoError(t, WriteFile(path, func(w *Writer) error {
		return w.WriteMessage("a", date, strings.NewReader("one\n"))
	}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	st := fi.Sys().(*syscall.Stat_t)
	assert.Equal(t, uint32(uid), st.Uid)
	assert.Equal(t, uint32(gid), st.Gid)
	assert.Equal(t, "one\n", readFile(t, path)[0].content)
}

// fcntlHolderEnv names the mbox file that TestFcntlHolderChild locks.
const fcntlHolderEnv = "MAILWIRE_MBOX_FCNTL_HOLDER"

// TestFcntlHolderChild is the other process of TestLockRespectsFcntl: it
// takes an fcntl write lock on the file, as Dovecot or mutt would, says so
// and holds it until its standard input ends. Run directly, it does nothing.
func TestFcntlHolderChild(t *testing.T) {
	path := os.Getenv(fcntlHolderEnv)
	if path == "" {
		t.Skip("helper process of TestLockRespectsFcntl")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	ok, err := fcntlLock(f)
	require.NoError(t, err)
	require.True(t, ok)
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// Another process's fcntl lock keeps LockFile out (without a dot-lock: the
// holder may be a reader such as Dovecot), until that process lets go.
func TestLockRespectsFcntl(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFcntlHolderChild$")
	cmd.Env = append(os.Environ(), fcntlHolderEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	_, err = LockFile(path, 20*time.Millisecond)
	require.ErrorIs(t, err, ErrLocked)
	assert.ErrorContains(t, err, "fcntl")
	assert.NoFileExists(t, path+".lock", "the dot-lock is let go while waiting")

	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
	l, err := LockFile(path, 0)
	require.NoError(t, err, "free once the holder has exited")
	require.NoError(t, l.Unlock())
}
