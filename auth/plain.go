package auth

import (
	"bytes"
	"context"
	"unicode/utf8"
)

// PlainClient is the client side of PLAIN (RFC 4616).
type PlainClient struct {
	Authzid  string // authorization identity; empty to act as Username
	Username string
	Password string
}

// NewPlainClient returns a PLAIN client. authzid is usually empty.
func NewPlainClient(authzid, username, password string) *PlainClient {
	return &PlainClient{Authzid: authzid, Username: username, Password: password}
}

// Start implements Client. PLAIN always sends its message as the initial
// response.
func (c *PlainClient) Start() (string, []byte, error) {
	if err := checkPlainField("authzid", c.Authzid, true); err != nil {
		return "", nil, err
	}
	if err := checkPlainField("authcid", c.Username, false); err != nil {
		return "", nil, err
	}
	if err := checkPlainField("passwd", c.Password, false); err != nil {
		return "", nil, err
	}
	// RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
	b := make([]byte, 0, len(c.Authzid)+len(c.Username)+len(c.Password)+2)
	b = append(b, c.Authzid...)
	b = append(b, 0)
	b = append(b, c.Username...)
	b = append(b, 0)
	b = append(b, c.Password...)
	return "PLAIN", b, nil
}

// Next implements Client. PLAIN has no challenges; a server that sends one
// is answered with ErrUnexpected.
func (c *PlainClient) Next(challenge []byte) ([]byte, error) {
	return nil, unexpected("PLAIN")
}

func checkPlainField(name, v string, optional bool) error {
	// RFC 4616 §2: each field is 1 to 255 octets of UTF-8 without NUL.
	if v == "" && optional {
		return nil
	}
	if v == "" || len(v) > 255 || !utf8.ValidString(v) || bytes.IndexByte([]byte(v), 0) >= 0 {
		return malformed("PLAIN", "%s must be 1 to 255 bytes of UTF-8 without NUL", name)
	}
	return nil
}

// PlainServer is the server side of PLAIN (RFC 4616).
type PlainServer struct {
	creds PasswordChecker
	// MaxSize limits the client's message (0 means DefaultMaxSize).
	MaxSize  int
	step     int
	identity string
}

// NewPlainServer returns a PLAIN server checking passwords with creds. When
// creds also implements Authorizer it decides on authorization identities
// that differ from the user name; otherwise they are refused.
func NewPlainServer(creds PasswordChecker) *PlainServer {
	return &PlainServer{creds: creds}
}

// Next implements Server.
func (s *PlainServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch {
	case s.step == 0 && resp == nil:
		// RFC 4616 §2: no initial response: send an empty challenge.
		s.step = 1
		return []byte{}, false, nil
	case s.step >= 2:
		return nil, true, unexpected("PLAIN")
	}
	s.step = 2
	if len(resp) > maxOr(s.MaxSize) {
		return nil, true, tooLong("PLAIN", len(resp), maxOr(s.MaxSize))
	}
	f := bytes.Split(resp, []byte{0})
	if len(f) != 3 {
		return nil, true, malformed("PLAIN", "want authzid NUL authcid NUL passwd")
	}
	authzid, authcid, passwd := string(f[0]), string(f[1]), string(f[2])
	for _, v := range []struct {
		name, v string
		opt     bool
	}{{"authzid", authzid, true}, {"authcid", authcid, false}, {"passwd", passwd, false}} {
		if err := checkPlainField(v.name, v.v, v.opt); err != nil {
			return nil, true, err
		}
	}
	if err := credErr("PLAIN", s.creds.CheckPassword(ctx, authcid, passwd)); err != nil {
		return nil, true, err
	}
	id, err := authorize(ctx, "PLAIN", s.creds, authcid, authzid)
	if err != nil {
		return nil, true, err
	}
	s.identity = id
	return nil, true, nil
}

// Identity implements Server.
func (s *PlainServer) Identity() string { return s.identity }
