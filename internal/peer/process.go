package peer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process is a program started by Start or StartServer that runs in the
// background until the test ends.
type Process struct {
	Cmd *exec.Cmd

	stdout, stderr syncBuffer
	exited         chan struct{}
	err            error
}

// Start starts cmd in the background. Its standard output and error are
// collected (see Stdout and Stderr) unless the caller set them. A cleanup
// kills the process if it still runs, waits for it, and logs its output
// when the test failed.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &p.stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s (%v) stdout:\n%s\nstderr (last 8 KiB):\n%s", filepath.Base(cmd.Path), p.err, p.Stdout(), tail(p.Stderr(), 8<<10))
		}
	})
	return p
}

// Stdout returns what the process wrote to its standard output so far,
// when Start collects it.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process wrote to its standard error so far, when
// Start collects it.
func (p *Process) Stderr() string { return p.stderr.String() }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns the error of exec.Cmd.Wait once Exited is closed.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// Kill kills the process unless it already exited, and waits for it.
func (p *Process) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.Cmd.Process.Kill()
	<-p.exited
}

// Wait waits up to timeout for the process to exit and returns the error of
// exec.Cmd.Wait; it fails the test when the process is still running then.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s still runs after %v", filepath.Base(p.Cmd.Path), timeout)
		return nil
	}
}

// ServerOptions configures StartServer.
type ServerOptions struct {
	// Ports is how many ports the program listens on; zero means one.
	Ports int

	// UDP means that the program binds each port for UDP as well as for
	// TCP (a DNS server), and that it is ready only when both are bound.
	UDP bool

	// Timeout bounds the wait for the program to listen, for each attempt;
	// zero means 30 s.
	Timeout time.Duration
}

// serverAttempts bounds the starts of one server in StartServer.
const serverAttempts = 5

// StartServer starts a server program on ports of 127.0.0.1 that were free a
// moment ago: command returns the program to run for the ports, and is
// called again for each attempt. StartServer waits until the process itself
// listens on every port and returns it with the ports.
//
// Another process can take a port between FreePort and the program's bind:
// tests of other packages run at the same time and listen on ports of their
// own. When the program exits before it listens, saying that an address is
// already in use, StartServer starts it again on new ports (up to 5 times)
// instead of failing the test. Where /proc tells which process owns a
// listening socket (Linux), a port that accepts connections counts only
// when the socket is the program's, so a clash with another listener is
// recognized rather than taken for readiness. The program must therefore
// stay in the foreground and hold its listening sockets itself (dovecot -F,
// dnsmasq -k), not hand them to a daemonized child.
func StartServer(t testing.TB, opts ServerOptions, command func(ports []int) *exec.Cmd) (*Process, []int) {
	t.Helper()
	p, ports, err := startServer(t, opts, command)
	if err != nil {
		t.Fatal(err)
	}
	return p, ports
}

// startServer is StartServer returning the error that makes it give up.
func startServer(t testing.TB, opts ServerOptions, command func(ports []int) *exec.Cmd) (*Process, []int, error) {
	t.Helper()
	n := max(opts.Ports, 1)
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	for attempt := 1; ; attempt++ {
		ports := make([]int, n)
		for i := range ports {
			ports[i] = FreePort(t)
		}
		cmd := command(ports)
		p := Start(t, cmd)
		err := p.waitServing(ports, opts.UDP, timeout)
		if err == nil {
			return p, ports, nil
		}
		p.Kill()
		if errors.Is(err, errExited) && AddrInUse(p.Stdout()+p.Stderr()) && attempt < serverAttempts {
			t.Logf("%s: a port was taken before it could bind (attempt %d of %d); trying new ports", filepath.Base(cmd.Path), attempt, serverAttempts)
			continue
		}
		return nil, nil, fmt.Errorf("%s on ports %v: %w\nstdout:\n%s\nstderr:\n%s", filepath.Base(cmd.Path), ports, err, p.Stdout(), tail(p.Stderr(), 8<<10))
	}
}

var errExited = errors.New("exited before listening")

// waitServing polls until the process listens on every port, it exits, or
// the timeout passes.
func (p *Process) waitServing(ports []int, udp bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		// Exit first: a dying server's ports may still accept for a moment.
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %v", errExited, p.err)
		default:
		}
		ok, err := ownsPorts(p.Cmd.Process.Pid, ports, udp)
		if err != nil {
			// No /proc: a port that accepts connections has to do.
			ok = dialAll(ports)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on all ports after %v", timeout)
		}
		time.Sleep(20 * time.Millisecond) // a subprocess gives no other sign
	}
}

func dialAll(ports []int) bool {
	for _, port := range ports {
		c, err := net.DialTimeout("tcp", Addr(port), time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// AddrInUse reports whether a program's output says that it could not bind
// an address because it is in use (EADDRINUSE), as Dovecot, dnsmasq, Postfix,
// Python and Go programs word it.
func AddrInUse(output string) bool {
	return strings.Contains(strings.ToLower(output), "address already in use")
}

// ownsPorts reports whether process pid has a listening TCP socket on each of
// ports (and, with udp, a bound UDP socket too), from /proc.
func ownsPorts(pid int, ports []int, udp bool) (bool, error) {
	tcp, err := procSockets(0x0A, "/proc/net/tcp", "/proc/net/tcp6") // TCP_LISTEN
	if err != nil {
		return false, err
	}
	var udps map[int][]string
	if udp {
		if udps, err = procSockets(0x07, "/proc/net/udp", "/proc/net/udp6"); err != nil { // TCP_CLOSE: unconnected
			return false, err
		}
	}
	fdDir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false, nil // exited, or a moment of exec
	}
	own := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			own[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	has := func(m map[int][]string, port int) bool {
		for _, inode := range m[port] {
			if own[inode] {
				return true
			}
		}
		return false
	}
	for _, port := range ports {
		if !has(tcp, port) || udp && !has(udps, port) {
			return false, nil
		}
	}
	return true, nil
}

// procSockets maps local ports to the inodes of the sockets in state st,
// from /proc/net tables such as /proc/net/tcp.
func procSockets(st int, files ...string) (map[int][]string, error) {
	m := map[int][]string{}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			continue // no IPv6
		}
		lines := strings.Split(string(b), "\n")
		for _, line := range lines[1:] {
			fields := strings.Fields(line)
			if len(fields) < 10 {
				continue
			}
			// local_address is ADDR:PORT in hex; st is the state in hex.
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			port, err1 := strconv.ParseUint(hexPort, 16, 16)
			state, err2 := strconv.ParseUint(fields[3], 16, 8)
			if err1 != nil || err2 != nil || int(state) != st {
				continue
			}
			m[int(port)] = append(m[int(port)], fields[9])
		}
	}
	return m, nil
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the test's
// reads at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
