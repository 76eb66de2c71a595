package auth

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rfc7628Token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="

func b64d(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// RFC 7628 §4.1 and §4.3.
func TestOAuthBearerRFC7628Examples(t *testing.T) {
	// §4.1, IMAP.
	c := &OAuthBearerClient{User: "user@example.com", Host: "server.example.com", Port: 143, Token: rfc7628Token}
	mech, ir, err := c.Start()
	require.NoError(t, err)
	assert.Equal(t, "OAUTHBEARER", mech)
	assert.Equal(t, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB",
		base64.StdEncoding.EncodeToString(ir))
	// §4.1, SMTP.
	c.Port = 587
	_, ir, _ = c.Start()
	assert.Equal(t, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB",
		base64.StdEncoding.EncodeToString(ir))

	st := testStore(t)
	s := NewOAuthBearerServer(st)
	chal, done, err := s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Nil(t, chal)
	assert.Equal(t, "user@example.com", s.Identity())
	host, port := s.HostPort()
	assert.Equal(t, "server.example.com", host)
	assert.Equal(t, "587", port)

	// §4.3: an empty auth value; the server reports the error, the client
	// acknowledges with %x01, the server fails.
	ir = b64d(t, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=")
	wantErr := b64d(t, "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=")
	s = NewOAuthBearerServer(tokenFunc(func(user, token string) (string, error) {
		return "", &OAuthError{Status: "invalid_token", Scope: "example_scope", OpenIDConfiguration: "https://example.com/.well-known/openid-configuration"}
	}))
	chal, done, err = s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, string(wantErr), string(chal), "the verifier's answer to the empty token")
	_, done, err = s.Next(context.Background(), []byte{1})
	assert.True(t, done)
	require.ErrorIs(t, err, ErrAuthFailed)

	// A verifier that accepts the empty token still does not log anyone in.
	s = NewOAuthBearerServer(tokenFunc(func(user, token string) (string, error) { return user, nil }))
	chal, done, err = s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.False(t, done)
	assert.JSONEq(t, `{"status":"invalid_token"}`, string(chal))
	assert.Empty(t, s.Identity())

	ir = []byte("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer bad\x01\x01")
	s = NewOAuthBearerServer(tokenFunc(func(user, token string) (string, error) {
		return "", &OAuthError{Status: "invalid_token", Scope: "example_scope", OpenIDConfiguration: "https://example.com/.well-known/openid-configuration"}
	}))
	chal, done, err = s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, string(wantErr), string(chal))
	c = NewOAuthBearerClient("user@example.com", "bad")
	c.Start()
	resp, err := c.Next(chal)
	require.NoError(t, err)
	assert.Equal(t, "AQ==", base64.StdEncoding.EncodeToString(resp))
	assert.Equal(t, "example_scope", c.Err().Scope)
	_, done, err = s.Next(context.Background(), resp)
	assert.True(t, done)
	require.ErrorIs(t, err, ErrAuthFailed)
	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_token", oe.Status)

	// §4.4, the SMTP example of a failed negotiation, with its "user=".
	ir = b64d(t, "bix1c2VyPXNvbWV1c2VyQGV4YW1wbGUuY29tLAFhdXRoPUJlYXJlciB2RjlkZnQ0cW1UYzJOdmIzUmxja0JoZEhSaGRtbHpkR0V1WTI5dENnPT0BAQ==")
	wantErr = b64d(t, "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NoZW1lcyI6ImJlYXJlciBtYWMiLCJzY29wZSI6Imh0dHBzOi8vbWFpbC5leGFtcGxlLmNvbS8ifQ==")
	var gotUser, gotToken string
	s = NewOAuthBearerServer(tokenFunc(func(user, token string) (string, error) {
		gotUser, gotToken = user, token
		return "", &OAuthError{Status: "invalid_token", Schemes: "bearer mac", Scope: "https://mail.example.com/"}
	}))
	chal, done, err = s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, "someuser@example.com", gotUser)
	assert.Equal(t, "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", gotToken)
	assert.JSONEq(t, string(wantErr), string(chal))
	_, done, err = s.Next(context.Background(), b64d(t, "AQ=="))
	assert.True(t, done)
	require.ErrorIs(t, err, ErrAuthFailed)
}

