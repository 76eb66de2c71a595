// Package peer finds and starts the third-party programs that interoperability
// tests talk to. A missing program skips the test with a clear message, unless
// MAILWIRE_REQUIRE_PEERS=1 is set (CI sets it), when it fails the test.
package peer

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// FreePort returns a port of 127.0.0.1 that was free for TCP and UDP a moment
// ago, and that the test binary was not given before.
//
// Where the kernel tells its range of ephemeral ports (Linux), the port is
// picked at random below that range. Listeners on port 0 and the outgoing
// connections of tests running at the same time get their ports from the
// range, so they cannot take this one between FreePort and the peer's bind;
// only another test's FreePort could, which is rarer still. StartServer
// copes with that too.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	if len(portsGiven) > 10000 {
		clear(portsGiven)
	}
	if lo, ok := ephemeralLow(); ok && lo-portFloor >= 1000 {
		for range 100 {
			port := portFloor + rand.IntN(lo-portFloor)
			if !portsGiven[port] && bindable(port) {
				portsGiven[port] = true
				return port
			}
		}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven[port] && bindable(port) {
			portsGiven[port] = true
			return port
		}
	}
	t.Fatal("FreePort: no free port found")
	return 0
}

// portFloor is the lowest port FreePort picks itself, above the ports of
// common services.
const portFloor = 10000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() (int, bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	lo, err := strconv.Atoi(f[0])
	return lo, err == nil
}

// bindable reports whether port can be bound on 127.0.0.1 for TCP and UDP.
func bindable(port int) bool {
	l, err := net.Listen("tcp", Addr(port))
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", Addr(port))
	if err != nil {
		return false
	}
	u.Close()
	return true
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
