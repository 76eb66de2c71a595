package netutil

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/selfsigned"
)

func TestImplicitTLS(t *testing.T) {
	certPEM, keyPEM, err := selfsigned.Generate([]string{"localhost"}, time.Hour)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))

	_, err = ImplicitTLS(nil, "", "")
	require.ErrorIs(t, err, ErrNoCertificate)

	_, err = ImplicitTLS(nil, certFile, filepath.Join(dir, "missing.pem"))
	require.Error(t, err)

	cfg, err := ImplicitTLS(nil, certFile, keyFile)
	require.NoError(t, err)
	assert.Len(t, cfg.Certificates, 1)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)

	// The caller's configuration is cloned, never changed; an unset
	// minimum version becomes TLS 1.2, an explicit one is kept.
	base := &tls.Config{ServerName: "kept"}
	cfg, err = ImplicitTLS(base, certFile, keyFile)
	require.NoError(t, err)
	assert.Equal(t, "kept", cfg.ServerName)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Zero(t, base.MinVersion)
	assert.Empty(t, base.Certificates)
	cfg, err = ImplicitTLS(&tls.Config{MinVersion: tls.VersionTLS13}, certFile, keyFile)
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS13), cfg.MinVersion)

	// A configuration that finds its certificate itself needs no files.
	cfg, err = ImplicitTLS(&tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }}, "", "")
	require.NoError(t, err)
	assert.NotNil(t, cfg.GetCertificate)
}

func TestServerTLS(t *testing.T) {
	var st ServerTLS
	assert.Nil(t, st.Config(nil))
	base := &tls.Config{ServerName: "x"}
	cfg := st.Config(base)
	require.NotNil(t, cfg)
	assert.NotSame(t, base, cfg)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Same(t, cfg, st.Config(base), "cloned once")
	assert.Zero(t, base.MinVersion)

	var kept ServerTLS
	assert.Equal(t, uint16(tls.VersionTLS11), kept.Config(&tls.Config{MinVersion: tls.VersionTLS11}).MinVersion)
}
