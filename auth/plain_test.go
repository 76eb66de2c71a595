package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 4616 §4.
func TestPlainRFC4616Examples(t *testing.T) {
	st := testStore(t)

	mech, ir, err := NewPlainClient("", "tim", "tanstaaftanstaaf").Start()
	require.NoError(t, err)
	assert.Equal(t, "PLAIN", mech)
	assert.Equal(t, "\x00tim\x00tanstaaftanstaaf", string(ir))

	// First example: no initial response, empty challenge, then the message.
	s := NewPlainServer(st)
	chal, done, err := s.Next(context.Background(), nil)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, []byte{}, chal)
	_, done, err = s.Next(context.Background(), ir)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "tim", s.Identity())

	// Second example: Kurt may not act as Ursel.
	st.SetPassword("Kurt", "xipj3plmq")
	_, ir, err = NewPlainClient("Ursel", "Kurt", "xipj3plmq").Start()
	require.NoError(t, err)
	assert.Equal(t, "Ursel\x00Kurt\x00xipj3plmq", string(ir))
	_, done, err = NewPlainServer(st).Next(context.Background(), ir)
	assert.True(t, done)
	assert.ErrorIs(t, err, ErrAuthFailed)
}

type allowAll struct{ *MemoryStore }

func (allowAll) Authorize(_ context.Context, authcid, authzid string) error { return nil }

func TestPlainServer(t *testing.T) {
	st := testStore(t)
	long := strings.Repeat("a", 256)
	tests := []struct {
		name string
		msg  string
		err  error
		id   string
	}{
		{"ok", "\x00user\x00pencil", nil, "user"},
		{"same authzid", "user\x00user\x00pencil", nil, "user"},
		{"wrong password", "\x00user\x00pencil2", ErrAuthFailed, ""},
		{"unknown user", "\x00nobody\x00pencil", ErrAuthFailed, ""},
		{"other authzid", "tim\x00user\x00pencil", ErrAuthFailed, ""},
		{"empty", "", ErrMalformed, ""},
		{"one field", "user", ErrMalformed, ""},
		{"two fields", "\x00user", ErrMalformed, ""},
		{"four fields", "\x00user\x00pencil\x00", ErrMalformed, ""},
		{"empty user", "\x00\x00pencil", ErrMalformed, ""},
		{"empty password", "\x00user\x00", ErrMalformed, ""},
		{"long user", "\x00" + long + "\x00pencil", ErrMalformed, ""},
		{"bad utf-8", "\x00us\xffer\x00pencil", ErrMalformed, ""},
		{"too long", "\x00user\x00" + strings.Repeat("p", DefaultMaxSize), ErrTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewPlainServer(st)
			_, done, err := s.Next(context.Background(), []byte(tt.msg))
			assert.True(t, done)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, s.Identity())
			_, _, err = s.Next(context.Background(), []byte("x"))
			assert.ErrorIs(t, err, ErrUnexpected)
		})
	}

	// With an Authorizer, another authorization identity is allowed.
	s := NewPlainServer(allowAll{st})
	_, _, err := s.Next(context.Background(), []byte("tim\x00user\x00pencil"))
	require.NoError(t, err)
	assert.Equal(t, "tim", s.Identity())
}

func TestPlainClientRejects(t *testing.T) {
	for _, c := range []*PlainClient{
		{Username: "", Password: "p"},
		{Username: "u", Password: ""},
		{Username: "u\x00", Password: "p"},
		{Authzid: "a\x00", Username: "u", Password: "p"},
		{Username: "u", Password: strings.Repeat("p", 256)},
	} {
		_, _, err := c.Start()
		assert.ErrorIs(t, err, ErrMalformed)
	}
	_, err := NewPlainClient("", "u", "p").Next([]byte("x"))
	assert.ErrorIs(t, err, ErrUnexpected)
}

