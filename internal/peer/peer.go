// Package peer finds and starts the third-party programs that interoperability
// tests talk to. A missing program skips the test with a clear message, unless
// MAILWIRE_REQUIRE_PEERS=1 is set (CI sets it), when it fails the test.
package peer

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/internal/selfsigned"
)

// Required reports whether missing peers fail tests instead of skipping them.
func Required() bool { return os.Getenv("MAILWIRE_REQUIRE_PEERS") == "1" }

// Missing skips t, or fails it when peers are required, saying what is missing.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("peer %s is missing and MAILWIRE_REQUIRE_PEERS=1 (install it as .ci/run does)", what)
	}
	t.Skipf("peer %s is not installed; skipping (set MAILWIRE_REQUIRE_PEERS=1 to make this fail)", what)
}

// Path returns the path of the named program, looking in PATH and in the sbin
// directories where Debian puts daemons, or calls Missing.
func Path(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, name)
	return ""
}

// Python returns the path of a python3 that can import each of the given
// modules, or calls Missing. Debian's python3 in /usr/bin comes first: the
// python3-* packages that .ci/run installs (python3-aiosmtpd) go there, and an
// earlier python3 in PATH (a pyenv shim, say) may not see them.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if canImport(py, modules) {
			return py
		}
	}
	what := "python3"
	if len(modules) > 0 {
		what = "python3 with modules " + strings.Join(modules, ", ")
	}
	Missing(t, what)
	return ""
}

func canImport(py string, modules []string) bool {
	if _, err := os.Stat(py); err != nil {
		return false
	}
	for _, m := range modules {
		if exec.Command(py, "-c", "import "+m).Run() != nil {
			return false
		}
	}
	return true
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr returns "127.0.0.1:port".
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// WaitListening polls until something accepts TCP connections on addr or the
// timeout passes. Peers started as processes give no other sign of readiness.
func WaitListening(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after %v: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Run runs a program with a timeout and returns its combined output; it fails
// the test when the program fails.
func Run(t testing.TB, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := RunErr(timeout, nil, name, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return out
}

// RunErr runs a program with a timeout and optional standard input and returns
// its combined output and error.
func RunErr(timeout time.Duration, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TLS returns a fresh self-signed server and client TLS pair for localhost, and
// writes the certificate to a file in the test's temporary directory for peers
// that want a CA file.
func TLS(t testing.TB) (*selfsigned.Pair, string) {
	t.Helper()
	p, err := selfsigned.NewPair()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, p.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, path
}
