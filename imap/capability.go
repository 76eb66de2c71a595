package imap

import (
	"slices"
	"strings"
)

// Capability is a capability name as listed by CAPABILITY (RFC 3501
// §7.2.1), such as "IMAP4rev1", "IDLE" or "AUTH=PLAIN".
type Capability string

// Capabilities of the base protocols and of the extensions this module
// knows.
const (
	CapIMAP4rev1       Capability = "IMAP4rev1"
	CapIMAP4rev2       Capability = "IMAP4rev2"        // RFC 9051
	CapStartTLS        Capability = "STARTTLS"         // RFC 3501 §6.2.1
	CapLoginDisabled   Capability = "LOGINDISABLED"    // RFC 3501 §6.2.3
	CapSASLIR          Capability = "SASL-IR"          // RFC 4959
	CapLiteralPlus     Capability = "LITERAL+"         // RFC 7888
	CapLiteralMinus    Capability = "LITERAL-"         // RFC 7888
	CapIdle            Capability = "IDLE"             // RFC 2177
	CapNamespace       Capability = "NAMESPACE"        // RFC 2342
	CapID              Capability = "ID"               // RFC 2971
	CapEnable          Capability = "ENABLE"           // RFC 5161
	CapUIDPlus         Capability = "UIDPLUS"          // RFC 4315
	CapUnselect        Capability = "UNSELECT"         // RFC 3691
	CapMove            Capability = "MOVE"             // RFC 6851
	CapCondStore       Capability = "CONDSTORE"        // RFC 7162
	CapQResync         Capability = "QRESYNC"          // RFC 7162
	CapBinary          Capability = "BINARY"           // RFC 3516
	CapESearch         Capability = "ESEARCH"          // RFC 4731
	CapListExtended    Capability = "LIST-EXTENDED"    // RFC 5258
	CapListStatus      Capability = "LIST-STATUS"      // RFC 5819
	CapSpecialUse      Capability = "SPECIAL-USE"      // RFC 6154
	CapChildren        Capability = "CHILDREN"         // RFC 3348
	CapUTF8Accept      Capability = "UTF8=ACCEPT"      // RFC 6855
	CapUTF8Only        Capability = "UTF8=ONLY"        // RFC 6855
	CapQuota           Capability = "QUOTA"            // RFC 9208
	CapSearchRes       Capability = "SEARCHRES"        // RFC 5182
	CapWithin          Capability = "WITHIN"           // RFC 5032
	CapAppendLimit     Capability = "APPENDLIMIT"      // RFC 7889
	CapStatusSize      Capability = "STATUS=SIZE"      // RFC 8438
	CapSaveDate        Capability = "SAVEDATE"         // RFC 8514
	CapCompressDeflate Capability = "COMPRESS=DEFLATE" // RFC 4978
)

// Capabilities is a set of capabilities. Names compare case-insensitively
// (RFC 3501 §9 capability = atom, matched without regard to case): the keys
// are held in upper case. The zero value is not usable; use
// NewCapabilities, or make(Capabilities).
type Capabilities map[string]Capability

// NewCapabilities returns a set holding caps.
func NewCapabilities(caps ...Capability) Capabilities {
	s := make(Capabilities, len(caps))
	for _, c := range caps {
		s.Add(c)
	}
	return s
}

// Add adds c to the set.
func (s Capabilities) Add(c Capability) { s[strings.ToUpper(string(c))] = c }

// Remove removes c from the set.
func (s Capabilities) Remove(c Capability) { delete(s, strings.ToUpper(string(c))) }

// Has reports whether the set holds c, ignoring case.
func (s Capabilities) Has(c Capability) bool {
	_, ok := s[strings.ToUpper(string(c))]
	return ok
}

// AuthMechanisms returns the SASL mechanisms advertised with AUTH=
// (RFC 3501 §6.2.2), in upper case, sorted.
func (s Capabilities) AuthMechanisms() []string {
	var out []string
	for k := range s {
		if m, ok := strings.CutPrefix(k, "AUTH="); ok {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// Strings returns the capabilities as sent, sorted, with IMAP4rev1 and
// IMAP4rev2 first (RFC 3501 §7.2.1 requires IMAP4rev1 to be listed).
func (s Capabilities) Strings() []string {
	out := make([]string, 0, len(s))
	for _, c := range s {
		out = append(out, string(c))
	}
	rank := func(c string) int {
		switch strings.ToUpper(c) {
		case "IMAP4REV1":
			return 0
		case "IMAP4REV2":
			return 1
		}
		return 2
	}
	slices.SortFunc(out, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out
}
