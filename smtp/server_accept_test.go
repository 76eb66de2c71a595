package smtp

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/netutil"
)

// emfileListener fails its first Accepts the way a process out of file
// descriptors does.
type emfileListener struct {
	net.Listener
	fails int
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// Running out of file descriptors (a flood of connections) pauses Serve; it
// does not stop it.
func TestServeSurvivesEMFILE(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &Server{Hostname: "mx.test", Backend: &recorder{}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&emfileListener{Listener: l, fails: 3}) }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-done, ErrServerClosed)
	})
	// Serve went on past the failed Accepts: the client is greeted and served.
	c := rawDial(t, l.Addr().String())
	greeting := c.expect(220)
	assert.True(t, strings.HasPrefix(greeting.Lines[0], "mx.test"), greeting.Lines)
	c.cmd("EHLO client.test", 250)
}

// Implicit TLS without a certificate is refused when the server starts, not
// in every handshake.
func TestListenAndServeTLSNeedsCertificate(t *testing.T) {
	srv := &Server{Addr: "127.0.0.1:0", Backend: &recorder{}}
	err := srv.ListenAndServeTLS("", "")
	require.ErrorIs(t, err, netutil.ErrNoCertificate)
}
