package auth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// ServerConfig chooses and creates server mechanisms for a protocol server
// (SMTP AUTH, POP3 AUTH, IMAP AUTHENTICATE). The zero value serves nothing;
// set Credentials. NewServer and Mechanisms are shorthands for a
// ServerConfig holding only Credentials.
type ServerConfig struct {
	// Credentials implements any of PasswordChecker, SCRAMStore,
	// CRAMMD5Store, TokenVerifier, ExternalAuthorizer and AnonymousPolicy
	// (and optionally Authorizer); see the list at PasswordChecker.
	Credentials any
	// Allowed, when not nil, restricts the mechanisms offered to these
	// names (the store can hold, say, only hashes, so CRAM-MD5 would always
	// fail).
	Allowed []string
	// AllowCleartext lets Mechanisms list PLAIN, LOGIN, OAUTHBEARER and
	// XOAUTH2 on connections without TLS. Leave it false except for tests
	// and trusted networks: those mechanisms send a reusable secret.
	AllowCleartext bool
	// Certificate is the server's own leaf certificate (for a tls.Config
	// with one certificate, Certificates[0].Leaf). A TLS 1.2 connection
	// state does not hold it, and SCRAM -PLUS needs it there for the
	// tls-server-end-point channel binding (RFC 5929 §4): without it the
	// -PLUS mechanisms are not offered on TLS 1.2. With it, tls-unique is
	// accepted too. TLS 1.3 uses tls-exporter (RFC 9266) and needs nothing.
	Certificate *x509.Certificate
	// MaxSize limits each client message (0 means DefaultMaxSize).
	MaxSize int
}

// mechanism table, strongest first: the order Mechanisms lists them in.
var mechanisms = []struct {
	name      string
	cleartext bool // sends a reusable secret: needs TLS
	plus      bool // needs channel binding
}{
	{"SCRAM-SHA-256-PLUS", false, true},
	{"SCRAM-SHA-1-PLUS", false, true},
	{"SCRAM-SHA-256", false, false},
	{"SCRAM-SHA-1", false, false},
	{"EXTERNAL", false, false},
	{"OAUTHBEARER", true, false},
	{"XOAUTH2", true, false},
	{"CRAM-MD5", false, false},
	{"PLAIN", true, false},
	{"LOGIN", true, false},
	{"ANONYMOUS", false, false},
}

// serves reports whether the config can serve mech on connection cs.
func (c *ServerConfig) serves(mech string, cs *tls.ConnectionState) bool {
	if c.Allowed != nil && !slices.Contains(c.Allowed, mech) {
		return false
	}
	if h, ok := c.Credentials.(CredentialHolder); ok {
		switch base := strings.TrimSuffix(mech, "-PLUS"); base {
		case "EXTERNAL", "ANONYMOUS":
		default:
			if !h.HasCredentials(base) {
				return false
			}
		}
	}
	switch mech {
	case "PLAIN", "LOGIN":
		_, ok := c.Credentials.(PasswordChecker)
		return ok
	case "CRAM-MD5":
		_, ok := c.Credentials.(CRAMMD5Store)
		return ok
	case "SCRAM-SHA-1", "SCRAM-SHA-256":
		_, ok := c.Credentials.(SCRAMStore)
		return ok
	case "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS":
		_, ok := c.Credentials.(SCRAMStore)
		return ok && len(serverBindings(cs, c.Certificate)) > 0
	case "OAUTHBEARER", "XOAUTH2":
		_, ok := c.Credentials.(TokenVerifier)
		return ok
	case "EXTERNAL":
		_, ok := c.Credentials.(ExternalAuthorizer)
		return ok && cs != nil && len(cs.PeerCertificates) > 0
	case "ANONYMOUS":
		_, ok := c.Credentials.(AnonymousPolicy)
		return ok
	}
	return false
}

