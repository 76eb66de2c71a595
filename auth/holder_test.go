package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryStoreOffers: a MemoryStore offers only the mechanisms some user
// holds credentials for, and follows every change.
func TestMemoryStoreOffers(t *testing.T) {
	st := NewMemoryStore()
	offers := func() []string {
		c := ServerConfig{Credentials: st, AllowCleartext: true}
		return c.Mechanisms(nil)
	}
	assert.Empty(t, offers(), "an empty store offers nothing")

	h, err := HashPassword("pw", 4096)
	require.NoError(t, err)
	require.NoError(t, st.SetPasswordHash("hashed", h))
	assert.Equal(t, []string{"SCRAM-SHA-256", "PLAIN", "LOGIN"}, offers())

	require.NoError(t, st.SetPassword("plain", "pw"))
	assert.Equal(t, []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"}, offers())

	st.AddToken("hashed", "tok")
	assert.Contains(t, offers(), "OAUTHBEARER")
	assert.Contains(t, offers(), "XOAUTH2")

	// A new hash for "plain" drops its CRAM-MD5 and SCRAM-SHA-1 keys.
	require.NoError(t, st.SetPasswordHash("plain", h))
	assert.Equal(t, []string{"SCRAM-SHA-256", "OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN"}, offers())

	st.SetCRAMMD5Key("cram", NewCRAMMD5Key("pw"))
	assert.Contains(t, offers(), "CRAM-MD5")
	st.Delete("cram")
	assert.NotContains(t, offers(), "CRAM-MD5")

	st.Delete("hashed")
	assert.NotContains(t, offers(), "OAUTHBEARER", "the token went with its user")
	st.Delete("plain")
	assert.Empty(t, offers())
	_, err = NewServer("PLAIN", st, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
}

// TestMemoryStoreOffersUsersFile: Dovecot's single-mechanism forms offer
// just their mechanism.
func TestMemoryStoreOffersUsersFile(t *testing.T) {
	st := NewMemoryStore()
	require.NoError(t, st.ReadUsers(strings.NewReader("u:"+NewCRAMMD5Key("pw").String()+"\n")))
	assert.Equal(t, []string{"CRAM-MD5"}, Mechanisms(st, nil))
}
