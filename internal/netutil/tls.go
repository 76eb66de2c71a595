package netutil

import (
	"crypto/tls"
	"errors"
)

// ErrNoCertificate is returned by ImplicitTLS for a configuration that has no
// way to get a certificate.
var ErrNoCertificate = errors.New("no TLS certificate: give the certificate and key files or set TLSConfig")

// ImplicitTLS returns the configuration of a listener that speaks TLS from the
// first byte (RFC 8314 §3.3): a clone of base (an empty one when nil) with the
// certificate and key read from the PEM files when either is named, and TLS
// 1.2 at least. A configuration without any certificate fails here, when the
// server starts, rather than in every handshake.
func ImplicitTLS(base *tls.Config, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
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
