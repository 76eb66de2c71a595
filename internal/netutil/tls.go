package netutil

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// ErrNoCertificate is returned by ImplicitTLS for a configuration that has no
// way to get a certificate.
var ErrNoCertificate = errors.New("no TLS certificate: give the certificate and key files or set TLSConfig")

// secure returns a clone of base (an empty config when nil) with MinVersion
// TLS 1.2 when base leaves it unset. A version the caller chose explicitly
// is kept: the rule is the same for STARTTLS and implicit TLS.
func secure(base *tls.Config) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// ServerTLS is a server's TLS configuration, cloned once from the one the
// application set, so that every connection shares its session ticket keys.
// The zero value is ready to use.
type ServerTLS struct {
	once sync.Once
	cfg  *tls.Config
}

// Config returns the server configuration derived from base, which must be
// the same on every call: a clone, with MinVersion TLS 1.2 when base leaves
// it unset. It returns nil when base is nil.
func (s *ServerTLS) Config(base *tls.Config) *tls.Config {
	if base == nil {
		return nil
	}
	s.once.Do(func() { s.cfg = secure(base) })
	return s.cfg
}

// Handshake runs the server side of a TLS handshake on tc, bounded by
// timeout (none when it is not positive) and by ctx.
func Handshake(ctx context.Context, tc *tls.Conn, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return tc.HandshakeContext(ctx)
}

// StartTLS wraps nc in TLS with cfg and runs the handshake (see Handshake).
func StartTLS(ctx context.Context, nc net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	tc := tls.Server(nc, cfg)
	if err := Handshake(ctx, tc, timeout); err != nil {
		return nil, err
	}
	return tc, nil
}

// ImplicitTLS returns the configuration of a listener that speaks TLS from the
// first byte (RFC 8314 §3.3): a clone of base (an empty one when nil) with the
// certificate and key read from the PEM files when either is named, and
// MinVersion TLS 1.2 unless base sets it. A configuration without any
// certificate fails here, when the server starts, rather than in every
// handshake.
func ImplicitTLS(base *tls.Config, certFile, keyFile string) (*tls.Config, error) {
	cfg := secure(base)
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return nil, ErrNoCertificate
	}
	return cfg, nil
}
