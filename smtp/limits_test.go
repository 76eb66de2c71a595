package smtp

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
)

// TestLimitsRule checks every field for its zero value (the default), a
// negative value (no limit, or the hard maximum of a memory bound) and an
// explicit value.
func TestLimitsRule(t *testing.T) {
	tests := []struct {
		name             string
		set              func(*Limits, int)
		get              func(*Limits) int64
		def, neg, hardUp int64 // hardUp: the value past the hard maximum becomes, 0 when none
	}{
		{"ReadTimeout", func(l *Limits, v int) { l.ReadTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.ReadTimeout) }, int64(DefaultReadTimeout), 0, 0},
		{"DataTimeout", func(l *Limits, v int) { l.DataTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.DataTimeout) }, int64(DefaultDataTimeout), 0, 0},
		{"WriteTimeout", func(l *Limits, v int) { l.WriteTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.WriteTimeout) }, int64(DefaultWriteTimeout), 0, 0},
		{"TLSHandshakeTimeout", func(l *Limits, v int) { l.TLSHandshakeTimeout = time.Duration(v) }, func(l *Limits) int64 { return int64(l.TLSHandshakeTimeout) }, int64(DefaultTLSHandshakeTimeout), 0, 0},
		{"MaxMessageBytes", func(l *Limits, v int) { l.MaxMessageBytes = int64(v) }, func(l *Limits) int64 { return l.MaxMessageBytes }, DefaultMaxMessageBytes, 0, 0},
		{"MaxRecipients", func(l *Limits, v int) { l.MaxRecipients = v }, func(l *Limits) int64 { return int64(l.MaxRecipients) }, DefaultMaxRecipients, HardMaxRecipients, HardMaxRecipients},
		{"MaxLineLength", func(l *Limits, v int) { l.MaxLineLength = v }, func(l *Limits) int64 { return int64(l.MaxLineLength) }, DefaultMaxLineLength, HardMaxLineLength, HardMaxLineLength},
		{"MaxConnections", func(l *Limits, v int) { l.MaxConnections = v }, func(l *Limits) int64 { return int64(l.MaxConnections) }, DefaultMaxConnections, 0, 0},
		{"MaxErrors", func(l *Limits, v int) { l.MaxErrors = v }, func(l *Limits) int64 { return int64(l.MaxErrors) }, DefaultMaxErrors, 0, 0},
		{"MaxJunkCommands", func(l *Limits, v int) { l.MaxJunkCommands = v }, func(l *Limits) int64 { return int64(l.MaxJunkCommands) }, DefaultMaxJunkCommands, 0, 0},
		{"MaxAuthFailures", func(l *Limits, v int) { l.MaxAuthFailures = v }, func(l *Limits) int64 { return int64(l.MaxAuthFailures) }, DefaultMaxAuthFailures, 0, 0},
		{"MaxConnectionsPerClient", func(l *Limits, v int) { l.MaxConnectionsPerClient = v }, func(l *Limits) int64 { return int64(l.MaxConnectionsPerClient) }, DefaultMaxConnectionsPerClient, 0, 0},
		{"MaxAuthFailuresPerClient", func(l *Limits, v int) { l.MaxAuthFailuresPerClient = v }, func(l *Limits) int64 { return int64(l.MaxAuthFailuresPerClient) }, DefaultMaxAuthFailuresPerClient, 0, 0},
		{"AuthFailureWindow", func(l *Limits, v int) { l.AuthFailureWindow = time.Duration(v) }, func(l *Limits) int64 { return int64(l.AuthFailureWindow) }, int64(DefaultAuthFailureWindow), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Limits
			l = l.withDefaults()
			assert.Equal(t, tt.def, tt.get(&l), "zero: the default")
			l = Limits{}
			tt.set(&l, -1)
			l = l.withDefaults()
			assert.Equal(t, tt.neg, tt.get(&l), "negative: no limit (0 inside the server) or the hard maximum")
			l = Limits{}
			tt.set(&l, 7)
			l = l.withDefaults()
			assert.Equal(t, int64(7), tt.get(&l), "explicit")
			if tt.hardUp != 0 {
				l = Limits{}
				tt.set(&l, int(tt.hardUp)+1)
				l = l.withDefaults()
				assert.Equal(t, tt.hardUp, tt.get(&l), "clamped to the hard maximum")
			}
		})
	}
}

// TestMaxAuthFailures: the third failed AUTH closes the connection with 421
// by default; a negative value never does.
func TestMaxAuthFailures(t *testing.T) {
	users := auth.NewMemoryStore()
	require.NoError(t, users.SetPassword("u", "p"))
	wrong := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u\x00wrong"))

	_, _, addr := newTestServerWith(t, &recorder{users: users}, func(s *Server) { s.AllowInsecureAuth = true })
	c := rawGreet(t, addr)
	c.cmd("EHLO c.test", 250)
	c.cmd(wrong, 535)
	c.cmd(wrong, 535)
	c.send(wrong + "\r\n")
	c.expect(535)
	r := c.expect(421)
	assert.Equal(t, EnhancedCode{4, 7, 0}, r.EnhancedCode)

	_, _, addr = newTestServerWith(t, &recorder{users: users}, func(s *Server) {
		s.AllowInsecureAuth = true
		s.Limits.MaxAuthFailures = -1
		s.Limits.MaxErrors = -1
	})
	c = rawGreet(t, addr)
	c.cmd("EHLO c.test", 250)
	for range 2*DefaultMaxAuthFailures + 1 {
		c.cmd(wrong, 535)
	}
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00u\x00p")), 235)
}
