package smtp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerHostile runs hostile sessions; each must get its proper replies,
// and the recording backend proves no message was split, merged or
// half-delivered.
func TestServerHostile(t *testing.T) {
	type step struct {
		send  string
		codes []int
	}
	for _, tc := range []struct {
		name   string
		mod    func(*Server)
		steps  []step
		closed bool     // the server closes the connection at the end
		stored []string // message bodies stored, in order
	}{
		{name: "commands before EHLO", steps: []step{
			{"MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n", []int{503, 503, 503, 500, 500}},
		}},
		{name: "AUTH before EHLO and STARTTLS", mod: func(s *Server) { s.TLSConfig = mustPair(t).Server }, steps: []step{
			{"AUTH PLAIN AGEAYg==\r\nEHLO x\r\nAUTH PLAIN AGEAYg==\r\n", []int{503, 250, 538}},
		}},
		{name: "DATA larger than SIZE, pipelined", mod: func(s *Server) { s.Limits.MaxMessageBytes = 50 }, steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\n" + strings.Repeat("y", 100) + "\r\n.\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nsmall\r\n.\r\n",
				[]int{250, 250, 250, 354, 552, 250, 250, 354, 250}},
		}, stored: []string{"small\r\n"}},
		{name: "client closes mid-data", steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nhalf a message\r\n", []int{250, 250, 250, 354}},
		}},
		{name: "client closes mid-BDAT", steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 100 LAST\r\nhalf", []int{250, 250, 250}},
		}},
		{name: "BDAT LAST then stray BDAT", steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 2 LAST\r\nokBDAT 3 LAST\r\nabcNOOP\r\n", []int{250, 250, 250, 250, 503, 250}},
		}, stored: []string{"ok"}},
		{name: "huge BDAT size refused but consumed", mod: func(s *Server) { s.Limits.MaxMessageBytes = 10 }, steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 20 LAST\r\n01234567890123456789NOOP\r\n", []int{250, 250, 250, 552, 250}},
		}},
		{name: "BDAT size that wraps int64", steps: []step{
			// 2e19 wraps to a smaller positive int64 when parsed naively.
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nBDAT 20000000000000000000 LAST\r\nxx", []int{250, 250, 250, 501}},
		}, closed: true},
		{name: "SIZE beyond int64 and signed SIZE", steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test> SIZE=99999999999999999999\r\nMAIL FROM:<a@a.test> SIZE=+5\r\nMAIL FROM:<a@a.test> SIZE=123456789012345678901\r\n", []int{250, 552, 501, 501}},
		}},
		{name: "control characters in the EHLO name", steps: []step{
			{"EHLO a\tb\r\nEHLO a\x1b[2Jb\r\nHELO a\x7f\r\nMAIL FROM:<a@a.test>\r\nEHLO ok\r\n", []int{501, 501, 501, 503, 250}},
		}},
		{name: "LMTP: a failed chunk before LAST gets one reply", mod: func(s *Server) { s.LMTP = true; s.Limits.MaxMessageBytes = 5 }, steps: []step{
			{"LHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nBDAT 10\r\n0123456789BDAT 1 LAST\r\nxNOOP\r\n",
				[]int{250, 250, 250, 250, 552, 503, 250}},
		}},
		{name: "LMTP: a failed LAST chunk gets a reply per recipient", mod: func(s *Server) { s.LMTP = true; s.Limits.MaxMessageBytes = 5 }, steps: []step{
			{"LHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nRCPT TO:<c@b.test>\r\nBDAT 2\r\n01BDAT 8 LAST\r\n23456789NOOP\r\n",
				[]int{250, 250, 250, 250, 250, 552, 552, 250}},
		}},
		{name: "garbage bytes", mod: func(s *Server) { s.Limits.MaxErrors = 3 }, steps: []step{
			{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\x00\x00\x00\r\n\xff\xff\r\n", []int{500, 500, 500, 421}},
		}, closed: true},
		{name: "HTTP request", mod: func(s *Server) { s.Limits.MaxErrors = 2 }, steps: []step{
			{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", []int{500, 500, 421}},
		}, closed: true},
		{name: "STARTTLS then no handshake", mod: func(s *Server) { s.TLSConfig = mustPair(t).Server }, steps: []step{
			{"EHLO x\r\nSTARTTLS\r\n", []int{250, 220}},
			{"MAIL FROM:<a@a.test>\r\n\r\n", nil},
		}, closed: true},
		{name: "data dot only after bare LF", steps: []step{
			{"EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nline\n.\nQUIT\n.\r\n", []int{250, 250, 250, 354}},
			// Still inside the message: the "." above did not end it.
			{".\r\nNOOP\r\n", []int{554, 250}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rec, addr := newTestServer(t, tc.mod)
			c := rawDial(t, addr)
			c.expect(220)
			for _, st := range tc.steps {
				c.send(st.send)
				for _, code := range st.codes {
					c.expect(code)
				}
			}
			if tc.closed {
				assert.True(t, c.closed())
			}
			c.nc.Close()
			require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.logouts == 1 }, 10*time.Second, time.Millisecond)
			var got []string
			for _, m := range rec.messages() {
				got = append(got, m.Data)
			}
			assert.Equal(t, tc.stored, got)
		})
	}
}

// TestServerManyRecipients sends 10,000 pipelined RCPT commands: the
// recipients past the limit are refused with 452 and memory stays bounded.
func TestServerManyRecipients(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	_, rec, addr := newTestServer(t, nil)
	c := rawGreet(t, addr)
	c.cmd("MAIL FROM:<a@a.test>", 250)
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "RCPT TO:<user%d@b.test>\r\n", i)
	}
	b.WriteString("DATA\r\n")
	growth := heapGrowth(t, func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.send(b.String())
		}()
		for i := 0; i < n; i++ {
			r := c.read()
			if i < DefaultMaxRecipients {
				require.Equal(t, 250, r.Code)
			} else {
				require.Equal(t, 452, r.Code)
			}
		}
		c.expect(354)
		<-done
	})
	c.send("x\r\n.\r\n")
	c.expect(250)
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Len(t, msgs[0].Rcpts, DefaultMaxRecipients)
	assert.Less(t, growth, int64(1<<20))
}

// TestServerIdleConnections holds many idle connections while a real client
// is served, and checks MaxConnections refuses the one too many with 421.
func TestServerIdleConnections(t *testing.T) {
	n := 1000
	if testing.Short() || raceEnabled {
		n = 200
	}
	_, rec, addr := newTestServer(t, func(s *Server) { s.Limits.MaxConnections = n + 1; s.Limits.MaxConnectionsPerClient = -1 })
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			line, err := bufio.NewReader(nc).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "220 ") {
				errs <- fmt.Errorf("greeting %q: %v", line, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// The real client, connection n+1, is served.
	c := rawGreet(t, addr)
	c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nreal\r\n.\r\n")
	for _, code := range []int{250, 250, 354, 250} {
		c.expect(code)
	}
	// One more is over the limit.
	over := rawDial(t, addr)
	r := over.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)
	assert.True(t, over.closed())
	c.cmd("QUIT", 221)
	require.Len(t, rec.messages(), 1)
}
