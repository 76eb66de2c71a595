package auth

import (
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

func TestPasswordHash(t *testing.T) {
	enc, err := HashPassword("pencil", 0)
	require.NoError(t, err)
	assert.Regexp(t, `^\$scram-sha-256\$i=4096\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}\$[A-Za-z0-9+/]{43}$`, enc)
	require.NoError(t, VerifyPassword(enc, "pencil"))
	assert.ErrorIs(t, VerifyPassword(enc, "pencil2"), ErrAuthFailed)
	assert.ErrorIs(t, VerifyPassword(enc, ""), ErrAuthFailed)

	h, err := ParsePasswordHash(enc)
	require.NoError(t, err)
	assert.Equal(t, enc, h.String())
	k, ok := h.SCRAMKeys()
	require.True(t, ok)
	assert.Equal(t, 4096, k.Iterations)

	enc2, err := HashPassword("pencil", 5000)
	require.NoError(t, err)
	assert.Contains(t, enc2, "$i=5000$")
	assert.NotEqual(t, enc, enc2) // fresh salt
}

// The keys match RFC 7677's example and GNU SASL's --mkpasswd output.
func TestPasswordHashVectors(t *testing.T) {
	const gsaslOut = "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d"
	h, err := ParsePasswordHash(gsaslOut)
	require.NoError(t, err)
	require.NoError(t, h.Verify("pencil"))
	k, err := NewSCRAMKeys("SHA-256", "pencil", mustB64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
	require.NoError(t, err)
	assert.Equal(t, h.StoredKey, k.StoredKey)
	assert.Equal(t, h.ServerKey, k.ServerKey)
	assert.Equal(t, "$scram-sha-256$i=4096$W22ZaJ0SNY7soEsUEjb6gQ$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY$wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU", h.String())

	k1, err := NewSCRAMKeys("SHA-1", "pencil", mustB64("QSXCR+Q6sek8bf92"), 4096)
	require.NoError(t, err)
	assert.Equal(t, "6dlGYMOdZcOPutkcNY8U2g7vK9Y=", base64.StdEncoding.EncodeToString(k1.StoredKey))
	assert.Equal(t, "D+CSWLOshSulAsxiupA+qs2/fTE=", base64.StdEncoding.EncodeToString(k1.ServerKey))

	// A users file of these hashes serves the RFC 7677 exchange.
	st := NewMemoryStore()
	require.NoError(t, st.SetPasswordHash("user", gsaslOut))
	v := scramVectors[1]
	s, err := NewSCRAMServer(v.mech, st, nil)
	require.NoError(t, err)
	s.Nonce = v.snonce
	s1, _, err := s.Next(context.Background(), []byte(v.c1))
	require.NoError(t, err)
	assert.Equal(t, v.s1, string(s1))
	s2, done, err := s.Next(context.Background(), []byte(v.c2))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, v.s2, string(s2))
	// ... and PLAIN and LOGIN, but not CRAM-MD5 or SCRAM-SHA-1.
	require.NoError(t, run(NewPlainClient("", "user", "pencil"), NewPlainServer(st)))
	require.NoError(t, run(NewLoginClient("user", "pencil"), NewLoginServer(st)))
	assert.ErrorIs(t, run(NewCRAMMD5Client("user", "pencil"), NewCRAMMD5Server(st)), ErrAuthFailed)
	c, _ := NewSCRAMClient("SCRAM-SHA-1", "user", "pencil", nil)
	s, _ = NewSCRAMServer("SCRAM-SHA-1", st, nil)
	assert.ErrorIs(t, run(c, s), ErrAuthFailed)
}

// Our hashes agree with gsasl --mkpasswd for random salts and passwords.
func TestPasswordHashAgainstGsasl(t *testing.T) {
	bin := peer.Path(t, "gsasl")
	for i, pw := range []string{"pencil", "correct horse battery staple", "pässwörd", "a,b=c", "I\u2168", "a\u00A0b\u00ADc", "pa\u0308ss"} {
		salt := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("salt-%d-%s", i, pw)))
		for _, hash := range []string{"SHA-1", "SHA-256"} {
			out := peer.Run(t, 10*time.Second, bin, "--mkpasswd", "--mechanism=SCRAM-"+hash, "--iteration-count=4096", "--salt="+salt, "--password="+pw)
			f := strings.Split(strings.TrimSpace(out[strings.Index(out, "}")+1:]), ",")
			require.GreaterOrEqual(t, len(f), 4, out)
			k, err := NewSCRAMKeys(hash, pw, mustB64(salt), 4096)
			require.NoError(t, err)
			assert.Equal(t, f[2], base64.StdEncoding.EncodeToString(k.StoredKey), "%s %q", hash, pw)
			assert.Equal(t, f[3], base64.StdEncoding.EncodeToString(k.ServerKey), "%s %q", hash, pw)
			if hash == "SHA-256" {
				require.NoError(t, VerifyPassword(strings.TrimSpace(out), pw))
			}
		}
	}
}

