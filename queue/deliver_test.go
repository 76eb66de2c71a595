package queue

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/smtp"
	"github.com/mailwire/mailwire/smtp/smtptest"
)

// routes maps the addresses the Deliverer dials (MX addresses at port 25)
// to test servers; an address not in it refuses the connection.
func routes(m map[string]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := m[addr]
		if !ok {
			return nil, errors.New("connection refused (test)")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
}

func opener(body string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
}

const testMsg = "From: a@a.test\r\nTo: b@b.test\r\nSubject: hi\r\n\r\nhello\r\n"

func newDeliverer(t *testing.T, zone dnsmxtest.Zone, r map[string]string) *Deliverer {
	dns := dnsmxtest.NewServer(t, zone)
	d := &Deliverer{
		LocalName:   "queue.a.test",
		Locator:     &dnsmx.Locator{Resolver: dns.Resolver(), Rand: func(int) int { return 0 }},
		DialContext: routes(r),
		Timeouts:    Timeouts{Connect: 2 * time.Second, Greeting: 2 * time.Second, Command: 2 * time.Second},
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestDeliverMXOrderAndFallback(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	d := newDeliverer(t, dnsmxtest.Zone{
		"b.test":     {dnsmxtest.MX(10, "mx1.b.test"), dnsmxtest.MX(20, "mx2.b.test")},
		"mx1.b.test": {dnsmxtest.A("127.0.0.2")}, // refuses connections
		"mx2.b.test": {dnsmxtest.A("127.0.0.3")},
		"c.test":     {dnsmxtest.A("127.0.0.3")}, // implicit MX
	}, map[string]string{"127.0.0.3:25": srv.Addr})
	env := testEnvelope("bob@b.test", "carol@c.test")
	env.Size = int64(len(testMsg))
	out := d.Deliver(context.Background(), env, []int{0, 1}, opener(testMsg))
	require.Len(t, out, 2)
	for _, o := range out {
		assert.Equal(t, Success, o.Kind, "%+v", o)
	}
	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	assert.True(t, msgs[0].TLS, "opportunistic STARTTLS")
	assert.Equal(t, "queue.a.test", msgs[0].Hello)
	assert.Equal(t, 1, srv.Connections(), "connection reused for the second domain")
}

func TestDeliverNullMXAndDNS(t *testing.T) {
	d := newDeliverer(t, dnsmxtest.Zone{
		"null.test":   {dnsmxtest.MX(0, ".")},
		"broken.test": {dnsmxtest.ServFail()},
	}, nil)
	env := testEnvelope("a@null.test", "b@broken.test", "c@nonexistent.test")
	out := d.Deliver(context.Background(), env, []int{0, 1, 2}, opener(testMsg))
	require.Len(t, out, 3)
	assert.Equal(t, Outcome{Index: 0, Kind: Permanent, Status: "5.1.10", Diagnostic: "domain null.test accepts no mail (null MX)"}, out[0])
	assert.Equal(t, Temporary, out[1].Kind)
	assert.Equal(t, "4.4.3", out[1].Status)
	assert.Equal(t, Permanent, out[2].Kind)
	assert.Equal(t, "5.1.2", out[2].Status)
}

func TestDeliverRcptOutcomes(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithRcptHook(func(to string) error {
		switch {
		case strings.HasPrefix(to, "gone"):
			return &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{Class: 5, Subject: 1, Detail: 1}, Message: "no such user"}
		case strings.HasPrefix(to, "full"):
			return &smtp.Error{Code: 452, EnhancedCode: smtp.EnhancedCode{Class: 4, Subject: 2, Detail: 2}, Message: "mailbox full"}
		}
		return nil
	}))
	d := newDeliverer(t, dnsmxtest.Zone{"b.test": {dnsmxtest.A("127.0.0.3")}}, map[string]string{"127.0.0.3:25": srv.Addr})
	env := testEnvelope("ok@b.test", "gone@b.test", "full@b.test")
	out := d.Deliver(context.Background(), env, []int{0, 1, 2}, opener(testMsg))
	require.Len(t, out, 3)
	assert.Equal(t, Success, out[0].Kind)
	assert.Equal(t, Permanent, out[1].Kind)
	assert.Equal(t, "5.1.1", out[1].Status)
	assert.Equal(t, "smtp; 550 5.1.1 no such user", out[1].Diagnostic)
	assert.Equal(t, Temporary, out[2].Kind)
	assert.Equal(t, "4.2.2", out[2].Status)
	assert.Equal(t, "b.test", out[1].RemoteMTA)
}

func TestDeliverLoopAndSize(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithConfig(func(s *smtp.Server) { s.Limits.MaxMessageBytes = 100 }))
	d := newDeliverer(t, dnsmxtest.Zone{"b.test": {dnsmxtest.A("127.0.0.3")}}, map[string]string{"127.0.0.3:25": srv.Addr})
	loop := strings.Repeat("Received: from x by y; Thu, 1 Jan 2030 00:00:00 +0000\r\n", 101) + "\r\nbody\r\n"
	out := d.Deliver(context.Background(), testEnvelope("b@b.test"), []int{0}, opener(loop))
	assert.Equal(t, Permanent, out[0].Kind)
	assert.Equal(t, "5.4.6", out[0].Status)

	env := testEnvelope("b@b.test")
	env.Size = 1000
	out = d.Deliver(context.Background(), env, []int{0}, opener(testMsg))
	assert.Equal(t, Permanent, out[0].Kind)
	assert.Equal(t, "5.3.4", out[0].Status)
	assert.Empty(t, srv.Messages(), "nothing sent over the next hop's SIZE")
}

func TestDeliverSMTPUTF8(t *testing.T) {
	srv := newFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		serveScript(c, br, []string{"8BITMIME"}, func(string) (string, bool) { return "", true })
	})
	d := newDeliverer(t, dnsmxtest.Zone{"b.test": {dnsmxtest.A("127.0.0.3")}}, map[string]string{"127.0.0.3:25": srv.Addr})
	env := &Envelope{From: smtp.Mailbox{Local: "jöran", Domain: "a.test"}, Recipients: []Recipient{{Addr: smtp.MustParseMailbox("b@b.test")}}, UTF8: true}
	out := d.Deliver(context.Background(), env, []int{0}, opener(testMsg))
	assert.Equal(t, Permanent, out[0].Kind)
	assert.Equal(t, "5.6.7", out[0].Status)
}

func TestDeliverSmarthost(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("u", "p"))
	d := &Deliverer{Smarthost: srv.Addr, Username: "u", Password: "p", TLSConfig: srv.ClientTLSConfig()}
	defer d.Close()
	out := d.Deliver(context.Background(), testEnvelope("x@anywhere.test"), []int{0}, opener(testMsg))
	require.Equal(t, Success, out[0].Kind, "%+v", out[0])
	m := srv.Messages()[0]
	assert.True(t, m.TLS)
	assert.Equal(t, "u", m.Identity)

	d2 := &Deliverer{Smarthost: srv.Addr, Username: "u", Password: "wrong", TLSConfig: srv.ClientTLSConfig()}
	defer d2.Close()
	out = d2.Deliver(context.Background(), testEnvelope("x@anywhere.test"), []int{0}, opener(testMsg))
	assert.Equal(t, Permanent, out[0].Kind, "%+v", out[0])
}
