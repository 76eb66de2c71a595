package auth

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/internal/peer"
)

type tlsConn struct {
	client, server *tls.ConnectionState
	cert           *x509.Certificate // the server's leaf
}

// handshake makes a TLS connection of the given version over loopback TCP
// and returns both ends' connection states. clientCert asks for a client
// certificate (for EXTERNAL).
func handshake(t *testing.T, version uint16, clientCert bool) tlsConn {
	t.Helper()
	pair, _ := peer.TLS(t)
	scfg, ccfg := pair.Server.Clone(), pair.Client.Clone()
	scfg.MinVersion, scfg.MaxVersion = version, version
	if clientCert {
		scfg.ClientAuth = tls.RequireAnyClientCert
		ccfg.Certificates = scfg.Certificates
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		sc := tls.Server(c, scfg)
		err = sc.Handshake()
		done <- result{sc.ConnectionState(), err}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
	require.NoError(t, err)
	defer c.Close()
	r := <-done
	require.NoError(t, r.err)
	ccs := c.ConnectionState()
	require.Equal(t, version, ccs.Version)
	leaf, err := x509.ParseCertificate(scfg.Certificates[0].Certificate[0])
	require.NoError(t, err)
	return tlsConn{client: &ccs, server: &r.cs, cert: leaf}
}

func TestChannelBindingData(t *testing.T) {
	c13 := handshake(t, tls.VersionTLS13, false)
	cb, err := ClientChannelBinding(c13.client)
	require.NoError(t, err)
	assert.Equal(t, TLSExporter, cb.Type)
	assert.Len(t, cb.Data, 32)
	sb := ServerChannelBindings(c13.server, c13.cert)
	assert.Equal(t, map[string][]byte{TLSExporter: cb.Data}, sb)

	c12 := handshake(t, tls.VersionTLS12, false)
	cb, err = ClientChannelBinding(c12.client)
	require.NoError(t, err)
	assert.Equal(t, TLSServerEndPoint, cb.Type)
	assert.Len(t, cb.Data, 32) // ECDSA with SHA-256
	sb = ServerChannelBindings(c12.server, c12.cert)
	assert.Equal(t, cb.Data, sb[TLSServerEndPoint])
	assert.Equal(t, c12.client.TLSUnique, sb[TLSUnique])
	assert.NotContains(t, ServerChannelBindings(c12.server, nil), TLSServerEndPoint)

	assert.Nil(t, ServerChannelBindings(nil, nil))
	_, err = ClientChannelBinding(nil)
	assert.Error(t, err)
	// A hand-made state cannot export keying material: no panic, no binding.
	fake := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	_, err = ClientChannelBinding(fake)
	assert.Error(t, err)
	assert.Nil(t, ServerChannelBindings(fake, nil))
}

func TestSCRAMPlus(t *testing.T) {
	st := testStore(t)
	for _, tc := range []struct {
		name    string
		version uint16
	}{{"TLS1.3 tls-exporter", tls.VersionTLS13}, {"TLS1.2 tls-server-end-point", tls.VersionTLS12}} {
		t.Run(tc.name, func(t *testing.T) {
			conn := handshake(t, tc.version, false)
			cfg := ServerConfig{Credentials: st, Certificate: conn.cert}
			mechs := cfg.Mechanisms(conn.server)
			require.Equal(t, []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1"}, mechs[:4])
			for _, mech := range []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"} {
				c, err := NewSCRAMClient(mech, "user", "pencil", conn.client)
				require.NoError(t, err)
				s, err := cfg.NewServer(mech, conn.server)
				require.NoError(t, err)
				require.NoError(t, run(c, s), mech)
				assert.Equal(t, "user", s.Identity())

				// Binding data from another connection: a man in the middle.
				other := handshake(t, tc.version, false)
				c, err = NewSCRAMClient(mech, "user", "pencil", other.client)
				require.NoError(t, err)
				s, err = cfg.NewServer(mech, conn.server)
				require.NoError(t, err)
				err = run(c, s)
				var se *SCRAMError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "channel-bindings-dont-match", se.Value)
				require.ErrorIs(t, err, ErrAuthFailed)
			}

			// The plain mechanism with flag "y" on a connection that offers
			// binding is a downgrade.
			c, err := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", conn.client)
			require.NoError(t, err)
			s, err := cfg.NewServer("SCRAM-SHA-256", conn.server)
			require.NoError(t, err)
			var se *SCRAMError
			require.ErrorAs(t, run(c, s), &se)
			assert.Equal(t, "server-does-support-channel-binding", se.Value)
			// ... but fine where the server cannot bind.
			c, _ = NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", conn.client)
			s, err = NewServer("SCRAM-SHA-256", st, nil)
			require.NoError(t, err)
			require.NoError(t, run(c, s))
			// A -PLUS server refuses a client that does not bind.
			c, _ = NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
			s, _ = cfg.NewServer("SCRAM-SHA-256-PLUS", conn.server)
			require.ErrorAs(t, run(c, s), &se)
			assert.Equal(t, "channel-binding-not-supported", se.Value)
		})
	}

	// TLS 1.2 without the server certificate: no -PLUS from the factory,
	// and the "y" flag is not taken for a downgrade.
	conn := handshake(t, tls.VersionTLS12, false)
	assert.NotContains(t, Mechanisms(st, conn.server), "SCRAM-SHA-256-PLUS")
	_, err := NewServer("SCRAM-SHA-256-PLUS", st, conn.server)
	assert.ErrorIs(t, err, ErrNoMechanism)
	c, err := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", conn.client)
	require.NoError(t, err)
	s, err := NewServer("SCRAM-SHA-256", st, conn.server)
	require.NoError(t, err)
	require.NoError(t, run(c, s))
	// tls-unique, with the certificate given or with NewSCRAMServer.
	cfg := ServerConfig{Credentials: st, Certificate: conn.cert}
	for _, s := range []func() (Server, error){
		func() (Server, error) { return cfg.NewServer("SCRAM-SHA-256-PLUS", conn.server) },
		func() (Server, error) {
			return NewSCRAMServer("SCRAM-SHA-256-PLUS", st, ServerChannelBindings(conn.server, nil))
		},
	} {
		c, err = NewSCRAMClientBinding("SHA-256", "user", "pencil", ChannelBinding{TLSUnique, conn.client.TLSUnique})
		require.NoError(t, err)
		srv, err := s()
		require.NoError(t, err)
		require.NoError(t, run(c, srv))
	}
	// A client asking for a type the server lacks.
	c, _ = NewSCRAMClient("SCRAM-SHA-256-PLUS", "user", "pencil", conn.client)
	srv, err := NewSCRAMServer("SCRAM-SHA-256-PLUS", st, ServerChannelBindings(conn.server, nil))
	require.NoError(t, err)
	var se *SCRAMError
	require.ErrorAs(t, run(c, srv), &se)
	assert.Equal(t, "unsupported-channel-binding-type", se.Value)

	// No TLS: no -PLUS.
	_, err = NewServer("SCRAM-SHA-256-PLUS", st, nil)
	assert.ErrorIs(t, err, ErrNoMechanism)
	assert.NotContains(t, Mechanisms(st, nil), "SCRAM-SHA-256-PLUS")
}

