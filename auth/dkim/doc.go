// Package dkim signs and verifies DomainKeys Identified Mail signatures
// (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463), under the rules
// of RFC 8301.
package dkim