type tokenFunc func(user, token string) (string, error)

func (f tokenFunc) VerifyToken(_ context.Context, user, token string) (string, error) {
	return f(user, token)
}

func TestOAuthRoundTrip(t *testing.T) {
	st := testStore(t)
	for _, tc := range []struct {
		name string
		c    func(user, token string) Client
		s    func() Server
	}{
		{"OAUTHBEARER", func(u, tok string) Client { return NewOAuthBearerClient(u, tok) }, func() Server { return NewOAuthBearerServer(st) }},
		{"XOAUTH2", func(u, tok string) Client { return NewXOAuth2Client(u, tok) }, func() Server { return NewXOAuth2Server(st) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s()
			require.NoError(t, run(tc.c("user@example.com", rfc7628Token), s))
			assert.Equal(t, "user@example.com", s.Identity())
			assert.ErrorIs(t, run(tc.c("user@example.com", "wrong"), tc.s()), ErrAuthFailed)
			assert.ErrorIs(t, run(tc.c("tim", rfc7628Token), tc.s()), ErrAuthFailed)
			// A verifier failing for another reason is passed through.
			down := errors.New("database down")
			var s2 Server
			if tc.name == "XOAUTH2" {
				s2 = NewXOAuth2Server(tokenFunc(func(string, string) (string, error) { return "", down }))
			} else {
				s2 = NewOAuthBearerServer(tokenFunc(func(string, string) (string, error) { return "", down }))
			}
			err := run(tc.c("user@example.com", rfc7628Token), s2)
			assert.ErrorIs(t, err, down)
			assert.NotErrorIs(t, err, ErrAuthFailed)
		})
	}
	// OAUTHBEARER without a user: the token alone identifies.
	s := NewOAuthBearerServer(st)
	require.NoError(t, run(NewOAuthBearerClient("", rfc7628Token), s))
	assert.Equal(t, "user@example.com", s.Identity())
}

func TestOAuthBearerServerMalformed(t *testing.T) {
	st := testStore(t)
	for _, msg := range []string{
		"",
		"\x01",
		"n,,",
		"p=tls-unique,,\x01auth=Bearer x\x01\x01",
		"n,b=x,\x01auth=Bearer x\x01\x01",
		"n,a=,\x01auth=Bearer x\x01\x01",
		"n,,auth=Bearer x\x01\x01",
		"n,,\x01auth=Bearer x\x01",
		"n,,\x01auth=Bearer x",
		"n,,\x01auth=Bearer x\x01\x01extra",
		"n,,\x01=x\x01auth=Bearer x\x01\x01",
		"n,,\x01k1=x\x01auth=Bearer x\x01\x01",
		"n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01",
		"n,,\x01auth=Bearer \x00\x01\x01",
	} {
		_, done, err := NewOAuthBearerServer(st).Next(context.Background(), []byte(msg))
		assert.True(t, done)
		assert.ErrorIs(t, err, ErrMalformed, "%q", msg)
	}
	// No auth, or not a bearer token: an error report.
	for _, msg := range []string{"n,,\x01host=x\x01\x01", "n,,\x01auth=Basic dXNlcg==\x01\x01", "n,,\x01auth=Bearer\x01\x01"} {
		s := NewOAuthBearerServer(st)
		chal, done, err := s.Next(context.Background(), []byte(msg))
		require.NoError(t, err, "%q", msg)
		assert.False(t, done)
		assert.JSONEq(t, `{"status":"invalid_request"}`, string(chal))
		_, _, err = s.Next(context.Background(), []byte("nope"))
		assert.ErrorIs(t, err, ErrMalformed)
	}
	s := NewOAuthBearerServer(st)
	s.MaxSize = 10
	_, _, err := s.Next(context.Background(), []byte(strings.Repeat("x", 11)))
	assert.ErrorIs(t, err, ErrTooLong)
	// Unknown keys are ignored; the scheme is case-insensitive.
	s = NewOAuthBearerServer(st)
	_, done, err := s.Next(context.Background(), []byte("y,,\x01mthd=POST\x01auth=bearer "+rfc7628Token+"\x01\x01"))
	require.NoError(t, err)
	assert.True(t, done)
}

