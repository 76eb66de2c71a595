package spf

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReceivedSPFProblemHidesResolver: the problem key says what failed,
// not which DNS server the receiver asked.
func TestReceivedSPFProblemHidesResolver(t *testing.T) {
	o := &Outcome{Result: TempError, Identity: IdentityMailFrom, Sender: "a@example.org", Domain: "example.org",
		IP: netip.MustParseAddr("192.0.2.1"), Helo: "mx.example.org", Receiver: "mx.test",
		Err: &Error{Result: TempError, Domain: "example.org", Err: ErrDNS, cause: errors.New("lookup example.org. on 127.0.0.1:53: server misbehaving")}}
	h := o.ReceivedSPF()
	assert.Contains(t, h, "problem=")
	assert.NotContains(t, h, "127.0.0.1:53")
	assert.NotContains(t, h, "misbehaving")
}
