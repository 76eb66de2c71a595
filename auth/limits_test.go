package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every server mechanism refuses a message over its limit with ErrTooLong,
// both the default and a MaxSize given through ServerConfig.
func TestServerSizeLimits(t *testing.T) {
	st := testStore(t)
	huge := []byte(strings.Repeat("a", DefaultMaxSize+1))
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "OAUTHBEARER", "XOAUTH2"} {
		t.Run(mech, func(t *testing.T) {
			for _, cfg := range []ServerConfig{{Credentials: st, AllowCleartext: true}, {Credentials: st, MaxSize: 100}} {
				msg := huge
				if cfg.MaxSize > 0 {
					msg = huge[:101]
				}
				s, err := cfg.NewServer(mech, nil)
				require.NoError(t, err)
				if mech == "CRAM-MD5" {
					_, _, err := s.Next(context.Background(), nil)
					require.NoError(t, err)
				}
				_, done, err := s.Next(context.Background(), msg)
				assert.True(t, done)
				assert.ErrorIs(t, err, ErrTooLong)

				// Exactly at the limit is not "too long".
				s, _ = cfg.NewServer(mech, nil)
				if mech == "CRAM-MD5" {
					s.Next(context.Background(), nil)
				}
				_, _, err = s.Next(context.Background(), msg[:len(msg)-1])
				assert.NotErrorIs(t, err, ErrTooLong)
			}
		})
	}
	_, _, err := NewExternalServer(externalPolicy{}, nil).Next(context.Background(), []byte(strings.Repeat("a", maxExternal+1)))
	assert.ErrorIs(t, err, ErrTooLong)
	_, _, err = NewAnonymousServer(externalPolicy{}).Next(context.Background(), huge)
	assert.ErrorIs(t, err, ErrTooLong)
}

// Clients refuse oversized challenges.
func TestClientSizeLimits(t *testing.T) {
	huge := []byte(strings.Repeat("a", DefaultMaxSize+1))
	c := NewCRAMMD5Client("u", "p")
	c.Start()
	_, err := c.Next(huge)
	assert.ErrorIs(t, err, ErrTooLong)
	sc, _ := NewSCRAMClient("SCRAM-SHA-256", "u", "p", nil)
	sc.Start()
	_, err = sc.Next(huge)
	assert.ErrorIs(t, err, ErrTooLong)
	// An oversized OAuth error report is replaced by a generic one.
	oc := NewOAuthBearerClient("u", "t")
	oc.Start()
	_, err = oc.Next(huge)
	require.NoError(t, err)
	assert.Equal(t, "invalid_token", oc.Err().Status)
}
