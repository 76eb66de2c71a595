package queue

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/smtp/smtptest"
)

// Each hostile next hop ends in a bounded temporary failure (or the next
// host), never a stuck worker: the Timeouts are short and the test has a
// deadline of its own.
func TestDeliverHostileNextHops(t *testing.T) {
	short := Timeouts{Connect: 300 * time.Millisecond, Greeting: 300 * time.Millisecond, Command: 300 * time.Millisecond}
	cases := map[string]func(c net.Conn, br *bufio.Reader){
		"greeting never ends": func(c net.Conn, br *bufio.Reader) {
			c.Write([]byte("220 never"))
			io.Copy(io.Discard, br)
		},
		"huge reply": func(c net.Conn, br *bufio.Reader) {
			c.Write([]byte("220-" + strings.Repeat("x", 1<<20)))
			io.Copy(io.Discard, br)
		},
		"endless multiline reply": func(c net.Conn, br *bufio.Reader) {
			for range 5000 {
				if _, err := c.Write([]byte("220-more\r\n")); err != nil {
					return
				}
			}
		},
		"stalls after DATA": func(c net.Conn, br *bufio.Reader) {
			serveScript(c, br, nil, func(cmd string) (string, bool) {
				if cmd == "." {
					io.Copy(io.Discard, br)
					return "", false
				}
				return "", true
			})
		},
		"421 mid-transaction": func(c net.Conn, br *bufio.Reader) {
			serveScript(c, br, nil, func(cmd string) (string, bool) {
				if strings.HasPrefix(cmd, "RCPT") {
					return "421 4.3.2 shutting down", true
				}
				return "", true
			})
		},
		"closes after RCPT": func(c net.Conn, br *bufio.Reader) {
			serveScript(c, br, nil, func(cmd string) (string, bool) {
				return "", !strings.HasPrefix(cmd, "RCPT")
			})
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			bad := newFakeServer(t, h)
			d := newDeliverer(t, dnsmxtest.Zone{
				"b.test":     {dnsmxtest.MX(10, "mx1.b.test")},
				"mx1.b.test": {dnsmxtest.A("127.0.0.2")},
			}, map[string]string{"127.0.0.2:25": bad.Addr})
			d.Timeouts = short
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out := d.Deliver(ctx, testEnvelope("b@b.test"), []int{0}, opener(testMsg))
			require.Len(t, out, 1)
			assert.Equal(t, Temporary, out[0].Kind, "%+v", out[0])
			require.NoError(t, ctx.Err(), "bounded by the Timeouts")
		})
	}
}

// A hostile first exchanger does not keep the message from the second.
func TestDeliverHostileThenNextHost(t *testing.T) {
	bad := newFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		serveScript(c, br, nil, func(cmd string) (string, bool) {
			if strings.HasPrefix(cmd, "MAIL") {
				return "451 4.3.0 try later", true
			}
			return "", true
		})
	})
	good := smtptest.NewServer(t)
	d := newDeliverer(t, dnsmxtest.Zone{
		"b.test":     {dnsmxtest.MX(10, "mx1.b.test"), dnsmxtest.MX(20, "mx2.b.test")},
		"mx1.b.test": {dnsmxtest.A("127.0.0.2")},
		"mx2.b.test": {dnsmxtest.A("127.0.0.3")},
	}, map[string]string{"127.0.0.2:25": bad.Addr, "127.0.0.3:25": good.Addr})
	out := d.Deliver(context.Background(), testEnvelope("b@b.test"), []int{0}, opener(testMsg))
	assert.Equal(t, Success, out[0].Kind, "%+v", out[0])
	assert.Len(t, good.Messages(), 1)
}
