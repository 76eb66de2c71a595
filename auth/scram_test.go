package auth

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scramStore holds exactly one user's keys, as in the RFC examples.
type scramStore map[string]SCRAMKeys

func (m scramStore) SCRAMKeys(_ context.Context, hash, user string) (SCRAMKeys, error) {
	k, ok := m[hash+"/"+user]
	if !ok {
		return SCRAMKeys{}, ErrNoCredentials
	}
	return k, nil
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var scramVectors = []struct {
	name, mech, hash string
	salt             string
	cnonce, snonce   string
	c1, s1, c2, s2   string
}{
	{ // RFC 5802 §5
		name: "RFC 5802", mech: "SCRAM-SHA-1", hash: "SHA-1", salt: "QSXCR+Q6sek8bf92",
		cnonce: "fyko+d2lbbFgONRv9qkxdawL", snonce: "3rfcNHYJY1ZVvWVs7j",
		c1: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		s1: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		c2: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		s2: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{ // RFC 7677 §3
		name: "RFC 7677", mech: "SCRAM-SHA-256", hash: "SHA-256", salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
		cnonce: "rOprNGfwEbeRWgbNEkqO", snonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		c1: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		s1: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		c2: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		s2: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func vectorStore(t *testing.T, hash, salt string) scramStore {
	k, err := NewSCRAMKeys(hash, "pencil", mustB64(salt), 4096)
	require.NoError(t, err)
	return scramStore{hash + "/user": k}
}

func TestSCRAMRFCExamples(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.name, func(t *testing.T) {
			c, err := NewSCRAMClient(v.mech, "user", "pencil", nil)
			require.NoError(t, err)
			c.Nonce = v.cnonce
			mech, ir, err := c.Start()
			require.NoError(t, err)
			assert.Equal(t, v.mech, mech)
			assert.Equal(t, v.c1, string(ir))
			c2, err := c.Next([]byte(v.s1))
			require.NoError(t, err)
			assert.Equal(t, v.c2, string(c2))
			require.Error(t, c.Complete())
			last, err := c.Next([]byte(v.s2))
			require.NoError(t, err)
			assert.Empty(t, last)
			require.NoError(t, c.Complete())

			s, err := NewSCRAMServer(v.mech, vectorStore(t, v.hash, v.salt), nil)
			require.NoError(t, err)
			s.Nonce = v.snonce
			s1, done, err := s.Next(context.Background(), []byte(v.c1))
			require.NoError(t, err)
			assert.False(t, done)
			assert.Equal(t, v.s1, string(s1))
			s2, done, err := s.Next(context.Background(), []byte(v.c2))
			require.NoError(t, err)
			assert.True(t, done)
			assert.Equal(t, v.s2, string(s2))
			assert.Equal(t, "user", s.Identity())
		})
	}
}

func TestSCRAMRoundTrip(t *testing.T) {
	st := testStore(t)
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			newServer := func() Server {
				s, err := NewServer(mech, st, nil)
				require.NoError(t, err)
				return s
			}
			c, err := NewSCRAMClient(mech, "user", "pencil", nil)
			require.NoError(t, err)
			s := newServer()
			require.NoError(t, run(c, s))
			assert.Equal(t, "user", s.Identity())

			c, _ = NewSCRAMClient(mech, "user", "wrong", nil)
			err = run(c, newServer())
			require.ErrorIs(t, err, ErrAuthFailed)
			var se *SCRAMError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "invalid-proof", se.Value)
			assert.Equal(t, "e=invalid-proof", string(se.ServerError()))

			c, _ = NewSCRAMClient(mech, "nobody", "pencil", nil)
			require.ErrorIs(t, run(c, newServer()), ErrAuthFailed)

			// Names with "," and "=" are escaped.
			require.NoError(t, st.SetPassword("a,b=c", "pw"))
			c, _ = NewSCRAMClient(mech, "a,b=c", "pw", nil)
			_, ir, _ := c.Start()
			c, _ = NewSCRAMClient(mech, "a,b=c", "pw", nil)
			assert.Contains(t, string(ir), "n=a=2Cb=3Dc,")
			s = newServer()
			require.NoError(t, run(c, s))
			assert.Equal(t, "a,b=c", s.Identity())

			// Authorization identity: refused without an Authorizer.
			c, _ = NewSCRAMClient(mech, "user", "pencil", nil)
			c.Authzid = "tim"
			require.ErrorIs(t, run(c, newServer()), ErrAuthFailed)
			c, _ = NewSCRAMClient(mech, "user", "pencil", nil)
			c.Authzid = "tim"
			s, err = NewSCRAMServer(mech, allowAll{st}, nil)
			require.NoError(t, err)
			require.NoError(t, run(c, s))
			assert.Equal(t, "tim", s.Identity())
		})
	}
}

