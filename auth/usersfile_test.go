package auth

import (
	"context"
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

func TestReadUsers(t *testing.T) {
	f, err := os.Open("testdata/users")
	require.NoError(t, err)
	defer f.Close()
	st := NewMemoryStore()
	require.NoError(t, st.ReadUsers(f))

	require.NoError(t, st.CheckPassword(context.Background(), "alice", "pencil"))
	require.NoError(t, st.CheckPassword(context.Background(), "bob", "pencil"))
	require.NoError(t, st.CheckPassword(context.Background(), "carol", "pass:word"))
	assert.ErrorIs(t, st.CheckPassword(context.Background(), "alice", "pass:word"), ErrAuthFailed)
	for _, u := range []string{"alice", "bob", "carol"} {
		c, _ := NewSCRAMClient("SCRAM-SHA-256", u, map[string]string{"alice": "pencil", "bob": "pencil", "carol": "pass:word"}[u], nil)
		s, _ := NewServer("SCRAM-SHA-256", st, nil)
		require.NoError(t, run(c, s), u)
	}
	// Only the {PLAIN} user has CRAM-MD5.
	require.NoError(t, run(NewCRAMMD5Client("carol", "pass:word"), NewCRAMMD5Server(st)))
	assert.ErrorIs(t, run(NewCRAMMD5Client("alice", "pencil"), NewCRAMMD5Server(st)), ErrAuthFailed)
}

func TestReadUsersErrors(t *testing.T) {
	for _, tt := range []struct {
		in  string
		err error
		msg string
	}{
		{"alice\n", ErrMalformed, "line 1"},
		{"# c\n:$scram-sha-256$x\n", ErrMalformed, "line 2"},
		{"a:{PLAIN}x\nb:$md5$x\n", ErrMalformed, "line 2"},
		{"a:" + strings.Repeat("x", MaxUsersLine) + "\n", ErrTooLong, "line 1"},
		{"a:{CRAM-MD5}abcd\n", ErrMalformed, "line 1"},
		{"a:{CRAM-MD5}" + strings.Repeat("zz", 32) + "\n", ErrMalformed, "line 1"},
		{"a:{SCRAM-SHA-1}4096,c2FsdA==,AAAA,AAAA\n", ErrMalformed, "line 1"},
		{"a:{SCRAM-SHA-1}0,c2FsdA==,AAAA,AAAA\n", ErrMalformed, "line 1"},
		{"a:{SCRAM-SHA-1}4096,!,AAAA,AAAA\n", ErrMalformed, "line 1"},
		{"a:{SCRAM-SHA-1}4096\n", ErrMalformed, "line 1"},
	} {
		err := NewMemoryStore().ReadUsers(strings.NewReader(tt.in))
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Contains(t, err.Error(), tt.msg)
	}
}

// Hashes made by Dovecot's doveadm pw serve their mechanisms.
func TestReadUsersDovecotSchemes(t *testing.T) {
	bin := peer.Path(t, "doveadm")
	var file strings.Builder
	for _, scheme := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5"} {
		out := strings.TrimSpace(peer.Run(t, 10*time.Second, bin, "pw", "-s", scheme, "-p", "tanstaaftanstaaf"))
		require.True(t, strings.HasPrefix(out, "{"+scheme+"}"), out)
		file.WriteString("tim:" + out + ":1000:1000::/home/tim::\n")
	}
	st := NewMemoryStore()
	require.NoError(t, st.ReadUsers(strings.NewReader(file.String())))
	require.NoError(t, st.CheckPassword(context.Background(), "tim", "tanstaaftanstaaf"))
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5"} {
		c, err := NewClient(mech, "tim", "tanstaaftanstaaf", nil)
		require.NoError(t, err)
		s, err := NewServer(mech, st, nil)
		require.NoError(t, err)
		require.NoError(t, run(c, s), mech)
		c, _ = NewClient(mech, "tim", "wrong", nil)
		s, _ = NewServer(mech, st, nil)
		require.ErrorIs(t, run(c, s), ErrAuthFailed, mech)
	}
	// Our CRAM-MD5 key has Dovecot's layout: RFC 2195's example password.
	k := NewCRAMMD5Key("tanstaaftanstaaf")
	out := strings.TrimSpace(peer.Run(t, 10*time.Second, bin, "pw", "-s", "CRAM-MD5", "-p", "tanstaaftanstaaf"))
	assert.Equal(t, out, k.String())
	k2, err := ParseCRAMMD5Key(out)
	require.NoError(t, err)
	assert.Equal(t, k, k2)
}

func TestSetPasswordHashClearsOldKeys(t *testing.T) {
	st := NewMemoryStore()
	require.NoError(t, st.SetPassword("u", "old"))
	h, _ := HashPassword("new", 0)
	require.NoError(t, st.SetPasswordHash("u", h))
	assert.ErrorIs(t, run(NewCRAMMD5Client("u", "old"), NewCRAMMD5Server(st)), ErrAuthFailed)
	c, _ := NewSCRAMClient("SCRAM-SHA-1", "u", "old", nil)
	s, err := NewSCRAMServer("SCRAM-SHA-1", st, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, run(c, s), ErrAuthFailed)
	// No user holds CRAM-MD5 or SCRAM-SHA-1 keys any more: not offered.
	_, err = NewServer("SCRAM-SHA-1", st, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
	assert.Equal(t, []string{"SCRAM-SHA-256", "PLAIN", "LOGIN"}, Mechanisms(st, &tls.ConnectionState{Version: tls.VersionTLS12}))
	require.NoError(t, st.CheckPassword(context.Background(), "u", "new"))
}
