package peer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary a small server: "tcp:PORT udp:PORT ..."
// binds each, then it waits to be killed; a failing bind ends it with the
// error on stderr, as a real peer's would, and so does "exit:MESSAGE".
const helperEnv = "MAILWIRE_PEER_TEST_SERVE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		serveHelper(spec)
	}
	os.Exit(m.Run())
}

func serveHelper(spec string) {
	var keep []any
	for _, s := range strings.Fields(spec) {
		network, port, _ := strings.Cut(s, ":")
		if network == "exit" {
			fmt.Fprintln(os.Stderr, port)
			os.Exit(1)
		}
		var err error
		var l any
		if network == "udp" {
			l, err = net.ListenPacket("udp", Addr(atoi(port)))
		} else {
			l, err = net.Listen("tcp", Addr(atoi(port)))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		keep = append(keep, l)
	}
	fmt.Println("serving", len(keep))
	select {}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func helper(spec string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+spec)
	return cmd
}

// taken returns a port that this process listens on, accepting connections,
// until the test ends: a clash that dialing alone would take for a peer
// that is ready.
func taken(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestStartServer(t *testing.T) {
	p, ports := StartServer(t, ServerOptions{Ports: 3}, func(ports []int) *exec.Cmd {
		return helper(fmt.Sprintf("tcp:%d tcp:%d tcp:%d", ports[0], ports[1], ports[2]))
	})
	require.Len(t, ports, 3)
	for _, port := range ports {
		c, err := net.DialTimeout("tcp", Addr(port), 10*time.Second)
		require.NoError(t, err)
		c.Close()
	}
	owns, err := ownsPorts(p.Cmd.Process.Pid, ports, false)
	if err == nil {
		assert.True(t, owns)
	}
	assert.Contains(t, p.Stdout(), "serving 3")
	p.Kill()
	assert.Error(t, p.Err(), "killed")
}

func TestStartServerUDP(t *testing.T) {
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip("no /proc/net/udp")
	}
	// With UDP, the TCP port alone is not enough.
	port := FreePort(t)
	p := Start(t, helper(fmt.Sprintf("tcp:%d", port)))
	require.NoError(t, p.waitServing([]int{port}, false, 30*time.Second))
	owns, err := ownsPorts(p.Cmd.Process.Pid, []int{port}, true)
	require.NoError(t, err)
	assert.False(t, owns, "no UDP socket")

	p3, ports := StartServer(t, ServerOptions{UDP: true}, func(ports []int) *exec.Cmd {
		return helper(fmt.Sprintf("udp:%d tcp:%d", ports[0], ports[0]))
	})
	owns, err = ownsPorts(p3.Cmd.Process.Pid, ports, true)
	require.NoError(t, err)
	assert.True(t, owns)
}

// A port taken between FreePort and the peer's bind, by a listener that
// accepts connections, makes StartServer try new ports.
func TestStartServerPortTaken(t *testing.T) {
	busy := taken(t)
	attempts := 0
	p, ports := StartServer(t, ServerOptions{Ports: 2}, func(ports []int) *exec.Cmd {
		attempts++
		if attempts == 1 {
			ports[1] = busy
		}
		return helper(fmt.Sprintf("tcp:%d tcp:%d", ports[0], ports[1]))
	})
	assert.Equal(t, 2, attempts)
	assert.NotContains(t, ports, busy)
	select {
	case <-p.Exited():
		t.Fatalf("server exited: %v", p.Err())
	default:
	}
}

func TestStartServerGivesUp(t *testing.T) {
	busy := taken(t)
	attempts := 0
	_, _, err := startServer(t, ServerOptions{}, func(ports []int) *exec.Cmd {
		attempts++
		return helper(fmt.Sprintf("tcp:%d", busy))
	})
	require.Error(t, err)
	assert.Equal(t, serverAttempts, attempts)
	assert.Contains(t, err.Error(), "address already in use")
}

// Any other failure is not retried.
func TestStartServerFails(t *testing.T) {
	attempts := 0
	_, _, err := startServer(t, ServerOptions{}, func(ports []int) *exec.Cmd {
		attempts++
		return helper("exit:cannot read the configuration")
	})
	require.Error(t, err)
	assert.Equal(t, 1, attempts)
	assert.ErrorIs(t, err, errExited)

	// Nor is a server that never listens; it is killed after the timeout.
	attempts = 0
	_, _, err = startServer(t, ServerOptions{Timeout: 200 * time.Millisecond}, func(ports []int) *exec.Cmd {
		attempts++
		return helper("udp:0")
	})
	require.Error(t, err)
	assert.Equal(t, 1, attempts)
	assert.Contains(t, err.Error(), "not listening")
}

func TestAddrInUse(t *testing.T) {
	for _, s := range []string{
		"listen tcp 127.0.0.1:4000: bind: address already in use",
		"Error: service(pop3-login): listen(127.0.0.1, 45127) failed: Address already in use",
		"dnsmasq: failed to create listening socket for 127.0.0.1: Address already in use",
		"OSError: [Errno 98] Address already in use",
	} {
		assert.True(t, AddrInUse(s), s)
	}
	assert.False(t, AddrInUse("connection refused"))
}

func TestFreePort(t *testing.T) {
	lo, ok := ephemeralLow()
	seen := map[int]bool{}
	for range 50 {
		port := FreePort(t)
		require.False(t, seen[port], "port %d given twice", port)
		seen[port] = true
		require.True(t, bindable(port))
		if ok && lo-portFloor >= 1000 {
			assert.Less(t, port, lo, "below the ephemeral range")
			assert.GreaterOrEqual(t, port, portFloor)
		}
	}
}

func TestProcessWait(t *testing.T) {
	p := Start(t, exec.Command(os.Args[0], "-test.run=^TestNothing$"))
	assert.NoError(t, p.Wait(t, 30*time.Second))
	assert.Contains(t, p.Stdout(), "PASS")
	assert.Contains(t, p.Stderr(), "no tests to run")
	p.Kill() // no effect after exit
}