func TestPasswordHashPBKDF2(t *testing.T) {
	salt := []byte("0123456789abcdef")
	dk, err := pbkdf2.Key(sha256.New, "pencil", salt, 4096, 32)
	require.NoError(t, err)
	enc := fmt.Sprintf("$pbkdf2-sha256$i=4096,l=32$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(dk))
	h, err := ParsePasswordHash(enc)
	require.NoError(t, err)
	assert.Equal(t, enc, h.String())
	require.NoError(t, h.Verify("pencil"))
	assert.ErrorIs(t, h.Verify("pencil!"), ErrAuthFailed)
	// With l=32 it is SCRAM-SHA-256's SaltedPassword: the keys follow.
	k, ok := h.SCRAMKeys()
	require.True(t, ok)
	want, _ := NewSCRAMKeys("SHA-256", "pencil", salt, 4096)
	assert.Equal(t, want, k)

	dk16, _ := pbkdf2.Key(sha256.New, "pencil", salt, 4096, 16)
	enc16 := fmt.Sprintf("$pbkdf2-sha256$i=4096,l=16$%s$%s==", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(dk16))
	require.NoError(t, VerifyPassword(enc16, "pencil"))
	h, _ = ParsePasswordHash(enc16)
	_, ok = h.SCRAMKeys()
	assert.False(t, ok)
}

func TestParsePasswordHashErrors(t *testing.T) {
	good, _ := HashPassword("x", 0)
	parts := strings.Split(good, "$")
	for _, s := range []string{
		"",
		"plain",
		"$md5$x",
		"$scram-sha-256$i=4096$" + parts[3] + "$" + parts[4],
		"$scram-sha-256$i=0$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=-1$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=+5$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=99999999999$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=4096,i=4096$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=4096,l=32$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$x=1$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$$" + strings.Join(parts[3:], "$"),
		"$scram-sha-256$i=4096$!!$" + parts[4] + "$" + parts[5],
		"$scram-sha-256$i=4096$$" + parts[4] + "$" + parts[5],
		"$scram-sha-256$i=4096$" + parts[3] + "$AAAA$" + parts[5],
		"$pbkdf2-sha256$i=4096$c2FsdA$AAAA",
		"$pbkdf2-sha256$i=4096,l=4$c2FsdA$AAAAAAAA",
		"$pbkdf2-sha256$i=4096,l=3$c2FsdA",
		"{SCRAM-SHA-256}4096,x",
		"$scram-sha-256$i=4096$" + strings.Repeat("A", 2000),
	} {
		_, err := ParsePasswordHash(s)
		assert.ErrorIs(t, err, ErrMalformed, "%q", s)
		assert.ErrorIs(t, VerifyPassword(s, "x"), ErrMalformed, "%q", s)
	}
}

func TestMemoryStore(t *testing.T) {
	var st MemoryStore // the zero value works
	require.NoError(t, st.SetPassword("u", "p"))
	require.NoError(t, st.CheckPassword(context.Background(), "u", "p"))
	assert.ErrorIs(t, st.CheckPassword(context.Background(), "u", "q"), ErrAuthFailed)
	assert.ErrorIs(t, st.CheckPassword(context.Background(), "v", "p"), ErrNoCredentials)
	_, err := st.SCRAMKeys(context.Background(), "SHA-512", "u")
	assert.ErrorIs(t, err, ErrNoCredentials)
	st.AddToken("u", "tok")
	id, err := st.VerifyToken(context.Background(), "", "tok")
	require.NoError(t, err)
	assert.Equal(t, "u", id)
	_, err = st.VerifyToken(context.Background(), "v", "tok")
	assert.ErrorIs(t, err, ErrAuthFailed)
	st.Delete("u")
	assert.ErrorIs(t, st.CheckPassword(context.Background(), "u", "p"), ErrNoCredentials)
	_, err = st.VerifyToken(context.Background(), "", "tok")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, err = st.CRAMMD5Key(context.Background(), "u")
	assert.ErrorIs(t, err, ErrNoCredentials)
	assert.ErrorIs(t, st.SetPasswordHash("u", "bad"), ErrMalformed)
}

func TestCRAMMD5Key(t *testing.T) {
	// The key reproduces HMAC-MD5 for short and long passwords (RFC 2104).
	for _, pw := range []string{"", "tanstaaftanstaaf", strings.Repeat("k", 64), strings.Repeat("k", 65)} {
		k := NewCRAMMD5Key(pw)
		msg := []byte("<1896.697170952@postoffice.reston.mci.net>")
		want := hmacSum(md5New, []byte(pw), msg)
		assert.Equal(t, want, k.Sum(msg), "%q", pw)
	}
}

var md5New = md5.New
