package auth

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Channel binding types (RFC 5056) usable with the SCRAM -PLUS mechanisms.
const (
	// TLSExporter is the TLS 1.3 channel binding of RFC 9266: 32 bytes of
	// keying material exported with the label "EXPORTER-Channel-Binding".
	TLSExporter = "tls-exporter"
	// TLSServerEndPoint is RFC 5929 §4: a hash of the server's certificate.
	TLSServerEndPoint = "tls-server-end-point"
	// TLSUnique is RFC 5929 §3: the first Finished message of a TLS 1.2
	// handshake. It is the RFC 5802 default, but RFC 9266 retires it, and it
	// does not exist in TLS 1.3.
	TLSUnique = "tls-unique"
)

// ChannelBinding is channel binding data of a given type.
type ChannelBinding struct {
	Type string
	Data []byte
}

// ClientChannelBinding returns the channel binding a client uses on the TLS
// connection cs: tls-exporter on TLS 1.3 (RFC 9266) and tls-server-end-point
// (RFC 5929 §4) on TLS 1.2, from the server's certificate.
func ClientChannelBinding(cs *tls.ConnectionState) (*ChannelBinding, error) {
	if cs == nil || !cs.HandshakeComplete {
		return nil, errors.New("auth: channel binding needs a completed TLS handshake")
	}
	if cs.Version >= tls.VersionTLS13 {
		d, err := exporterBinding(cs)
		if err != nil {
			return nil, err
		}
		return &ChannelBinding{Type: TLSExporter, Data: d}, nil
	}
	if len(cs.PeerCertificates) == 0 {
		return nil, errors.New("auth: no server certificate for tls-server-end-point")
	}
	d, err := EndPointBinding(cs.PeerCertificates[0])
	if err != nil {
		return nil, err
	}
	return &ChannelBinding{Type: TLSServerEndPoint, Data: d}, nil
}

func exporterBinding(cs *tls.ConnectionState) (b []byte, err error) {
	// A ConnectionState not made by crypto/tls (a test's literal) panics.
	defer func() {
		if recover() != nil {
			b, err = nil, errors.New("auth: connection state cannot export keying material")
		}
	}()
	// RFC 9266 §2: label "EXPORTER-Channel-Binding", no context, 32 bytes.
	return cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
}

// EndPointBinding returns the tls-server-end-point binding data of a server
// certificate (RFC 5929 §4.1): its hash under the hash function of its
// signature algorithm, SHA-256 when that is MD5 or SHA-1. For Ed25519
// certificates, which RFC 5929 does not cover, it uses SHA-256 as other
// implementations do.
func EndPointBinding(cert *x509.Certificate) ([]byte, error) {
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256,
		x509.PureEd25519:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = crypto.SHA512
	default:
		return nil, fmt.Errorf("auth: no tls-server-end-point hash for %v", cert.SignatureAlgorithm)
	}
	if h == crypto.SHA256 {
		s := sha256.Sum256(cert.Raw)
		return s[:], nil
	}
	m := h.New()
	m.Write(cert.Raw)
	return m.Sum(nil), nil
}

// ServerChannelBindings returns the channel bindings a server can verify on
// the TLS connection cs, by type: tls-exporter on TLS 1.3; on TLS 1.2
// tls-unique when the connection state has it, and tls-server-end-point when
// cert, the server's own leaf certificate, is given (a server's connection
// state does not hold it). It returns nil when cs is nil.
func ServerChannelBindings(cs *tls.ConnectionState, cert *x509.Certificate) map[string][]byte {
	if cs == nil || !cs.HandshakeComplete {
		return nil
	}
	m := make(map[string][]byte)
	if cs.Version >= tls.VersionTLS13 {
		if d, err := exporterBinding(cs); err == nil {
			m[TLSExporter] = d
		}
	} else {
		if len(cs.TLSUnique) > 0 {
			m[TLSUnique] = cs.TLSUnique
		}
		if cert != nil {
			if d, err := EndPointBinding(cert); err == nil {
				m[TLSServerEndPoint] = d
			}
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
