package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/auth/dmarc"
	"github.com/mailwire/mailwire/auth/spf"
	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/message/maildir"
	"github.com/mailwire/mailwire/pop3"
	"github.com/mailwire/mailwire/smtp"
)

// Listener names, as used in logs and by system.Addr.
const (
	lnSMTP        = "smtp"
	lnSubmission  = "submission"
	lnSubmissions = "submissions"
	lnPOP3        = "pop3"
	lnPOP3S       = "pop3s"
)

// saslMechanisms are the SASL mechanisms offered, on TLS connections only.
var saslMechanisms = []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"}

// certValidity is how long a generated self-signed certificate lasts.
const certValidity = 5 * 365 * 24 * time.Hour

// system is the whole mail system: the users, the TLS configuration, the
// Maildirs and the SMTP and POP3 servers over them. newSystem prepares the
// data directory; Start opens the listeners; Shutdown stops them.
type system struct {
	cfg      *config
	log      *slog.Logger
	users    *users
	tls      *tls.Config
	sasl     *auth.ServerConfig
	mailRoot string
	spoolDir string // messages being received, before delivery

	// Sender authentication on the SMTP port, and DKIM signing of
	// submissions.
	resolver dnsmx.Resolver
	spf      *spf.Checker
	dmarc    *dmarc.Checker
	dkimKeys []signingKey

	smtp  map[string]*smtp.Server
	pop3  map[string]*pop3.Server
	addrs map[string]string
	wg    sync.WaitGroup
	errc  chan error // errors of servers that stopped on their own

	mu       sync.Mutex
	maildirs map[string]*maildir.Dir // user name → its Maildir
}

// newSystem prepares the data directory: it creates it, applies the -user
// flags to the users file, creates the demo user on first start (writing its
// password to notice) and makes a self-signed certificate if there is none.
func newSystem(cfg *config, log *slog.Logger, notice io.Writer) (*system, error) {
	s := &system{
		cfg:      cfg,
		log:      log,
		mailRoot: filepath.Join(cfg.DataDir, "mail"),
		spoolDir: filepath.Join(cfg.DataDir, "spool"),
		smtp:     map[string]*smtp.Server{},
		pop3:     map[string]*pop3.Server{},
		addrs:    map[string]string{},
		errc:     make(chan error, 8),
		maildirs: map[string]*maildir.Dir{},
	}
	if err := os.MkdirAll(s.mailRoot, 0o700); err != nil {
		return nil, err
	}
	if err := s.cleanSpool(); err != nil {
		return nil, err
	}
	// One cache for SPF, DKIM and DMARC: the TXT and address records of a
	// sender's domain serve all three, and its next messages.
	var servers []string
	if cfg.DNS != "" {
		servers = []string{cfg.DNS}
	}
	s.resolver = &dnsmx.Cache{Resolver: &dnsmx.StubResolver{Servers: servers}}
	s.spf = &spf.Checker{Resolver: s.resolver, Hostname: cfg.Hostname}
	s.dmarc = &dmarc.Checker{Resolver: s.resolver}
	keys, err := loadSigningKeys(cfg.DKIMKeys)
	if err != nil {
		return nil, err
	}
	s.dkimKeys = keys
	usersPath := filepath.Join(cfg.DataDir, "users")
	_, statErr := os.Stat(usersPath)
	firstStart := errors.Is(statErr, fs.ErrNotExist)
	u, err := loadUsers(usersPath, cfg.Domains)
	if err != nil {
		return nil, err
	}
	s.users = u
	for _, us := range cfg.Users {
		if err := u.set(us.Name, us.Password); err != nil {
			return nil, err
		}
		log.Info("user set", "user", us.Name, "addresses", u.addresses(u.find(us.Name)))
	}
	if firstStart && len(cfg.Users) == 0 {
		pass := randomPassword()
		if err := u.set("demo", pass); err != nil {
			return nil, err
		}
		fmt.Fprintf(notice, "First start: created user %q with password %s\n", "demo", pass)
		fmt.Fprintf(notice, "Its address is %s. The password is shown only this once.\n", u.addresses(u.find("demo"))[0])
	}
	if firstStart || len(cfg.Users) > 0 {
		if err := u.save(); err != nil {
			return nil, fmt.Errorf("writing users file: %w", err)
		}
	}
	cert, err := s.certificate(notice)
	if err != nil {
		return nil, err
	}
	s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.sasl = &auth.ServerConfig{
		Credentials: u.credentials(),
		// The users file holds what these need and nothing for SCRAM-SHA-1
		// or bearer tokens, which would always fail.
		Allowed:     saslMechanisms,
		Certificate: cert.Leaf,
	}
	return s, nil
}

