package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/message/mbox"
)

// forceTerminal makes mailctl believe that standard error is a terminal
// (or not) until the test ends.
func forceTerminal(t *testing.T, on bool) {
	old := showProgress
	showProgress = func() bool { return on }
	t.Cleanup(func() { showProgress = old })
}

// pop3 fetch shows progress on a terminal when the messages it fetches
// are large together, whichever the store; a line ends it.
func TestFetchProgress(t *testing.T) {
	forceTerminal(t, true)
	// 2 MiB in all, in two messages, one of them dot-stuffed on the wire.
	big := "Subject: big\r\n\r\n" + strings.Repeat(".dotted line of the message body, 48 bytes long\r\n", 1<<20/50)
	small := "Subject: small\r\n\r\nhello\r\n"
	pad := strings.Repeat("x", 2<<20-len(big)-len(small)-len("\r\n"))
	big += pad + "\r\n"
	require.Equal(t, 2<<20, len(big)+len(small))
	ps := startPOP3(t, big, small)
	t.Setenv("MAILCTL_PASSWORD", "pw")
	common := []string{"-server", ps.addr, "-insecure", "-user", "bob"}

	for _, tc := range []struct {
		name  string
		store func(dir string) []string
		read  func(t *testing.T, dir string) []string
	}{
		{"maildir", func(dir string) []string { return []string{"-maildir", dir} }, func(t *testing.T, dir string) []string {
			var out []string
			for _, m := range readMaildir(t, dir) {
				out = append(out, string(m))
			}
			return out
		}},
		{"dir", func(dir string) []string { return []string{"-dir", dir} }, func(t *testing.T, dir string) []string {
			files, err := os.ReadDir(dir)
			require.NoError(t, err)
			var out []string
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dir, f.Name()))
				require.NoError(t, err)
				out = append(out, string(b))
			}
			return out
		}},
		{"mbox", func(dir string) []string { return []string{"-mbox", filepath.Join(dir, "inbox")} }, func(t *testing.T, dir string) []string {
			f, err := os.Open(filepath.Join(dir, "inbox"))
			require.NoError(t, err)
			defer f.Close()
			var out []string
			r := mbox.NewReader(f)
			for {
				m, err := r.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				var b bytes.Buffer
				_, err = b.ReadFrom(m)
				require.NoError(t, err)
				out = append(out, b.String())
			}
			return out
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			code, out, errOut := runCmd(t, "", append(append([]string{"pop3", "fetch"}, common...), tc.store(dir)...)...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errOut, "\rfetching "), "progress is rewritten in place: %q", head(errOut))
			// The last state, complete, ends the progress line; the summary
			// follows on its own line.
			assert.True(t, strings.HasSuffix(errOut, "\rfetching 2.0 MiB / 2.0 MiB (100%)\nfetched 2 message(s)\n"), "%q", tailOf(errOut))
			for _, line := range strings.Split(strings.TrimPrefix(strings.TrimSuffix(errOut, "\nfetched 2 message(s)\n"), "\r"), "\r") {
				assert.Regexp(t, `^fetching \d+(\.\d)? (B|KiB|MiB) / 2\.0 MiB \(\d+%\)$`, line)
			}
			assert.ElementsMatch(t, []string{big, small}, tc.read(t, dir), "the messages are stored intact")
		})
	}

	t.Run("stdout", func(t *testing.T) {
		// The messages themselves go to standard output: no progress
		// mixed into a terminal showing them.
		code, out, errOut := runCmd(t, "", append([]string{"pop3", "fetch"}, common...)...)
		require.Equal(t, 0, code, errOut)
		assert.Empty(t, errOut)
		assert.Equal(t, big+small, out)
	})
	t.Run("small", func(t *testing.T) {
		code, _, errOut := runCmd(t, "", append([]string{"pop3", "fetch"}, append(common, "-dir", t.TempDir(), "2")...)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, "fetched 1 message(s)\n", errOut, "under 1 MiB, no progress")
	})
	t.Run("no terminal", func(t *testing.T) {
		forceTerminal(t, false)
		code, _, errOut := runCmd(t, "", append([]string{"pop3", "fetch"}, append(common, "-maildir", filepath.Join(t.TempDir(), "m"))...)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, "fetched 2 message(s)\n", errOut, "scripts and logs get no progress")
	})
}

// A fetch that fails in the middle of a message ends the progress line
// before the error, which starts a line of its own.
func TestFetchProgressError(t *testing.T) {
	forceTerminal(t, true)
	// A server that announces 2 MiB and sends half of it.
	addr, served := scriptedPOP3(t, func(c io.Writer, cmd []string) bool {
		switch {
		case cmd[0] == "USER" || cmd[0] == "PASS":
			io.WriteString(c, "+OK\r\n")
		case cmd[0] == "LIST":
			fmt.Fprintf(c, "+OK\r\n1 %d\r\n.\r\n", 2<<20)
		case cmd[0] == "RETR" && len(cmd) == 2 && cmd[1] == "1":
			io.WriteString(c, "+OK\r\nSubject: cut\r\n\r\n"+strings.Repeat("line\r\n", 1<<20/6))
			return true // closes the connection
		default:
			io.WriteString(c, "-ERR unknown command\r\n")
		}
		return false
	})
	code, _, errOut := runCmd(t, "", "pop3", "fetch", "-server", addr, "-starttls=false", "-cleartext-login", "-user", "bob", "-password", "pw", "-dir", t.TempDir())
	require.NoError(t, <-served)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `^\rfetching .*\(\d+%\)\nmailctl: message 1: [^\r]+\n$`, errOut)
}

func readMaildir(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, sub := range []string{"new", "cur"} {
		files, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, sub, f.Name()))
			require.NoError(t, err)
			out = append(out, b)
		}
	}
	return out
}

func head(s string) string { return s[:min(len(s), 200)] }

func tailOf(s string) string { return s[max(0, len(s)-200):] }
