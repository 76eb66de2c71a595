package auth

import (
	"context"
	"crypto/tls"
	"strings"
	"unicode/utf8"
)

// ExternalClient is the client side of EXTERNAL (RFC 4422 Appendix A): the
// client is authenticated by other means, usually a TLS client certificate.
type ExternalClient struct {
	Authzid string // identity to act as; empty for the one the certificate implies
}

// NewExternalClient returns an EXTERNAL client.
func NewExternalClient(authzid string) *ExternalClient { return &ExternalClient{Authzid: authzid} }

// Start implements Client. The initial response is the authorization
// identity, empty (not absent) when there is none.
func (c *ExternalClient) Start() (string, []byte, error) {
	if !utf8.ValidString(c.Authzid) || strings.IndexByte(c.Authzid, 0) >= 0 {
		return "", nil, malformed("EXTERNAL", "bad authzid")
	}
	return "EXTERNAL", []byte(c.Authzid), nil
}

// Next implements Client.
func (c *ExternalClient) Next(challenge []byte) ([]byte, error) {
	return nil, unexpected("EXTERNAL")
}

// maxExternal limits EXTERNAL's authorization identity, in bytes.
const maxExternal = 1024

// ExternalServer is the server side of EXTERNAL. The authorization identity
// is limited to 1024 bytes.
type ExternalServer struct {
	auth     ExternalAuthorizer
	cs       *tls.ConnectionState
	step     int
	identity string
}

// NewExternalServer returns an EXTERNAL server for the connection cs, asking
// auth who the client is.
func NewExternalServer(auth ExternalAuthorizer, cs *tls.ConnectionState) *ExternalServer {
	return &ExternalServer{auth: auth, cs: cs}
}

// Next implements Server.
func (s *ExternalServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch {
	case s.step == 0 && resp == nil:
		s.step = 1
		return []byte{}, false, nil
	case s.step >= 2:
		return nil, true, unexpected("EXTERNAL")
	}
	s.step = 2
	// RFC 4422 Appendix A.1: message = [ authz-id-string ], UTF-8 without NUL.
	if len(resp) > maxExternal {
		return nil, true, tooLong("EXTERNAL", len(resp), maxExternal)
	}
	if !utf8.Valid(resp) || strings.IndexByte(string(resp), 0) >= 0 {
		return nil, true, malformed("EXTERNAL", "bad authzid")
	}
	if s.cs == nil || len(s.cs.PeerCertificates) == 0 {
		return nil, true, failed("EXTERNAL", "no client certificate")
	}
	id, err := s.auth.AuthorizeExternal(ctx, s.cs, string(resp))
	if err != nil {
		return nil, true, credErr("EXTERNAL", err)
	}
	if id == "" {
		return nil, true, failed("EXTERNAL", "no identity")
	}
	s.identity = id
	return nil, true, nil
}

// Identity implements Server.
func (s *ExternalServer) Identity() string { return s.identity }

// AnonymousClient is the client side of ANONYMOUS (RFC 4505).
type AnonymousClient struct {
	Trace string // optional trace information, e.g. an email address
}

// NewAnonymousClient returns an ANONYMOUS client.
func NewAnonymousClient(trace string) *AnonymousClient { return &AnonymousClient{Trace: trace} }

// Start implements Client.
func (c *AnonymousClient) Start() (string, []byte, error) {
	if err := checkTrace([]byte(c.Trace)); err != nil {
		return "", nil, err
	}
	return "ANONYMOUS", []byte(c.Trace), nil
}

// Next implements Client.
func (c *AnonymousClient) Next(challenge []byte) ([]byte, error) {
	return nil, unexpected("ANONYMOUS")
}

func checkTrace(b []byte) error {
	// RFC 4505 §2: up to 255 UTF-8 characters, no NUL (SASLprep'd, which
	// we do not check).
	if !utf8.Valid(b) || utf8.RuneCount(b) > 255 || strings.IndexByte(string(b), 0) >= 0 {
		return malformed("ANONYMOUS", "trace must be at most 255 UTF-8 characters without NUL")
	}
	return nil
}

// AnonymousServer is the server side of ANONYMOUS. Trace information is
// limited to 255 characters (RFC 4505 §2).
type AnonymousServer struct {
	policy   AnonymousPolicy
	step     int
	trace    string
	identity string
}

// NewAnonymousServer returns an ANONYMOUS server deciding with policy.
func NewAnonymousServer(policy AnonymousPolicy) *AnonymousServer {
	return &AnonymousServer{policy: policy}
}

// Next implements Server.
func (s *AnonymousServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch {
	case s.step == 0 && resp == nil:
		s.step = 1
		return []byte{}, false, nil
	case s.step >= 2:
		return nil, true, unexpected("ANONYMOUS")
	}
	s.step = 2
	if len(resp) > 4*255 {
		return nil, true, tooLong("ANONYMOUS", len(resp), 4*255)
	}
	if err := checkTrace(resp); err != nil {
		return nil, true, err
	}
	s.trace = string(resp)
	id, err := s.policy.AllowAnonymous(ctx, s.trace)
	if err != nil {
		return nil, true, credErr("ANONYMOUS", err)
	}
	s.identity = id
	return nil, true, nil
}

// Trace returns the client's trace information.
func (s *AnonymousServer) Trace() string { return s.trace }

// Identity implements Server.
func (s *AnonymousServer) Identity() string { return s.identity }