// certificate loads -cert and -key, or the certificate in the data
// directory, generating a self-signed one on first start.
func (s *system) certificate(notice io.Writer) (tls.Certificate, error) {
	certFile, keyFile := s.cfg.CertFile, s.cfg.KeyFile
	if certFile == "" {
		dir := filepath.Join(s.cfg.DataDir, "tls")
		certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		_, err := os.Stat(certFile)
		regen := errors.Is(err, fs.ErrNotExist)
		if !regen {
			if why := s.staleCertificate(certFile, keyFile); why != "" {
				fmt.Fprintf(notice, "Replacing the self-signed certificate %s: %s\n", certFile, why)
				regen = true
			}
		}
		if regen {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return tls.Certificate{}, err
			}
			hosts := []string{s.cfg.Hostname, "localhost", "127.0.0.1", "::1"}
			certPEM, keyPEM, err := selfSigned(hosts, certValidity)
			if err != nil {
				return tls.Certificate{}, err
			}
			// The key first: a certificate without its key would not load.
			if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
				return tls.Certificate{}, err
			}
			if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
				return tls.Certificate{}, err
			}
			fmt.Fprintf(notice, "Generated a self-signed certificate for %s: %s\n", s.cfg.Hostname, certFile)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading certificate: %w", err)
	}
	if now := time.Now(); now.After(cert.Leaf.NotAfter) {
		s.log.Warn("the TLS certificate has expired: clients will refuse it", "file", certFile, "not_after", cert.Leaf.NotAfter)
	} else if now.Add(30 * 24 * time.Hour).After(cert.Leaf.NotAfter) {
		s.log.Warn("the TLS certificate expires soon", "file", certFile, "not_after", cert.Leaf.NotAfter)
	}
	return cert, nil
}

// staleCertificate says why the generated certificate in the data
// directory must be made again ("" when it is fine): it has expired or
// expires within a day, or it does not name -hostname (which changed since
// it was made). A certificate someone put there by hand (not self-signed)
// is left alone, as is one that does not load (the load reports that).
func (s *system) staleCertificate(certFile, keyFile string) string {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return ""
	}
	c := pair.Leaf
	if c.CheckSignatureFrom(c) != nil {
		return ""
	}
	switch {
	case time.Now().Add(24 * time.Hour).After(c.NotAfter):
		return "it expires on " + c.NotAfter.UTC().Format(time.DateOnly)
	case c.VerifyHostname(s.cfg.Hostname) != nil:
		return "it does not name " + s.cfg.Hostname
	}
	return ""
}

// Start opens every configured listener and serves it. If one cannot be
// opened, those already open are closed and the error returned.
func (s *system) Start() error {
	type listener struct {
		name, addr  string
		implicitTLS bool
		serve       func(net.Listener) error
	}
	var ls []listener
	add := func(name, addr string, implicitTLS bool, serve func(net.Listener) error) {
		if addr != "" {
			ls = append(ls, listener{name, addr, implicitTLS, serve})
		}
	}
	mx := s.newSMTPServer(lnSMTP, false)
	sub := s.newSMTPServer(lnSubmission, true)
	subs := s.newSMTPServer(lnSubmissions, true)
	p := s.newPOP3Server(lnPOP3)
	ps := s.newPOP3Server(lnPOP3S)
	add(lnSMTP, s.cfg.SMTPAddr, false, mx.Serve)
	add(lnSubmission, s.cfg.SubmissionAddr, false, sub.Serve)
	add(lnSubmissions, s.cfg.SubmissionsAddr, true, subs.Serve)
	add(lnPOP3, s.cfg.POP3Addr, false, p.Serve)
	add(lnPOP3S, s.cfg.POP3SAddr, true, ps.Serve)

	var opened []net.Listener
	for _, l := range ls {
		nl, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, o := range opened {
				o.Close()
			}
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
		opened = append(opened, nl)
		s.addrs[l.name] = nl.Addr().String()
	}
	// Register the servers only once every listener is open, so that
	// Shutdown waits for exactly the servers that run.
	servers := map[string]any{lnSMTP: mx, lnSubmission: sub, lnSubmissions: subs, lnPOP3: p, lnPOP3S: ps}
	for i, l := range ls {
		switch srv := servers[l.name].(type) {
		case *smtp.Server:
			s.smtp[l.name] = srv
		case *pop3.Server:
			s.pop3[l.name] = srv
		}
		var nl net.Listener = &logListener{Listener: opened[i], log: s.log.With("listener", l.name)}
		if l.implicitTLS {
			nl = tls.NewListener(nl, s.tls)
		}
		s.log.Info("listening", "listener", l.name, "addr", s.addrs[l.name], "implicit_tls", l.implicitTLS)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := l.serve(nl)
			if !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, pop3.ErrServerClosed) {
				s.log.Error("listener stopped", "listener", l.name, "err", err)
				s.errc <- fmt.Errorf("%s: %w", l.name, err)
			}
		}()
	}
	return nil
}

