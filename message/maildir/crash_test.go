package maildir

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The crash test re-executes the test binary as a delivery process: with
// crashEnv set, TestMain runs crashChild instead of the tests.
const crashEnv = "MAILWIRE_MAILDIR_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	if dir := os.Getenv(lockChildEnv); dir != "" {
		lockChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashMessage returns a message whose header carries the SHA-256 of its
// body, so any truncation or mix-up is detectable.
func crashMessage(rng *rand.Rand) []byte {
	body := make([]byte, rng.IntN(24<<10))
	for i := range body {
		body[i] = 'a' + byte(rng.IntN(26))
		if rng.IntN(70) == 0 {
			body[i] = '\n'
		}
	}
	sum := sha256.Sum256(body)
	return append([]byte("X-Body-SHA256: "+hex.EncodeToString(sum[:])+"\n\n"), body...)
}

// checkMessage verifies a stored message against its embedded checksum.
func checkMessage(b []byte) error {
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	hexSum, found := bytes.CutPrefix(head, []byte("X-Body-SHA256: "))
	if !ok || !found {
		return fmt.Errorf("no checksum header in %d bytes", len(b))
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != string(hexSum) {
		return fmt.Errorf("checksum mismatch over %d body bytes", len(body))
	}
	return nil
}

// chunkReader hands out at most 4 KB per Read and hides WriterTo, so a
// delivery takes several writes and a kill can land between them.
type chunkReader struct{ r io.Reader }

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	return c.r.Read(p)
}

// crashChild delivers messages forever, printing each key after Deliver
// returned; every few deliveries it also lists and flags, to be killed
// while holding the lock or writing the UID list.
func crashChild(dir string) {
	d, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		key, err := d.Deliver(chunkReader{bytes.NewReader(crashMessage(rng))})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(out, key)
		out.Flush()
		if i%3 == 1 {
			if _, err := d.List(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			if err := d.SetFlags(key, "S"); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
	}
}

func TestCrashSafety(t *testing.T) {
	// 200 kills in a plain run; fewer under -short, and under -race,
	// where every child is instrumented and slow to start (the plain run
	// of the same CI covers the full count).
	kills := 200
	switch {
	case testing.Short():
		kills = 20
	case raceEnabled:
		kills = 60
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	d := newDir(t)
	validity, _, err := d.UIDValidity()
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	reported := map[string]bool{}
	verified := map[string]bool{}
	start := time.Now()

	verifyVisible := func() {
		t.Helper()
		for _, sub := range []string{"new", "cur"} {
			ents, err := os.ReadDir(filepath.Join(d.Path(), sub))
			require.NoError(t, err)
			for _, e := range ents {
				n, err := ParseName(e.Name())
				require.NoError(t, err)
				if verified[n.Key] {
					continue
				}
				b, err := os.ReadFile(filepath.Join(d.Path(), sub, e.Name()))
				require.NoError(t, err)
				require.NoError(t, checkMessage(b), "partial message visible: %s/%s", sub, e.Name())
				require.Equal(t, n.Size, int64(len(b)), "S= of %s", e.Name())
				verified[n.Key] = true
			}
		}
	}

	for i := 0; i < kills; i++ {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), crashEnv+"="+d.Path())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		// Let it complete 0-2 deliveries, then kill it somewhere inside the
		// next one (or in List/SetFlags) after a random short delay.
		for n := rng.IntN(3); n > 0 && lines.Scan(); n-- {
			reported[lines.Text()] = true
		}
		if us := rng.IntN(1500); us > 0 {
			time.Sleep(time.Duration(us) * time.Microsecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		// Keys printed before the kill are promises too.
		for lines.Scan() {
			reported[lines.Text()] = true
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "child: %s", stderr.String())
		require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "child died on its own: %s", stderr.String())
		verifyVisible()
	}

	for key := range reported {
		require.True(t, verified[key], "reported delivery %s is missing", key)
	}
	list, err := d.List()
	require.NoError(t, err)
	assert.Len(t, list, len(verified))
	v2, _, err := d.UIDValidity()
	require.NoError(t, err)
	assert.Equal(t, validity, v2, "UID list must never be corrupted or lost")

	// What is left in tmp is abandoned; the sweep removes it once old.
	tmp := filepath.Join(d.Path(), "tmp")
	ents, err := os.ReadDir(tmp)
	require.NoError(t, err)
	past := time.Now().Add(-DefaultTmpAge - time.Minute)
	for _, e := range ents {
		require.NoError(t, os.Chtimes(filepath.Join(tmp, e.Name()), past, past))
	}
	n, err := d.CleanTmp(0)
	require.NoError(t, err)
	assert.Equal(t, len(ents), n)
	ents, err = os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, ents)
	t.Logf("%d kills, %d deliveries reported, %d messages intact, %d tmp files swept, %v",
		kills, len(reported), len(verified), n, time.Since(start).Round(time.Millisecond))
}
