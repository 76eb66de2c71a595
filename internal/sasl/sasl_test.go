package sasl

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
)

// script is a Transport that answers challenges from a list.
type script struct {
	lines      []string
	challenges [][]byte
	err        error
}

func (s *script) Challenge(data []byte) (string, error) {
	s.challenges = append(s.challenges, data)
	if len(s.lines) == 0 {
		if s.err != nil {
			return "", s.err
		}
		return "", ConnError(errors.New("EOF"))
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	return l, nil
}

// hook serves PLAIN and LOGIN from a memory store, plus mechanisms that
// misbehave.
type hook struct {
	store *auth.MemoryStore
	mechs []string
	err   error
}

func (h hook) SASLMechanisms() []string { return h.mechs }

func (h hook) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	if h.err != nil {
		return nil, h.err
	}
	switch mech {
	case "ENDLESS":
		return endless{}, nil
	case "WITHDATA":
		return withData{}, nil
	}
	return auth.NewServer(mech, h.store, nil)
}

// endless challenges forever.
type endless struct{}

func (endless) Next(context.Context, []byte) ([]byte, bool, error) { return []byte("more"), false, nil }
func (endless) Identity() string                                   { return "" }

// withData succeeds at once with additional data.
type withData struct{}

func (withData) Next(context.Context, []byte) ([]byte, bool, error) { return []byte("bye"), true, nil }
func (withData) Identity() string                                   { return "data-user" }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestExchange(t *testing.T) {
	store := auth.NewMemoryStore()
	require.NoError(t, store.SetPassword("tim", "tanstaaftanstaaf"))
	h := hook{store: store, mechs: []string{"PLAIN", "LOGIN", "ENDLESS", "WITHDATA"}}
	tests := []struct {
		name       string
		h          Hook
		insecure   bool
		mech, ir   string
		hasIR      bool
		lines      []string
		lineErr    error
		id         string
		outcome    Outcome
		challenges int
	}{
		{name: "PLAIN with initial response", mech: "PLAIN", ir: b64("\x00tim\x00tanstaaftanstaaf"), hasIR: true, id: "tim"},
		{name: "lower-case mechanism name", mech: "plain", ir: b64("\x00tim\x00tanstaaftanstaaf"), hasIR: true, id: "tim"},
		{name: "PLAIN after an empty challenge", mech: "PLAIN", lines: []string{b64("\x00tim\x00tanstaaftanstaaf")}, id: "tim", challenges: 1},
		{name: "LOGIN in two rounds", mech: "LOGIN", lines: []string{b64("tim"), b64("tanstaaftanstaaf")}, id: "tim", challenges: 2},
		{name: "wrong password", mech: "PLAIN", ir: b64("\x00tim\x00wrong"), hasIR: true, outcome: Failed},
		{name: "cancel", mech: "LOGIN", lines: []string{"*"}, outcome: Cancelled, challenges: 1},
		{name: "bad base64 initial response", mech: "PLAIN", ir: "!!!", hasIR: true, outcome: Syntax},
		{name: "base64 with stray characters", mech: "LOGIN", lines: []string{b64("tim") + " "}, outcome: Syntax, challenges: 1},
		{name: "empty initial response", mech: "PLAIN", ir: "=", hasIR: true, outcome: Syntax},
		{name: "unknown mechanism", mech: "X-NONE", outcome: NoMechanism},
		{name: "empty mechanism", mech: "", outcome: NoMechanism},
		{name: "cleartext refused", mech: "PLAIN", insecure: true, outcome: Insecure},
		{name: "bounded rounds", mech: "ENDLESS", lines: make([]string, 100), outcome: Syntax, challenges: DefaultMaxRounds},
		{name: "line too long", mech: "LOGIN", lineErr: ErrLineTooLong, outcome: TooLong, challenges: 1},
		{name: "connection lost", mech: "LOGIN", outcome: Closed, challenges: 1},
		{name: "success with data, empty answer", mech: "WITHDATA", lines: []string{""}, id: "data-user", challenges: 1},
		{name: "success with data, = answer", mech: "WITHDATA", lines: []string{"="}, id: "data-user", challenges: 1},
		{name: "success with data, data answer", mech: "WITHDATA", lines: []string{b64("x")}, outcome: Syntax, challenges: 1},
		{name: "backend failure", h: hook{mechs: []string{"PLAIN"}, err: errors.New("db down")}, mech: "PLAIN", outcome: Temporary},
		{name: "mechanism unknown to auth", h: hook{store: store, mechs: []string{"X-NONE"}}, mech: "X-NONE", outcome: NoMechanism},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			tr := &script{lines: tt.lines, err: tt.lineErr}
			hk := tt.h
			if hk == nil {
				hk = h
			}
			x := Exchange{Hook: hk, Transport: tr, Secure: !tt.insecure, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			id, err := x.Run(t.Context(), tt.mech, tt.ir, tt.hasIR)
			assert.Equal(t, tt.outcome, Classify(err), "err: %v", err)
			assert.Equal(t, tt.id, id)
			assert.Len(t, tr.challenges, tt.challenges)
			if tt.outcome == OK {
				assert.Contains(t, logs.String(), "user="+tt.id)
			} else if tt.outcome != Closed {
				assert.Contains(t, logs.String(), "authentication")
			}
		})
	}
}

func TestExchangeInsecureAllowed(t *testing.T) {
	store := auth.NewMemoryStore()
	require.NoError(t, store.SetPassword("tim", "pw"))
	x := Exchange{Hook: hook{store: store, mechs: []string{"PLAIN"}}, Transport: &script{}, AllowInsecure: true}
	id, err := x.Run(t.Context(), "PLAIN", b64("\x00tim\x00pw"), true)
	require.NoError(t, err)
	assert.Equal(t, "tim", id)
}

func TestDecode(t *testing.T) {
	for in, want := range map[string]string{"=": "", "": "", "YQ==": "a"} {
		got, err := Decode(in)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
		assert.NotNil(t, got)
	}
	for _, bad := range []string{"YQ", "Y Q==", "YQ==YQ==", "*"} {
		_, err := Decode(bad)
		assert.ErrorIs(t, err, ErrBadBase64, bad)
	}
}
