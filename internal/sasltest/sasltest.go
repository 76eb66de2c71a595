// Package sasltest has SASL mechanisms for the protocol packages' tests:
// ones that show what the protocol layer passed through, rather than check
// credentials.
package sasltest

import (
	"context"
	"errors"
	"sync"

	"github.com/mailwire/mailwire/auth"
)

// Mechanism is the name of the test mechanism.
const Mechanism = "X-EMPTY"

// EmptyServer is the server side of a mechanism that succeeds on an empty
// response. It records every response it is given, so that a test can tell
// an empty initial response ([]byte{}) from none (nil). Without an initial
// response it asks for one with an empty challenge.
type EmptyServer struct {
	// ID is the identity a successful exchange authenticates.
	ID string

	mu    sync.Mutex
	resps [][]byte
}

// Next implements auth.Server.
func (s *EmptyServer) Next(_ context.Context, resp []byte) ([]byte, bool, error) {
	s.mu.Lock()
	s.resps = append(s.resps, resp)
	n := len(s.resps)
	s.mu.Unlock()
	if resp == nil && n == 1 {
		return []byte{}, false, nil
	}
	if len(resp) != 0 {
		return nil, true, auth.ErrAuthFailed
	}
	return nil, true, nil
}

// Identity implements auth.Server.
func (s *EmptyServer) Identity() string { return s.ID }

// Responses returns the responses Next was given, in order.
func (s *EmptyServer) Responses() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.resps...)
}

// EmptyClient is the client side: an empty initial response.
type EmptyClient struct{}

// Start implements auth.Client.
func (EmptyClient) Start() (string, []byte, error) { return Mechanism, []byte{}, nil }

// Next implements auth.Client.
func (EmptyClient) Next([]byte) ([]byte, error) {
	return nil, errors.New("sasltest: no challenge expected")
}
