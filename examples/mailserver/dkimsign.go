package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/mailwire/mailwire/auth/dkim"
	"github.com/mailwire/mailwire/message"
)

// signingKey is one -dkim-selector and its loaded -dkim-key.
type signingKey struct {
	selector string
	key      crypto.Signer
}

// loadSigningKeys reads the -dkim-key files and checks that each key can
// sign (RFC 8301: RSA of at least 1024 bits, or Ed25519).
func loadSigningKeys(specs []dkimKeySpec) ([]signingKey, error) {
	var keys []signingKey
	for _, spec := range specs {
		key, err := readPrivateKey(spec.File)
		if err != nil {
			return nil, fmt.Errorf("-dkim-key %s: %w", spec.File, err)
		}
		// NewSigner checks the selector, the key type and its size.
		if _, err := dkim.NewSigner(&dkim.SignOptions{Domain: "example.org", Selector: spec.Selector, Key: key}); err != nil {
			return nil, fmt.Errorf("-dkim-key %s: %w", spec.File, err)
		}
		keys = append(keys, signingKey{selector: spec.Selector, key: key})
	}
	return keys, nil
}

// readPrivateKey reads a PEM private key: PKCS #8 ("PRIVATE KEY", RSA or
// Ed25519, as openssl genpkey writes it) or PKCS #1 ("RSA PRIVATE KEY", as
// opendkim-genkey writes it).
func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				return k, nil
			case ed25519.PrivateKey:
				return k, nil
			default:
				return nil, fmt.Errorf("unsupported key type %T: DKIM signs with RSA or Ed25519", k)
			}
		}
	}
}

// newSigner returns a Signer making one signature per -dkim-key with d= the
// author's domain, or nil when there are no keys or the author's domain
// (the From field of the header peeked at) is not one of -domain.
func (s *session) newSigner(peek []byte) (*dkim.Signer, string) {
	if len(s.sys.dkimKeys) == 0 {
		return nil, ""
	}
	h, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(peek)), message.Limits{})
	if err != nil {
		return nil, ""
	}
	domain, err := authorDomain(h, nil)
	if err != nil || !slices.Contains(s.sys.cfg.Domains, domain) {
		s.log.Info("not DKIM-signed", "reason", "From domain is not a local domain", "from_domain", domain)
		return nil, ""
	}
	var opts []*dkim.SignOptions
	for _, k := range s.sys.dkimKeys {
		opts = append(opts, &dkim.SignOptions{Domain: domain, Selector: k.selector, Key: k.key})
	}
	sg, err := dkim.NewSigner(opts...)
	if err != nil {
		s.log.Error("DKIM signer", "err", err)
		return nil, ""
	}
	return sg, domain
}