func TestLogin(t *testing.T) {
	st := testStore(t)
	require.NoError(t, run(NewLoginClient("user", "pencil"), NewLoginServer(st)))
	assert.ErrorIs(t, run(NewLoginClient("user", "wrong"), NewLoginServer(st)), ErrAuthFailed)
	assert.ErrorIs(t, run(NewLoginClient("nobody", "pencil"), NewLoginServer(st)), ErrAuthFailed)

	s := NewLoginServer(st)
	chal, done, err := s.Next(context.Background(), nil)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, "Username:", string(chal))
	chal, done, err = s.Next(context.Background(), []byte("user"))
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, "Password:", string(chal))
	_, done, err = s.Next(context.Background(), []byte("pencil"))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "user", s.Identity())
	_, _, err = s.Next(context.Background(), []byte("more"))
	assert.ErrorIs(t, err, ErrUnexpected)

	// The user name as initial response.
	s = NewLoginServer(st)
	chal, _, err = s.Next(context.Background(), []byte("user"))
	require.NoError(t, err)
	assert.Equal(t, "Password:", string(chal))
	_, _, err = s.Next(context.Background(), []byte("pencil"))
	require.NoError(t, err)

	for _, msgs := range [][]string{{"", "x"}, {"user", ""}, {strings.Repeat("u", 256)}} {
		s := NewLoginServer(st)
		s.Next(context.Background(), nil)
		var err error
		for _, m := range msgs {
			if _, _, err = s.Next(context.Background(), []byte(m)); err != nil {
				break
			}
		}
		assert.ErrorIs(t, err, ErrMalformed, "%q", msgs)
	}
	s = NewLoginServer(st)
	s.MaxSize = 10
	_, _, err = s.Next(context.Background(), []byte(strings.Repeat("u", 11)))
	assert.ErrorIs(t, err, ErrTooLong)

	c := NewLoginClient("u", "p")
	c.Start()
	c.Next([]byte("Username:"))
	c.Next([]byte("Password:"))
	_, err = c.Next([]byte("?"))
	assert.ErrorIs(t, err, ErrUnexpected)
}

// RFC 2195 §2.
func TestCRAMMD5RFC2195Example(t *testing.T) {
	const challenge = "<1896.697170952@postoffice.reston.mci.net>"
	c := NewCRAMMD5Client("tim", "tanstaaftanstaaf")
	mech, ir, err := c.Start()
	require.NoError(t, err)
	assert.Equal(t, "CRAM-MD5", mech)
	assert.Nil(t, ir)
	resp, err := c.Next([]byte(challenge))
	require.NoError(t, err)
	assert.Equal(t, "tim b913a602c7eda7a495b4e6e7334d3890", string(resp))

	s := NewCRAMMD5Server(testStore(t))
	s.Challenge = challenge
	chal, done, err := s.Next(context.Background(), nil)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Equal(t, challenge, string(chal))
	_, done, err = s.Next(context.Background(), resp)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, "tim", s.Identity())
}

func TestCRAMMD5(t *testing.T) {
	st := testStore(t)
	require.NoError(t, run(NewCRAMMD5Client("user", "pencil"), NewCRAMMD5Server(st)))
	assert.ErrorIs(t, run(NewCRAMMD5Client("user", "wrong"), NewCRAMMD5Server(st)), ErrAuthFailed)
	assert.ErrorIs(t, run(NewCRAMMD5Client("nobody", "pencil"), NewCRAMMD5Server(st)), ErrAuthFailed)

	// A key from a long password (hashed first, RFC 2104 §2).
	long := strings.Repeat("long password ", 10)
	require.NoError(t, st.SetPassword("long", long))
	require.NoError(t, run(NewCRAMMD5Client("long", long), NewCRAMMD5Server(st)))

	for _, resp := range []string{"", "user", "user 123", " b913a602c7eda7a495b4e6e7334d3890", "user b913a602c7eda7a495b4e6e7334d389z", "user b913a602c7eda7a495b4e6e7334d3890ff"} {
		s := NewCRAMMD5Server(st)
		s.Hostname = "mx.example"
		chal, _, err := s.Next(context.Background(), nil)
		require.NoError(t, err)
		assert.Regexp(t, `^<\d+\.\d+@mx\.example>$`, string(chal))
		_, done, err := s.Next(context.Background(), []byte(resp))
		assert.True(t, done)
		assert.ErrorIs(t, err, ErrMalformed, "%q", resp)
	}
	// CRAM-MD5 is server-first: any initial response, even an empty one
	// ("=" on the wire), is refused (RFC 4954 §4, RFC 5034 §4).
	for _, ir := range [][]byte{[]byte("ir"), {}} {
		s := NewCRAMMD5Server(st)
		_, done, err := s.Next(context.Background(), ir)
		assert.True(t, done)
		assert.ErrorIs(t, err, ErrMalformed, "%q", ir)
	}
}
