package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// run drives a client against a server as a protocol package would,
// returning the first error of either side.
func run(c Client, s Server) error {
	mech, ir, err := c.Start()
	if err != nil {
		return err
	}
	_ = mech
	resp := ir
	for i := 0; i < 10; i++ {
		chal, done, err := s.Next(context.Background(), resp)
		if err != nil {
			return err
		}
		if done {
			if len(chal) > 0 {
				// Additional data with success: the client must check it.
				if _, err := c.Next(chal); err != nil {
					return err
				}
			}
			// RFC 5802 §5: a SCRAM client accepts success only with the
			// server's proof.
			if f, ok := c.(Completer); ok {
				return f.Complete()
			}
			return nil
		}
		resp, err = c.Next(chal)
		if err != nil {
			return err
		}
	}
	return errors.New("exchange did not end")
}

func testStore(t testing.TB) *MemoryStore {
	t.Helper()
	st := NewMemoryStore()
	require.NoError(t, st.SetPassword("tim", "tanstaaftanstaaf"))
	require.NoError(t, st.SetPassword("user", "pencil"))
	st.AddToken("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==")
	return st
}
