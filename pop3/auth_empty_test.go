package pop3

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/sasltest"
)

type emptyIRBackend struct {
	*memBackend
	mu   sync.Mutex
	last *sasltest.EmptyServer
}

func (b *emptyIRBackend) NewSession(c *Conn) (Session, error) {
	s, _ := b.memBackend.NewSession(c)
	return &emptyIRSession{Session: s, b: b}, nil
}

type emptyIRSession struct {
	Session
	b *emptyIRBackend
}

func (s *emptyIRSession) SASLMechanisms() []string { return []string{sasltest.Mechanism} }

func (s *emptyIRSession) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	return s.b.newSASLServer(mech)
}

func (b *emptyIRBackend) newSASLServer(mech string) (auth.Server, error) {
	if mech != sasltest.Mechanism {
		return nil, auth.ErrNoMechanism
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = &sasltest.EmptyServer{ID: "bob"}
	return b.last, nil
}

func (b *emptyIRBackend) got() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last.Responses()
}

// TestAuthEmptyInitialResponse: "=" is an initial response of zero length,
// unlike no initial response at all (RFC 5034 §4), both ways.
func TestAuthEmptyInitialResponse(t *testing.T) {
	mb := newMemBackend()
	mb.addUser("bob", "hunter2")
	b := &emptyIRBackend{memBackend: mb}
	addr := startServer(t, &Server{Backend: b, AllowInsecureAuth: true, Hostname: "pop.test"})

	w, _ := dialWire(t, addr)
	assert.True(t, strings.HasPrefix(w.cmd("AUTH X-EMPTY ="), "+OK"))
	got := b.got()
	require.Len(t, got, 1)
	assert.NotNil(t, got[0], "an empty initial response, not a missing one")
	assert.Empty(t, got[0])
	quit := func(w *wire) {
		t.Helper()
		assert.True(t, strings.HasPrefix(w.cmd("QUIT"), "+OK"))
		require.True(t, w.closed())
		require.Eventually(t, func() bool { return !mb.isLocked("bob") }, 10*time.Second, time.Millisecond)
	}
	quit(w)

	w, _ = dialWire(t, addr)
	assert.Equal(t, "+ ", w.cmd("AUTH X-EMPTY"), "an empty challenge")
	assert.True(t, strings.HasPrefix(w.cmd(""), "+OK"))
	got = b.got()
	require.Len(t, got, 2)
	assert.Nil(t, got[0], "no initial response")
	assert.Equal(t, []byte{}, got[1])
	quit(w)

	ctx := context.Background()
	c, err := Dial(ctx, addr)
	require.NoError(t, err)
	c.AllowInsecureAuth = true // a loopback test server without TLS
	defer c.Close()
	require.NoError(t, c.Auth(ctx, sasltest.EmptyClient{}))
	got = b.got()
	require.Len(t, got, 1)
	assert.Equal(t, []byte{}, got[0])
	n, _, err := c.Stat(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "logged in as bob")
}