func TestXOAuth2ServerMalformed(t *testing.T) {
	st := testStore(t)
	for _, msg := range []string{
		"",
		"user=a\x01\x01",
		"auth=Bearer x\x01\x01",
		"user=a\x01auth=Bearer x\x01",
		"user=a\x01auth=Basic x\x01\x01",
		"user=a\x01auth=Bearer x\x01\x01z",
	} {
		_, done, err := NewXOAuth2Server(st).Next(context.Background(), []byte(msg))
		assert.True(t, done)
		assert.ErrorIs(t, err, ErrMalformed, "%q", msg)
	}
	c := NewXOAuth2Client("user@example.com", rfc7628Token)
	_, ir, err := c.Start()
	require.NoError(t, err)
	assert.Equal(t, "user=user@example.com\x01auth=Bearer "+rfc7628Token+"\x01\x01", string(ir))
	_, _, err = NewXOAuth2Client("", "t").Start()
	assert.ErrorIs(t, err, ErrMalformed)
}

type externalPolicy struct{}

func (externalPolicy) AuthorizeExternal(_ context.Context, cs *tls.ConnectionState, authzid string) (string, error) {
	cn := cs.PeerCertificates[0].Subject.CommonName
	if authzid != "" && authzid != cn {
		return "", ErrAuthFailed
	}
	return cn, nil
}

func (externalPolicy) AllowAnonymous(_ context.Context, trace string) (string, error) {
	if trace == "banned" {
		return "", ErrAuthFailed
	}
	return "anonymous", nil
}

func TestExternal(t *testing.T) {
	conn := handshake(t, tls.VersionTLS13, true)
	require.NotEmpty(t, conn.server.PeerCertificates)
	assert.Contains(t, Mechanisms(externalPolicy{}, conn.server), "EXTERNAL")
	assert.NotContains(t, Mechanisms(externalPolicy{}, nil), "EXTERNAL")

	s, err := NewServer("EXTERNAL", externalPolicy{}, conn.server)
	require.NoError(t, err)
	require.NoError(t, run(NewExternalClient(""), s))
	assert.Equal(t, "localhost", s.Identity())

	s, _ = NewServer("EXTERNAL", externalPolicy{}, conn.server)
	require.NoError(t, run(NewExternalClient("localhost"), s))
	s, _ = NewServer("EXTERNAL", externalPolicy{}, conn.server)
	require.ErrorIs(t, run(NewExternalClient("root"), s), ErrAuthFailed)

	// Without a client certificate.
	_, err = NewServer("EXTERNAL", externalPolicy{}, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
	_, _, err = NewExternalServer(externalPolicy{}, nil).Next(context.Background(), []byte{})
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, _, err = NewExternalServer(externalPolicy{}, conn.server).Next(context.Background(), []byte("a\x00b"))
	assert.ErrorIs(t, err, ErrMalformed)

	_, ir, err := NewExternalClient("").Start()
	require.NoError(t, err)
	assert.NotNil(t, ir)
	assert.Empty(t, ir)
}

func TestAnonymous(t *testing.T) {
	s, err := NewServer("ANONYMOUS", externalPolicy{}, nil)
	require.NoError(t, err)
	require.NoError(t, run(NewAnonymousClient("sirhc@example.com"), s))
	assert.Equal(t, "anonymous", s.Identity())
	assert.Equal(t, "sirhc@example.com", s.(*AnonymousServer).Trace())

	// RFC 4505 §4: empty trace, no initial response.
	s2 := NewAnonymousServer(externalPolicy{})
	chal, done, err := s2.Next(context.Background(), nil)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Empty(t, chal)
	_, done, err = s2.Next(context.Background(), []byte{})
	require.NoError(t, err)
	assert.True(t, done)

	assert.ErrorIs(t, run(NewAnonymousClient("banned"), NewAnonymousServer(externalPolicy{})), ErrAuthFailed)
	_, _, err = NewAnonymousServer(externalPolicy{}).Next(context.Background(), []byte(strings.Repeat("x", 256)))
	assert.ErrorIs(t, err, ErrMalformed)
	_, _, err = NewAnonymousClient("a\x00").Start()
	assert.ErrorIs(t, err, ErrMalformed)
}
