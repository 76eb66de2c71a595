package auth

import (
	"encoding/json"
)

// OAuthError is the error a TokenVerifier returns to describe a rejected
// token; OAUTHBEARER and XOAUTH2 servers send it to the client as the JSON
// object of RFC 7628 §3.2.2. It counts as an authentication failure.
type OAuthError struct {
	Status              string `json:"status"`                         // e.g. "invalid_token"
	Scope               string `json:"scope,omitempty"`                // scope the token needs
	OpenIDConfiguration string `json:"openid-configuration,omitempty"` // discovery URL
}

func (e *OAuthError) Error() string {
	return "auth: OAuth error " + e.Status
}

// Is makes an *OAuthError match ErrAuthFailed.
func (e *OAuthError) Is(target error) bool { return target == ErrAuthFailed }

func (e *OAuthError) json() []byte {
	if e.Status == "" {
		e = &OAuthError{Status: "invalid_token", Scope: e.Scope, OpenIDConfiguration: e.OpenIDConfiguration}
	}
	b, _ := json.Marshal(e)
	return b
}
