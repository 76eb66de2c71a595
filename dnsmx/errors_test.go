package dnsmx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsTemporary(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"NXDOMAIN or NODATA", &net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{"SERVFAIL", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true},
		{"timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, true},
		{"REFUSED", &net.DNSError{Err: "server misbehaving"}, true},
		{"wrapped DNS error", fmt.Errorf("lookup: %w", &net.DNSError{IsNotFound: true}), false},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), true},
		{"other", errors.New("something"), false},
		{"null MX", permanent("x.test", ErrNullMX, nil), false},
		{"lookup", temporary("x.test", ErrLookup, &net.DNSError{IsTemporary: true}), true},
		{"wrapped *Error", fmt.Errorf("deliver: %w", temporary("x.test", ErrNoAddress, nil)), true},
	} {
		assert.Equal(t, tc.want, IsTemporary(tc.err), tc.name)
	}
}

func TestError(t *testing.T) {
	cause := &net.DNSError{Err: "server misbehaving", Name: "x.test.", Server: "127.0.0.1:53", IsTemporary: true}
	err := error(temporary("X.test", ErrLookup, cause))
	assert.Equal(t, "dnsmx: X.test: DNS lookup failed: lookup x.test. on 127.0.0.1:53: server misbehaving", err.Error())
	assert.ErrorIs(t, err, ErrLookup)
	assert.NotErrorIs(t, err, ErrNoSuchDomain)
	de, ok := errors.AsType[*net.DNSError](err)
	require.True(t, ok)
	assert.Same(t, cause, de)
	e, ok := errors.AsType[*Error](err)
	require.True(t, ok)
	assert.True(t, e.Temporary())
	assert.False(t, e.Timeout())

	assert.Equal(t, "dnsmx: nullmx.test: domain accepts no mail (null MX)", permanent("nullmx.test", ErrNullMX, nil).Error())
	assert.True(t, temporary("x", ErrLookup, fmt.Errorf("a: %w", context.DeadlineExceeded)).Timeout())
}