// Addr returns the address the named listener listens on, "" when it is
// disabled.
func (s *system) Addr(name string) string { return s.addrs[name] }

// Err delivers the error of a listener that stopped by itself.
func (s *system) Err() <-chan error { return s.errc }

// Shutdown stops all servers gracefully: transactions in progress finish,
// idle SMTP connections get 421, POP3 sessions end without deleting
// anything. When ctx ends first, the remaining SMTP connections, a
// transaction stuck in DATA included, get 421 and all are closed.
func (s *system) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.smtp)+len(s.pop3))
	for name, srv := range s.smtp {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	for name, srv := range s.pop3 {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	wg.Wait()
	s.wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// maildir returns the Maildir of usr, creating it on first use, and again
// when someone removed it while the server runs (mail then arrives in a new,
// empty Maildir rather than failing until a restart).
func (s *system) maildir(usr *user) (*maildir.Dir, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.mailRoot, usr.Name)
	if d := s.maildirs[usr.Name]; d != nil {
		if maildirComplete(path) {
			return d, nil
		}
		s.log.Warn("Maildir missing, creating it again", "user", usr.Name, "path", path)
	}
	d, err := maildir.Create(path)
	if err != nil {
		return nil, err
	}
	// Remove deliveries a crash abandoned in tmp long ago.
	if n, err := d.CleanTmp(0); err != nil {
		s.log.Warn("cleaning tmp", "user", usr.Name, "err", err)
	} else if n > 0 {
		s.log.Info("removed abandoned deliveries", "user", usr.Name, "count", n)
	}
	s.maildirs[usr.Name] = d
	return d, nil
}

// maildirComplete reports whether path still has its tmp, new and cur.
func maildirComplete(path string) bool {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if fi, err := os.Stat(filepath.Join(path, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// logListener logs each connection it accepts and, when it is closed, how
// long it lasted.
type logListener struct {
	net.Listener
	log *slog.Logger
}

func (l *logListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.log.Info("connection", "remote", c.RemoteAddr().String())
	return &logConn{Conn: c, log: l.log, start: time.Now()}, nil
}

type logConn struct {
	net.Conn
	log   *slog.Logger
	start time.Time
	once  sync.Once
}

func (c *logConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.log.Info("connection closed", "remote", c.RemoteAddr().String(), "duration", time.Since(c.start).Round(time.Millisecond))
	})
	return err
}

// cleanSpool creates the spool directory, or empties it of the messages a
// previous run was receiving when it stopped: none of them got 250, so
// their senders still have them.
func (s *system) cleanSpool() error {
	if err := os.MkdirAll(s.spoolDir, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(s.spoolDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(s.spoolDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// junk returns the Junk folder of the Maildir d (Maildir++ ".Junk"),
// creating it when it is missing.
func (s *system) junk(d *maildir.Dir) (*maildir.Dir, error) {
	f, err := d.Folder(junkFolder)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = d.CreateFolder(junkFolder)
		if errors.Is(err, fs.ErrExist) {
			// Another delivery created it meanwhile.
			f, err = d.Folder(junkFolder)
		}
	}
	return f, err
}
