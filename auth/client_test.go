package auth

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChooseMechanism(t *testing.T) {
	conn := handshake(t, tls.VersionTLS13, false)
	all := []string{"plain", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}
	tests := []struct {
		offered []string
		cs      *tls.ConnectionState
		want    string
	}{
		{all, conn.client, "SCRAM-SHA-256-PLUS"},
		{all, nil, "SCRAM-SHA-256"},
		{[]string{"PLAIN", "LOGIN", "CRAM-MD5"}, nil, "CRAM-MD5"},
		{[]string{"PLAIN", "LOGIN", "CRAM-MD5"}, conn.client, "PLAIN"},
		{[]string{"LOGIN"}, conn.client, "LOGIN"},
		{[]string{"PLAIN", "LOGIN"}, nil, ""},
		{[]string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}, nil, "SCRAM-SHA-1"},
		{[]string{"GSSAPI", "XOAUTH2"}, conn.client, ""},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ChooseMechanism(tt.offered, tt.cs), "%v", tt.offered)
	}
}

func TestNewClient(t *testing.T) {
	st := testStore(t)
	conn := handshake(t, tls.VersionTLS13, false)
	for _, mech := range Mechanisms(st, conn.server) {
		if ChooseMechanism([]string{mech}, conn.client) == "" {
			continue // not a password mechanism
		}
		// A plain SCRAM client given the connection state would send the
		// "y" flag, which this server, offering -PLUS, takes for a downgrade.
		ccs := conn.client
		if _, plus, _ := parseSCRAMMech(mech); !plus && strings.HasPrefix(mech, "SCRAM") {
			ccs = nil
		}
		c, err := NewClient(mech, "user", "pencil", ccs)
		require.NoError(t, err, mech)
		s, err := NewServer(mech, st, conn.server)
		require.NoError(t, err)
		require.NoError(t, run(c, s), mech)
		assert.Equal(t, "user", s.Identity(), mech)
		got, _, _ := c.Start()
		assert.Equal(t, mech, got)
	}
	_, err := NewClient("GSSAPI", "u", "p", nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
}