// Mechanisms returns the names of the mechanisms the config can serve on a
// connection in state cs (nil for one without TLS), strongest first, for
// the server to advertise. Without TLS, those that send a reusable secret
// are left out unless AllowCleartext is set.
func (c *ServerConfig) Mechanisms(cs *tls.ConnectionState) []string {
	var names []string
	for _, m := range mechanisms {
		if m.cleartext && cs == nil && !c.AllowCleartext {
			continue
		}
		if c.serves(m.name, cs) {
			names = append(names, m.name)
		}
	}
	return names
}

// NewServer returns a new server for one exchange of mechanism mech
// (case-insensitive) on a connection in state cs (nil for one without TLS).
// It returns an error wrapping ErrNoMechanism when the mechanism is unknown
// or the credentials cannot serve it. It does not apply the cleartext
// policy of Mechanisms: the protocol server refuses what it did not
// advertise.
func (c *ServerConfig) NewServer(mech string, cs *tls.ConnectionState) (Server, error) {
	mech = strings.ToUpper(mech)
	if !c.serves(mech, cs) {
		return nil, fmt.Errorf("%w: %q", ErrNoMechanism, mech)
	}
	creds := c.Credentials
	switch mech {
	case "PLAIN":
		s := NewPlainServer(creds.(PasswordChecker))
		s.MaxSize = c.MaxSize
		return s, nil
	case "LOGIN":
		s := NewLoginServer(creds.(PasswordChecker))
		s.MaxSize = c.MaxSize
		return s, nil
	case "CRAM-MD5":
		s := NewCRAMMD5Server(creds.(CRAMMD5Store))
		s.MaxSize = c.MaxSize
		return s, nil
	case "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS":
		var bindings map[string][]byte
		// RFC 5802 §6: a plain SCRAM server refuses the "y" flag only when
		// it advertised the -PLUS variant, which Allowed may leave out.
		if strings.HasSuffix(mech, "-PLUS") || c.serves(mech+"-PLUS", cs) {
			bindings = serverBindings(cs, c.Certificate)
		}
		s, err := NewSCRAMServer(mech, creds.(SCRAMStore), bindings)
		if err != nil {
			return nil, err
		}
		s.MaxSize = c.MaxSize
		return s, nil
	case "OAUTHBEARER":
		s := NewOAuthBearerServer(creds.(TokenVerifier))
		s.MaxSize = c.MaxSize
		return s, nil
	case "XOAUTH2":
		s := NewXOAuth2Server(creds.(TokenVerifier))
		s.MaxSize = c.MaxSize
		return s, nil
	case "EXTERNAL":
		return NewExternalServer(creds.(ExternalAuthorizer), cs), nil
	case "ANONYMOUS":
		return NewAnonymousServer(creds.(AnonymousPolicy)), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNoMechanism, mech)
}

// NewServer returns a server for one exchange of mech, using creds (see
// ServerConfig.Credentials) on a connection in state cs (nil without TLS).
// Protocol servers call it for each AUTH command.
func NewServer(mech string, creds any, cs *tls.ConnectionState) (Server, error) {
	c := ServerConfig{Credentials: creds}
	return c.NewServer(mech, cs)
}

// Mechanisms returns the mechanisms creds can serve on a connection in state
// cs (nil without TLS), strongest first, leaving out those that send a
// reusable secret when there is no TLS. See ServerConfig.Mechanisms.
func Mechanisms(creds any, cs *tls.ConnectionState) []string {
	c := ServerConfig{Credentials: creds}
	return c.Mechanisms(cs)
}

// serverBindings returns the bindings the factory offers: on TLS 1.2 only
// when tls-server-end-point is possible, since that is what our clients (and
// RFC 5929 §4's robustness) call for there; a server advertising -PLUS
// with tls-unique alone would fail them and wrongly flag their "y".
func serverBindings(cs *tls.ConnectionState, cert *x509.Certificate) map[string][]byte {
	b := ServerChannelBindings(cs, cert)
	if cs != nil && cs.Version < tls.VersionTLS13 && b[TLSServerEndPoint] == nil {
		return nil
	}
	return b
}