// The salt of an unknown user is stable and looks like a real one.
func TestSCRAMUnknownUserSalt(t *testing.T) {
	first := func(user string) string {
		s, err := NewSCRAMServer("SCRAM-SHA-256", testStore(t), nil)
		require.NoError(t, err)
		s.Nonce = "x"
		ch, _, err := s.Next(context.Background(), []byte("n,,n="+user+",r=abc"))
		require.NoError(t, err)
		return string(ch)
	}
	a, b := first("ghost"), first("ghost")
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, first("phantom"))
	assert.Regexp(t, `^r=abcx,s=[A-Za-z0-9+/]{22}==,i=4096$`, a)
}

// serverFirst runs a SCRAM-SHA-256 server through client-first.
func serverAfterFirst(t *testing.T, c1 string) (*SCRAMServer, string, error) {
	s, err := NewSCRAMServer("SCRAM-SHA-256", vectorStore(t, "SHA-256", scramVectors[1].salt), nil)
	require.NoError(t, err)
	s.Nonce = scramVectors[1].snonce
	ch, _, err := s.Next(context.Background(), []byte(c1))
	return s, string(ch), err
}

func TestSCRAMServerMalformed(t *testing.T) {
	v := scramVectors[1]
	firsts := []struct {
		msg, e string
	}{
		{"", "invalid-encoding"},
		{"n", "invalid-encoding"},
		{"n,", "invalid-encoding"},
		{"x,,n=user,r=abc", "invalid-encoding"},
		{"p=,,n=user,r=abc", "invalid-encoding"},
		{"p=tls-unique,,n=user,r=abc", "channel-binding-not-supported"},
		{"n,b=x,n=user,r=abc", "invalid-encoding"},
		{"n,a=x=41,n=user,r=abc", "invalid-username-encoding"},
		{"n,,n=user", "invalid-encoding"},
		{"n,,r=abc,n=user", "invalid-encoding"},
		{"n,,n=,r=abc", "invalid-encoding"},
		{"n,,n=us=er,r=abc", "invalid-username-encoding"},
		{"n,,n=us\xffer,r=abc", "invalid-encoding"},
		{"n,,n=user,r=a b", "invalid-encoding"},
		{"n,,m=ext,n=user,r=abc", "extensions-not-supported"},
		{"n,,n=user,r=abc,", "invalid-encoding"},
	}
	for _, tt := range firsts {
		_, _, err := serverAfterFirst(t, tt.msg)
		var se *SCRAMError
		require.ErrorAs(t, err, &se, "%q", tt.msg)
		assert.Equal(t, tt.e, se.Value, "%q", tt.msg)
	}
	// Extensions after the nonce are ignored (RFC 5802 §7).
	_, _, err := serverAfterFirst(t, v.c1+",x=ext")
	require.NoError(t, err)

	proof := v.c2[strings.LastIndex(v.c2, "p="):]
	finals := []struct {
		msg, e string
	}{
		{"", "invalid-encoding"},
		{"c=biws,r=" + v.cnonce + v.snonce, "invalid-encoding"},
		{"r=" + v.cnonce + v.snonce + ",c=biws," + proof, "invalid-encoding"},
		{"c=biws,r=" + v.cnonce + ",p=" + proof, "invalid-encoding"},                     // nonce mismatch
		{"c=biws,r=" + v.cnonce + v.snonce + "X," + proof, "invalid-encoding"},           // nonce mismatch
		{"c=eSws,r=" + v.cnonce + v.snonce + "," + proof, "channel-bindings-dont-match"}, // "y,,"
		{"c=bi!s,r=" + v.cnonce + v.snonce + "," + proof, "invalid-encoding"},
		{"c=biws,r=" + v.cnonce + v.snonce + ",p=AAAA", "invalid-encoding"}, // short proof
		{"c=biws,r=" + v.cnonce + v.snonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 33)), "invalid-encoding"},
		{"c=biws,r=" + v.cnonce + v.snonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "invalid-proof"},
	}
	for _, tt := range finals {
		s, _, err := serverAfterFirst(t, v.c1)
		require.NoError(t, err)
		_, done, err := s.Next(context.Background(), []byte(tt.msg))
		assert.True(t, done)
		var se *SCRAMError
		require.ErrorAs(t, err, &se, "%q", tt.msg)
		assert.Equal(t, tt.e, se.Value, "%q", tt.msg)
		_, _, err = s.Next(context.Background(), []byte("x"))
		assert.ErrorIs(t, err, ErrUnexpected)
	}
	// An extension before the proof is allowed and covered by the proof: it
	// changes AuthMessage, so this proof no longer matches.
	s, _, err := serverAfterFirst(t, v.c1)
	require.NoError(t, err)
	_, _, err = s.Next(context.Background(), []byte(strings.Replace(v.c2, ",p=", ",x=y,p=", 1)))
	var se *SCRAMError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "invalid-proof", se.Value)

	// Size limit.
	s, _, err = serverAfterFirst(t, v.c1)
	require.NoError(t, err)
	s.MaxSize = 50
	_, _, err = s.Next(context.Background(), []byte(v.c2))
	assert.ErrorIs(t, err, ErrTooLong)
}

