package auth

import "context"

// LoginClient is the client side of LOGIN, the obsolete mechanism of
// draft-murchison-sasl-login that many servers and clients still offer. It
// answers the first challenge with the user name and the second with the
// password, whatever the challenges say.
type LoginClient struct {
	Username string
	Password string
	step     int
}

// NewLoginClient returns a LOGIN client.
func NewLoginClient(username, password string) *LoginClient {
	return &LoginClient{Username: username, Password: password}
}

// Start implements Client. LOGIN sends no initial response.
func (c *LoginClient) Start() (string, []byte, error) {
	c.step = 0
	return "LOGIN", nil, nil
}

// Next implements Client.
func (c *LoginClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	switch c.step {
	case 1:
		return []byte(c.Username), nil
	case 2:
		return []byte(c.Password), nil
	}
	return nil, unexpected("LOGIN")
}

// LoginServer is the server side of LOGIN. It prompts "Username:" and
// "Password:", the prompts clients expect. An initial response, which some
// clients send, is taken as the user name.
type LoginServer struct {
	creds PasswordChecker
	// MaxSize limits each client message (0 means DefaultMaxSize).
	MaxSize  int
	step     int
	user     string
	identity string
}

// NewLoginServer returns a LOGIN server checking passwords with creds.
func NewLoginServer(creds PasswordChecker) *LoginServer {
	return &LoginServer{creds: creds}
}

// Next implements Server.
func (s *LoginServer) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if len(resp) > maxOr(s.MaxSize) {
		s.step = 3
		return nil, true, tooLong("LOGIN", len(resp), maxOr(s.MaxSize))
	}
	switch s.step {
	case 0:
		if resp == nil {
			s.step = 1
			return []byte("Username:"), false, nil
		}
		s.step = 1
		fallthrough
	case 1:
		if len(resp) == 0 || len(resp) > 255 {
			s.step = 3
			return nil, true, malformed("LOGIN", "user name must be 1 to 255 bytes")
		}
		s.user = string(resp)
		s.step = 2
		return []byte("Password:"), false, nil
	case 2:
		s.step = 3
		if len(resp) == 0 {
			return nil, true, malformed("LOGIN", "empty password")
		}
		if err := credErr("LOGIN", s.creds.CheckPassword(ctx, s.user, string(resp))); err != nil {
			return nil, true, err
		}
		s.identity = s.user
		return nil, true, nil
	}
	return nil, true, unexpected("LOGIN")
}

// Identity implements Server.
func (s *LoginServer) Identity() string { return s.identity }
