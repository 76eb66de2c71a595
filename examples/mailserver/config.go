package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
)

// Default listener addresses: the standard ports plus 2000 (2525 for 25,
// 2587 for 587...), so that the server runs without privileges, on loopback
// only.
const (
	defaultSMTPAddr        = "127.0.0.1:2525"
	defaultSubmissionAddr  = "127.0.0.1:2587"
	defaultSubmissionsAddr = "127.0.0.1:2465"
	defaultPOP3Addr        = "127.0.0.1:2110"
	defaultPOP3SAddr       = "127.0.0.1:2995"
	defaultDataDir         = "mailserver-data"
	defaultHostname        = "localhost"
	defaultDomain          = "localhost"
)

// config is everything the command line chooses.
type config struct {
	SMTPAddr        string // MX role; "" disables
	SubmissionAddr  string // STARTTLS + AUTH; "" disables
	SubmissionsAddr string // implicit TLS + AUTH; "" disables
	POP3Addr        string // STLS; "" disables
	POP3SAddr       string // implicit TLS; "" disables

	DataDir  string
	Hostname string
	// Domains are the mail domains the server receives for. A user
	// "alice" has the address alice@D for each D.
	Domains []string
	// Users are created or updated at start ("name:password").
	Users []userSpec

	CertFile, KeyFile string
	LogLevel          slog.Level

	// TrustedNetworks are the client networks whose mail on the SMTP port
	// skips the SPF, DKIM and DMARC checks (and may relay without AUTH
	// once there is an outbound queue), as Postfix's mynetworks.
	TrustedNetworks []netip.Prefix
	// DNS is the name server ("host:port") for every lookup; "" means
	// the name servers of /etc/resolv.conf.
	DNS string
	// DKIMKeys sign submitted mail, one signature per key.
	DKIMKeys []dkimKeySpec
}

// dkimKeySpec is one -dkim-selector and -dkim-key pair.
type dkimKeySpec struct {
	Selector string
	File     string
}

// userSpec is one -user flag.
type userSpec struct {
	Name, Password string
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseFlags parses the command line arguments (without the program name).
func parseFlags(args []string, errOut io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("mailserver", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "usage: mailserver [flags]\n\n"+
			"A local mail system: SMTP (MX), submission with STARTTLS and AUTH,\n"+
			"submission over TLS, POP3 with STLS and POP3 over TLS, storing\n"+
			"mail in a Maildir per user. An empty address disables a listener.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.SMTPAddr, "smtp", defaultSMTPAddr, "SMTP `address` for incoming mail (MX role, no relaying)")
	fs.StringVar(&cfg.SubmissionAddr, "submission", defaultSubmissionAddr, "message submission `address` (STARTTLS, then AUTH)")
	fs.StringVar(&cfg.SubmissionsAddr, "submissions", defaultSubmissionsAddr, "message submission `address` over implicit TLS")
	fs.StringVar(&cfg.POP3Addr, "pop3", defaultPOP3Addr, "POP3 `address` (STLS before login)")
	fs.StringVar(&cfg.POP3SAddr, "pop3s", defaultPOP3SAddr, "POP3 `address` over implicit TLS")
	fs.StringVar(&cfg.DataDir, "data", defaultDataDir, "data `directory`: users file, certificate, Maildirs")
	fs.StringVar(&cfg.Hostname, "hostname", defaultHostname, "host `name` in greetings, trace fields and the generated certificate")
	var domains, users listFlag
	fs.Var(&domains, "domain", "mail `domain` to receive for (repeatable; default \""+defaultDomain+"\")")
	fs.Var(&users, "user", "create or update a user, `name:password` (repeatable); name may be a full address")
	fs.StringVar(&cfg.CertFile, "cert", "", "TLS certificate `file` (PEM); default: a self-signed one in the data directory")
	fs.StringVar(&cfg.KeyFile, "key", "", "TLS private key `file` (PEM), with -cert")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	var trusted, selectors, keys listFlag
	fs.Var(&trusted, "trusted-networks", "clients from these networks may relay without AUTH, as Postfix's mynetworks; default none (repeatable `CIDR`; for now their mail only skips the SPF, DKIM and DMARC checks, and they are exempt from the per-client connection and login limits)")
	fs.StringVar(&cfg.DNS, "dns", "", "the DNS server for every lookup: MX, A, AAAA, TXT, PTR (`host:port`); default the system resolver's name servers (/etc/resolv.conf)")
	fs.Var(&selectors, "dkim-selector", "DKIM `selector` of the key given by the -dkim-key at the same position (repeatable)")
	fs.Var(&keys, "dkim-key", "DKIM private key `file` (PEM, RSA or Ed25519) signing submitted mail whose From domain is a -domain (repeatable, with -dkim-selector)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("-cert and -key go together")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("-data must not be empty")
	}
	// The name goes into the greeting, EHLO replies and Received fields:
	// a space or line break there would break the protocol.
	if !validDomain(strings.ToLower(cfg.Hostname)) {
		return nil, fmt.Errorf("-hostname %q: not a host name", cfg.Hostname)
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if !validDomain(d) {
			return nil, fmt.Errorf("-domain %q: not a domain name", d)
		}
		cfg.Domains = append(cfg.Domains, d)
	}
	if len(cfg.Domains) == 0 {
		cfg.Domains = []string{defaultDomain}
	}
	for _, n := range trusted {
		for _, v := range strings.Split(n, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			p, err := netip.ParsePrefix(v)
			if err != nil {
				// A bare address is a network of one.
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return nil, fmt.Errorf("-trusted-networks %q: %w", v, err)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			cfg.TrustedNetworks = append(cfg.TrustedNetworks, p.Masked())
		}
	}
	if cfg.DNS != "" {
		if _, port, err := net.SplitHostPort(cfg.DNS); err != nil || port == "" {
			return nil, fmt.Errorf("-dns %q: want host:port", cfg.DNS)
		}
	}
	if len(selectors) != len(keys) {
		return nil, fmt.Errorf("-dkim-selector and -dkim-key go in pairs (got %d selectors and %d keys)", len(selectors), len(keys))
	}
	for i, sel := range selectors {
		if !validDomain(strings.ToLower(sel)) {
			return nil, fmt.Errorf("-dkim-selector %q: not a selector (letters, digits, hyphens and dots)", sel)
		}
		cfg.DKIMKeys = append(cfg.DKIMKeys, dkimKeySpec{Selector: sel, File: keys[i]})
	}
	for _, u := range users {
		name, pass, ok := strings.Cut(u, ":")
		if !ok || pass == "" {
			return nil, fmt.Errorf("-user %q: want name:password", name)
		}
		name = strings.ToLower(name)
		if err := validUserName(name); err != nil {
			return nil, fmt.Errorf("-user %q: %w", name, err)
		}
		cfg.Users = append(cfg.Users, userSpec{Name: name, Password: pass})
	}
	return cfg, nil
}

// validDomain accepts dot-separated labels of letters, digits and hyphens
// (RFC 5321 §4.1.2 Domain), without IDNA: use the A-label form.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validUserName accepts a local part of letters, digits and ". _ + -", or a
// full address with such a local part and a valid domain. The name is also
// a directory name under the data directory, so nothing else is allowed.
func validUserName(name string) error {
	local, domain, hasDomain := strings.Cut(name, "@")
	if hasDomain && !validDomain(domain) {
		return fmt.Errorf("bad domain %q", domain)
	}
	if local == "" || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return errors.New("bad user name")
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._+-", c) >= 0) {
			return fmt.Errorf("user name may hold only letters, digits and . _ + - (got %q)", c)
		}
	}
	return nil
}