func TestSCRAMClientMalformed(t *testing.T) {
	v := scramVectors[1]
	tests := []struct {
		s1  string
		err error
	}{
		{"", ErrMalformed},
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==", ErrMalformed},            // missing i
		{"r=" + v.cnonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrMalformed},      // nonce not extended
		{"r=other" + v.cnonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrMalformed}, // nonce mismatch
		{"r=" + v.cnonce + "x,s=,i=4096", ErrMalformed},                             // empty salt: bad attr
		{"r=" + v.cnonce + "x,s=!!!,i=4096", ErrMalformed},                          // bad salt
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", ErrMalformed},        // zero
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1", ErrMalformed},
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095", ErrMalformed},    // below minimum
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001", ErrMalformed}, // huge
		{"r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999", ErrMalformed},
		{"m=x,r=" + v.cnonce + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrMalformed},
		{strings.Repeat("x", DefaultMaxSize+1), ErrTooLong},
	}
	for _, tt := range tests {
		c, err := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
		require.NoError(t, err)
		c.Nonce = v.cnonce
		_, _, err = c.Start()
		require.NoError(t, err)
		_, err = c.Next([]byte(tt.s1))
		assert.ErrorIs(t, err, tt.err, "%q", tt.s1)
	}

	finals := []struct {
		s2  string
		err error
	}{
		{"v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), ErrAuthFailed},
		{"v=!!", ErrAuthFailed},
		{"e=invalid-proof", ErrAuthFailed},
		{"e=invalid-encoding", ErrMalformed},
		{"x=y", ErrMalformed},
		{"", ErrMalformed},
	}
	for _, tt := range finals {
		c, _ := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
		c.Nonce = v.cnonce
		c.Start()
		_, err := c.Next([]byte(v.s1))
		require.NoError(t, err)
		_, err = c.Next([]byte(tt.s2))
		assert.ErrorIs(t, err, tt.err, "%q", tt.s2)
		assert.Error(t, c.Complete())
	}

	// Custom iteration bounds.
	c, _ := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
	c.Nonce, c.MaxIterations = v.cnonce, 4000
	c.MinIterations = 1000
	c.Start()
	_, err := c.Next([]byte(v.s1))
	assert.ErrorIs(t, err, ErrMalformed)

	_, err = NewSCRAMClient("SCRAM-MD5", "u", "p", nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
	_, err = NewSCRAMClient("SCRAM-SHA-256-PLUS", "u", "p", nil)
	assert.Error(t, err)
	c, _ = NewSCRAMClient("SCRAM-SHA-1", "", "p", nil)
	_, _, err = c.Start()
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestSCRAMKeysAndHashes(t *testing.T) {
	k, err := NewSCRAMKeys("SHA-1", "pencil", mustB64("QSXCR+Q6sek8bf92"), 4096)
	require.NoError(t, err)
	assert.Len(t, k.StoredKey, sha1.Size)
	k2, err := NewSCRAMKeys("SHA-256", "pencil", nil, 0)
	require.NoError(t, err)
	assert.Len(t, k2.StoredKey, sha256.Size)
	assert.Len(t, k2.Salt, 16)
	assert.Equal(t, DefaultIterations, k2.Iterations)
	_, err = NewSCRAMKeys("MD5", "pencil", nil, 0)
	assert.Error(t, err)
	_, err = NewSCRAMKeys("SHA-256", "pencil", nil, MaxHashIterations+1)
	assert.Error(t, err)
}

func TestSASLName(t *testing.T) {
	for _, s := range []string{"user", "a,b", "a=b", "=,=,", "ü"} {
		d, ok := decodeSASLName(encodeSASLName(s))
		assert.True(t, ok)
		assert.Equal(t, s, d)
	}
	for _, s := range []string{"", "a=", "a=2", "a=2D", "a\x00"} {
		_, ok := decodeSASLName(s)
		assert.False(t, ok, "%q", s)
	}
	assert.False(t, errors.Is(nil, ErrMalformed))
}
