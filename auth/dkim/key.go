package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// MinRSAKeyBits is the smallest RSA key a verifier accepts and a signer
// uses (RFC 8301 §3.2: at least 1024 bits; 2048 recommended for signers).
const MinRSAKeyBits = 1024

// KeyRecord is a parsed DKIM key record, the TXT record at
// selector._domainkey.domain (RFC 6376 §3.6.1, RFC 8463 §4.2).
type KeyRecord struct {
	Version        string           // v=; "" when absent, else "DKIM1"
	HashAlgorithms []string         // h=; nil means any
	KeyType        string           // k=; "rsa" when absent, or "ed25519"
	Notes          string           // n=
	PublicKey      crypto.PublicKey // *rsa.PublicKey or ed25519.PublicKey; nil when revoked
	Revoked        bool             // p= is empty: the key has been revoked
	Services       []string         // s=; nil means "*"
	Flags          []string         // t=, as written
	Extra          []Tag            // unknown tags, in order
}

// Testing reports the t=y flag: the domain is testing DKIM, and verifiers
// must not treat a failed signature differently from an unsigned message.
func (k *KeyRecord) Testing() bool { return slices.Contains(k.Flags, "y") }

// Strict reports the t=s flag: the i= domain must be d= exactly, not a
// subdomain of it.
func (k *KeyRecord) Strict() bool { return slices.Contains(k.Flags, "s") }

// Bits returns the RSA modulus size, or 256 for Ed25519, or 0.
func (k *KeyRecord) Bits() int {
	switch p := k.PublicKey.(type) {
	case *rsa.PublicKey:
		return p.N.BitLen()
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

// ParseKeyRecord parses a key record (RFC 6376 §3.6.1): a tag-list in
// which v=, if present, must come first and be DKIM1, and p= is required.
// p= holds a SubjectPublicKeyInfo for k=rsa (a bare PKCS#1 RSAPublicKey,
// which some publish, is accepted too) and the 32 raw bytes for
// k=ed25519 (RFC 8463 §4.2). An empty p= means the key was revoked. It
// does not check the RSA key size (Verify does). Errors are *SyntaxError.
func ParseKeyRecord(txt string) (*KeyRecord, error) {
	const what = "key record"
	tags, err := parseTagList(what, txt)
	if err != nil {
		return nil, err
	}
	k := &KeyRecord{KeyType: "rsa"}
	synErr := func(tag, msg string) error {
		return &SyntaxError{What: what, Tag: tag, Offset: tagOffset(txt, tag), Msg: msg}
	}
	var p string
	hasP := false
	for i, t := range tags {
		switch t.Name {
		case "v":
			if i != 0 {
				return nil, synErr("v", "v= must be the first tag")
			}
			if t.Value != "DKIM1" {
				return nil, synErr("v", "version must be DKIM1")
			}
			k.Version = t.Value
		case "h":
			k.HashAlgorithms = splitList(t.Value, ':')
		case "k":
			k.KeyType = strings.ToLower(t.Value)
		case "n":
			k.Notes = t.Value
		case "p":
			p, hasP = removeWS(t.Value), true
		case "s":
			k.Services = splitList(t.Value, ':')
		case "t":
			k.Flags = splitList(t.Value, ':')
		default:
			k.Extra = append(k.Extra, t)
		}
	}
	if !hasP {
		return nil, &SyntaxError{What: what, Tag: "p", Offset: len(txt), Msg: "required tag missing"}
	}
	if p == "" {
		k.Revoked = true
		return k, nil
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, synErr("p", "invalid base64")
	}
	switch k.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			if rk, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
				pub = rk
			} else {
				return nil, synErr("p", "not an RSA public key: "+err.Error())
			}
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, synErr("p", fmt.Sprintf("k=rsa but p= holds a %T", pub))
		}
		k.PublicKey = rk
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return nil, synErr("p", fmt.Sprintf("ed25519 key of %d bytes, want %d", len(der), ed25519.PublicKeySize))
		}
		k.PublicKey = ed25519.PublicKey(der)
	default:
		return nil, synErr("k", "unknown key type "+k.KeyType)
	}
	return k, nil
}

// String formats the record for publication in DNS: "v=DKIM1; k=...;
// p=...", with h=, n=, s= and t= when set. Split it into strings of at
// most 255 bytes for the zone file; resolvers join them again.
func (k *KeyRecord) String() string {
	var b strings.Builder
	b.WriteString("v=DKIM1")
	if k.HashAlgorithms != nil {
		b.WriteString("; h=" + strings.Join(k.HashAlgorithms, ":"))
	}
	kt := k.KeyType
	if kt == "" {
		kt = keyTypeOf(k.PublicKey)
	}
	b.WriteString("; k=" + kt)
	if k.Notes != "" {
		b.WriteString("; n=" + k.Notes)
	}
	if k.Services != nil {
		b.WriteString("; s=" + strings.Join(k.Services, ":"))
	}
	if k.Flags != nil {
		b.WriteString("; t=" + strings.Join(k.Flags, ":"))
	}
	for _, t := range k.Extra {
		b.WriteString("; " + t.Name + "=" + t.Value)
	}
	b.WriteString("; p=")
	if !k.Revoked && k.PublicKey != nil {
		b.WriteString(base64.StdEncoding.EncodeToString(publicKeyBytes(k.PublicKey)))
	}
	return b.String()
}

// NewKeyRecord returns the key record publishing pub, an *rsa.PublicKey or
// ed25519.PublicKey (or the Public() of a signer's key).
func NewKeyRecord(pub crypto.PublicKey) (*KeyRecord, error) {
	kt := keyTypeOf(pub)
	if kt == "" {
		return nil, fmt.Errorf("dkim: unsupported public key type %T", pub)
	}
	return &KeyRecord{Version: "DKIM1", KeyType: kt, PublicKey: pub}, nil
}

func keyTypeOf(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "rsa"
	case ed25519.PublicKey:
		return "ed25519"
	}
	return ""
}

func publicKeyBytes(pub crypto.PublicKey) []byte {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return p
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err == nil {
			return der
		}
	}
	return nil
}
