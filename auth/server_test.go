package auth

import (
	"context"
	"crypto/tls"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type passwordsOnly struct{ st *MemoryStore }

func (p passwordsOnly) CheckPassword(ctx context.Context, u, pw string) error {
	return p.st.CheckPassword(ctx, u, pw)
}

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

// RFC 5802 §6: a client that could bind but sees no -PLUS mechanism sends
// the "y" flag; the server may only refuse it when it advertised -PLUS. A
// ServerConfig whose Allowed list leaves -PLUS out must accept "y".
func TestSCRAMFlagYWithoutAdvertisedPlus(t *testing.T) {
	st := testStore(t)
	c13 := handshake(t, tls.VersionTLS13, false)
	for _, tc := range []struct {
		name    string
		cfg     ServerConfig
		wantErr bool
	}{
		{"plus not allowed", ServerConfig{Credentials: st, Allowed: []string{"SCRAM-SHA-256"}}, false},
		{"other plus allowed", ServerConfig{Credentials: st, Allowed: []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"}}, false},
		{"plus offered", ServerConfig{Credentials: st}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantErr, slices.Contains(tc.cfg.Mechanisms(c13.server), "SCRAM-SHA-256-PLUS"))
			s, err := tc.cfg.NewServer("SCRAM-SHA-256", c13.server)
			require.NoError(t, err)
			c, err := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", c13.client)
			require.NoError(t, err)
			err = run(c, s)
			if tc.wantErr {
				var se *SCRAMError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "server-does-support-channel-binding", se.Value)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "user", s.Identity())
		})
	}
}
