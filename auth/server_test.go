package auth

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type passwordsOnly struct{ st *MemoryStore }

func (p passwordsOnly) CheckPassword(u, pw string) error { return p.st.CheckPassword(u, pw) }

func TestNewServer(t *testing.T) {
	st := testStore(t)
	for _, mech := range []string{"PLAIN", "plain", "LOGIN", "CRAM-MD5"} {
		s, err := NewServer(mech, st, nil)
		require.NoError(t, err, mech)
		require.NotNil(t, s)
	}
	_, err := NewServer("NOPE", st, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
	_, err = NewServer("CRAM-MD5", passwordsOnly{st}, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)

	s, err := NewServer("PLAIN", st, nil)
	require.NoError(t, err)
	require.NoError(t, run(NewPlainClient("", "user", "pencil"), s))
	assert.Equal(t, "user", s.Identity())
}

func TestMechanisms(t *testing.T) {
	st := testStore(t)
	cleartext := Mechanisms(st, nil)
	assert.NotContains(t, cleartext, "PLAIN")
	assert.NotContains(t, cleartext, "LOGIN")
	assert.Contains(t, cleartext, "CRAM-MD5")

	cs := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	assert.Contains(t, Mechanisms(st, cs), "PLAIN")
	assert.Contains(t, Mechanisms(st, cs), "LOGIN")

	assert.Equal(t, []string{"PLAIN", "LOGIN"}, Mechanisms(passwordsOnly{st}, cs))
	assert.Empty(t, Mechanisms(passwordsOnly{st}, nil))
	c := ServerConfig{Credentials: passwordsOnly{st}, AllowCleartext: true}
	assert.Equal(t, []string{"PLAIN", "LOGIN"}, c.Mechanisms(nil))
	c = ServerConfig{Credentials: st, Allowed: []string{"PLAIN"}}
	assert.Equal(t, []string{"PLAIN"}, c.Mechanisms(cs))
	_, err := c.NewServer("LOGIN", cs)
	assert.ErrorIs(t, err, ErrNoMechanism)
}