// RFC 5929 §4.1: the certificate's signature hash, SHA-256 for MD5 and SHA-1.
func TestEndPointBindingHash(t *testing.T) {
	raw := []byte("certificate DER")
	tests := []struct {
		alg  x509.SignatureAlgorithm
		size int
	}{
		{x509.MD5WithRSA, 32}, {x509.SHA1WithRSA, 32}, {x509.ECDSAWithSHA1, 32},
		{x509.SHA256WithRSA, 32}, {x509.ECDSAWithSHA256, 32}, {x509.SHA256WithRSAPSS, 32},
		{x509.SHA384WithRSA, 48}, {x509.ECDSAWithSHA384, 48}, {x509.SHA384WithRSAPSS, 48},
		{x509.SHA512WithRSA, 64}, {x509.ECDSAWithSHA512, 64}, {x509.SHA512WithRSAPSS, 64},
		{x509.PureEd25519, 32},
	}
	for _, tt := range tests {
		d, err := EndPointBinding(&x509.Certificate{Raw: raw, SignatureAlgorithm: tt.alg})
		require.NoError(t, err, tt.alg)
		assert.Len(t, d, tt.size, tt.alg)
	}
	_, err := EndPointBinding(&x509.Certificate{Raw: raw, SignatureAlgorithm: x509.UnknownSignatureAlgorithm})
	assert.Error(t, err)
}
