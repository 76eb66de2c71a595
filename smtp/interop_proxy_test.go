package smtp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

// addrSession reports the address each connection's Session sees.
type addrSession struct{ seen chan<- string }

func (addrSession) Mail(context.Context, Mailbox, *MailOptions) error { return nil }
func (addrSession) Rcpt(context.Context, Mailbox, *RcptOptions) error { return nil }
func (addrSession) Data(_ context.Context, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (addrSession) Reset(context.Context) {}
func (addrSession) Close() error          { return nil }

// TestInteropHAProxy puts HAProxy in front of the server, sending the PROXY
// protocol in both versions: the Session sees the client's address (a
// client dialling from 127.0.0.7), not the proxy's.
func TestInteropHAProxy(t *testing.T) {
	t.Parallel()
	haproxy := peer.Path(t, "haproxy")
	for _, version := range []string{"send-proxy", "send-proxy-v2"} {
		t.Run(version, func(t *testing.T) {
			seen := make(chan string, 4)
			srv := &Server{Hostname: "mx.test",
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
				Backend: BackendFunc(func(c *Conn) (Session, error) {
					seen <- c.RemoteAddr().String()
					return addrSession{}, nil
				})}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			go srv.Serve(l)
			t.Cleanup(func() { srv.Close() })

			dir := t.TempDir()
			_, ports := peer.StartServer(t, peer.ServerOptions{}, func(ports []int) *exec.Cmd {
				cfg := fmt.Sprintf(`global
	maxconn 64
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend smtp
	bind 127.0.0.1:%d
	default_backend mx
backend mx
	source 127.0.0.1
	server mx %s %s
`, ports[0], l.Addr(), version)
				file := filepath.Join(dir, "haproxy.cfg")
				require.NoError(t, os.WriteFile(file, []byte(cfg), 0o600))
				return exec.Command(haproxy, "-db", "-f", file)
			})

			// Through the proxy: the client's own address.
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 7)}, Timeout: 10 * time.Second}
			nc, err := d.Dial("tcp", peer.Addr(ports[0]))
			require.NoError(t, err)
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(30 * time.Second))
			c := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
			c.expect(220)
			c.cmd("EHLO client.test", 250)
			c.cmd("QUIT", 221)
			select {
			case addr := <-seen:
				assert.Equal(t, nc.LocalAddr().String(), addr, "the client's address, from the PROXY header")
			case <-time.After(10 * time.Second):
				t.Fatal("no session")
			}

			// From the trusted address without a header: refused, closed.
			raw, err := net.Dial("tcp", l.Addr().String())
			require.NoError(t, err)
			defer raw.Close()
			raw.Write([]byte("EHLO x\r\n"))
			raw.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = raw.Read(make([]byte, 1))
			assert.Error(t, err, "closed without a greeting")
		})
	}
}
