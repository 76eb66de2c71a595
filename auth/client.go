package auth

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// passwordMechs are the password mechanisms in the order ChooseMechanism
// prefers them. PLAIN comes before CRAM-MD5 because over TLS it is as safe
// and works with servers that store only password hashes.
var passwordMechs = []struct {
	name      string
	needsTLS  bool // sends the password itself
	needsBind bool
}{
	{"SCRAM-SHA-256-PLUS", false, true},
	{"SCRAM-SHA-1-PLUS", false, true},
	{"SCRAM-SHA-256", false, false},
	{"SCRAM-SHA-1", false, false},
	{"PLAIN", true, false},
	{"LOGIN", true, false},
	{"CRAM-MD5", false, false},
}

// ChooseMechanism returns the strongest password mechanism among offered
// (the server's list, any case) that is safe on a connection in state cs
// (nil without TLS), or "" when there is none. Without TLS, PLAIN and LOGIN
// are never chosen; -PLUS needs channel binding data from cs.
func ChooseMechanism(offered []string, cs *tls.ConnectionState) string {
	has := make(map[string]bool, len(offered))
	for _, m := range offered {
		has[strings.ToUpper(m)] = true
	}
	for _, m := range passwordMechs {
		if !has[m.name] || (m.needsTLS && cs == nil) {
			continue
		}
		if m.needsBind {
			if _, err := ClientChannelBinding(cs); err != nil {
				continue
			}
		}
		return m.name
	}
	return ""
}

// NewClient returns a client for the password mechanism mech (PLAIN, LOGIN,
// CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 or a -PLUS variant) on a connection
// in state cs (nil without TLS; SCRAM uses it for channel binding). It does
// not refuse cleartext mechanisms without TLS: that is the caller's policy.
func NewClient(mech, username, password string, cs *tls.ConnectionState) (Client, error) {
	switch m := strings.ToUpper(mech); m {
	case "PLAIN":
		return NewPlainClient("", username, password), nil
	case "LOGIN":
		return NewLoginClient(username, password), nil
	case "CRAM-MD5":
		return NewCRAMMD5Client(username, password), nil
	default:
		if strings.HasPrefix(m, "SCRAM-") {
			return NewSCRAMClient(m, username, password, cs)
		}
	}
	return nil, fmt.Errorf("%w: %q is not a password mechanism", ErrNoMechanism, mech)
}
