package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
)

// With no flags, `go run ./examples/mailserver` gets the documented
// defaults: loopback listeners on the standard ports plus 2000.
func TestFlagDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, &config{
		SMTPAddr:        "127.0.0.1:2525",
		SubmissionAddr:  "127.0.0.1:2587",
		SubmissionsAddr: "127.0.0.1:2465",
		POP3Addr:        "127.0.0.1:2110",
		POP3SAddr:       "127.0.0.1:2995",
		DataDir:         "mailserver-data",
		Hostname:        "localhost",
		Domains:         []string{"localhost"},
		LogLevel:        slog.LevelInfo,
	}, cfg)
}

func TestFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{
		"-smtp", "", "-pop3s=", "-submission", "127.0.0.1:1587",
		"-domain", "Example.ORG.", "-domain", "example.net",
		"-user", "Alice:pa:ss", "-user", "bob@example.com:x",
		"-data", "/tmp/d", "-hostname", "mx.example.org",
		"-cert", "c.pem", "-key", "k.pem", "-log-level", "debug",
		"-trusted-networks", "192.0.2.0/24", "-trusted-networks", "2001:db8::1/64,10.1.2.3",
		"-dns", "127.0.0.1:5353",
		"-dkim-selector", "rsa", "-dkim-key", "rsa.pem", "-dkim-selector", "ed", "-dkim-key", "ed.pem",
	}, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, cfg.SMTPAddr, "an empty address disables the listener")
	assert.Empty(t, cfg.POP3SAddr)
	assert.Equal(t, "127.0.0.1:1587", cfg.SubmissionAddr)
	assert.Equal(t, "127.0.0.1:2465", cfg.SubmissionsAddr)
	assert.Equal(t, []string{"example.org", "example.net"}, cfg.Domains)
	assert.Equal(t, []userSpec{{"alice", "pa:ss"}, {"bob@example.com", "x"}}, cfg.Users)
	assert.Equal(t, slog.LevelDebug, cfg.LogLevel)
	assert.Equal(t, "c.pem", cfg.CertFile)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("2001:db8::/64"),
		netip.MustParsePrefix("10.1.2.3/32"),
	}, cfg.TrustedNetworks, "repeatable, comma-separated, masked; an address is a network of one")
	assert.Equal(t, "127.0.0.1:5353", cfg.DNS)
	assert.Equal(t, []dkimKeySpec{{"rsa", "rsa.pem"}, {"ed", "ed.pem"}}, cfg.DKIMKeys)

	for _, bad := range [][]string{
		{"-user", "alice"},
		{"-user", "alice:"},
		{"-user", "../etc:x"},
		{"-user", ".hidden:x"},
		{"-user", "a/b:x"},
		{"-user", "a@bad_domain:x"},
		{"-domain", "not a domain"},
		{"-domain", ""},
		{"-cert", "c.pem"},
		{"-log-level", "loud"},
		{"-data", ""},
		{"-hostname", ""},
		{"-hostname", "mx.example.org\r\n250 injected"},
		{"-hostname", "two words"},
		{"extra"},
		{"-nosuchflag"},
		{"-trusted-networks", "not-a-network"},
		{"-trusted-networks", "192.0.2.0/33"},
		{"-dns", "127.0.0.1"},
		{"-dkim-selector", "s1"},
		{"-dkim-key", "k.pem"},
		{"-dkim-selector", "bad selector", "-dkim-key", "k.pem"},
	} {
		_, err := parseFlags(bad, io.Discard)
		assert.Error(t, err, "%q", bad)
	}
}

func TestUsersFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users")
	u, err := loadUsers(path, []string{"a.test", "b.test"})
	require.NoError(t, err)
	require.NoError(t, u.set("alice", "pw1"))
	require.NoError(t, u.set("bob@c.test", "pw2"))
	require.NoError(t, u.save())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	u, err = loadUsers(path, []string{"a.test", "b.test"})
	require.NoError(t, err)
	alice := u.lookupLogin("alice")
	require.NotNil(t, alice)
	assert.Same(t, alice, u.lookupAddr("ALICE@b.test"))
	assert.Same(t, alice, u.lookupLogin("alice@a.test"), "an address is a login name too")
	assert.Nil(t, u.lookupAddr("alice@c.test"))
	assert.Same(t, u.lookupLogin("bob@c.test"), u.lookupAddr("bob@c.test"))
	assert.Nil(t, u.lookupAddr("bob@a.test"), "a full-address user has that address only")
	assert.True(t, u.localDomain("C.test"))
	assert.False(t, u.localDomain("d.test"))

	// Each mechanism's credentials survive the round trip.
	require.NoError(t, u.store.CheckPassword(context.Background(), "alice", "pw1"))
	require.ErrorIs(t, u.store.CheckPassword(context.Background(), "alice", "pw2"), auth.ErrAuthFailed)
	k, err := u.store.CRAMMD5Key(context.Background(), "alice@b.test")
	require.NoError(t, err)
	assert.Equal(t, auth.NewCRAMMD5Key("pw1"), k)
	_, err = u.store.SCRAMKeys(context.Background(), "SHA-256", "bob@c.test")
	require.NoError(t, err)

	// Updating a password keeps the other users and replaces the file.
	require.NoError(t, u.set("alice", "new"))
	require.NoError(t, u.save())
	u, err = loadUsers(path, []string{"a.test"})
	require.NoError(t, err)
	require.NoError(t, u.store.CheckPassword(context.Background(), "alice", "new"))
	require.NoError(t, u.store.CheckPassword(context.Background(), "bob@c.test", "pw2"))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	// The hash field is what auth.MemoryStore.ReadUsers reads too.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	ms := auth.NewMemoryStore()
	require.NoError(t, ms.ReadUsers(strings.NewReader(string(data))))
	require.NoError(t, ms.CheckPassword(context.Background(), "alice", "new"))
}

func TestUsersFileErrors(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"no hash":      "alice\n",
		"bad hash":     "alice:$scram-sha-256$nope\n",
		"bad cram":     "alice:" + mustHash(t) + ":{CRAM-MD5}zz\n",
		"bad name":     "../x:" + mustHash(t) + "\n",
		"twice":        "a:" + mustHash(t) + "\na:" + mustHash(t) + "\n",
		"extra fields": "a:" + mustHash(t) + ":x:y\n",
		"long line":    "a:" + strings.Repeat("x", auth.MaxUsersLine+1) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			_, err := loadUsers(path, []string{"a.test"})
			assert.Error(t, err)
		})
	}
}

func mustHash(t *testing.T) string {
	h, err := auth.HashPassword("pw", 0)
	require.NoError(t, err)
	return h
}

// On first start without -user, a demo user is created and its password
// printed once; later starts keep it and print nothing.
func TestFirstStartDemoUser(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Users = nil
	ts := startSystem(t, cfg)
	out := ts.notice.String()
	assert.Contains(t, out, "Generated a self-signed certificate")
	_, rest, ok := strings.Cut(out, `created user "demo" with password `)
	require.True(t, ok, "notice: %s", out)
	pass, _, _ := strings.Cut(rest, "\n")
	require.Len(t, pass, 26)
	require.NoError(t, ts.users.store.CheckPassword(context.Background(), "demo", pass))
	require.NoError(t, ts.users.store.CheckPassword(context.Background(), "demo@"+testDomain, pass))
	msg := []byte("Subject: hi\r\n\r\nhello demo\r\n")
	_, err := ts.submit(t, "demo", pass, "demo@"+testDomain, []string{"demo@" + testDomain}, msg)
	require.NoError(t, err)
	require.Len(t, ts.popAll(t, "demo", pass), 1)

	// A second start on the same data: no new password, same certificate.
	cert, err := os.ReadFile(ts.certFile())
	require.NoError(t, err)
	cfg2 := *cfg
	ts2 := startSystem(t, &cfg2)
	assert.Empty(t, ts2.notice.String())
	require.NoError(t, ts2.users.store.CheckPassword(context.Background(), "demo", pass))
	cert2, err := os.ReadFile(ts2.certFile())
	require.NoError(t, err)
	assert.Equal(t, cert, cert2)
}

// With -user on first start there is no demo user.
func TestFirstStartWithUsers(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	assert.NotContains(t, ts.notice.String(), "demo")
	assert.Nil(t, ts.users.lookupLogin("demo"))
}

func TestCertFlags(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	ts := startSystem(t, cfg) // generates a certificate
	cfg2 := testConfig(t)
	cfg2.CertFile, cfg2.KeyFile = ts.certFile(), filepath.Join(ts.dir, "tls", "key.pem")
	ts2 := startSystem(t, cfg2)
	assert.NotContains(t, ts2.notice.String(), "certificate")
	_, err := os.Stat(filepath.Join(cfg2.DataDir, "tls"))
	assert.True(t, os.IsNotExist(err), "no certificate generated when -cert is given")

	cfg3 := testConfig(t)
	cfg3.CertFile, cfg3.KeyFile = filepath.Join(ts.dir, "missing.pem"), filepath.Join(ts.dir, "missing.pem")
	_, err = newSystem(cfg3, slog.New(slog.DiscardHandler), io.Discard)
	assert.Error(t, err)
}

// A listener whose address is taken makes Start fail and close the others.
func TestStartAddressInUse(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	cfg := testConfig(t)
	cfg.POP3Addr = ts.Addr(lnPOP3)
	sys, err := newSystem(cfg, slog.New(slog.DiscardHandler), io.Discard)
	require.NoError(t, err)
	err = sys.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pop3 listener")
}

// Two users may not share an address: "alice" in domain a.test and the
// full-address user "alice@a.test".
func TestUsersAddressConflict(t *testing.T) {
	t.Parallel()
	u, err := loadUsers(filepath.Join(t.TempDir(), "users"), []string{"a.test"})
	require.NoError(t, err)
	require.NoError(t, u.set("alice", "x"))
	assert.ErrorContains(t, u.set("alice@a.test", "y"), "both")
}

// -user on a later start changes a password and keeps the other users.
func TestUserUpdate(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	ts := startSystem(t, cfg)
	require.NoError(t, ts.Shutdown(context.Background()))

	cfg2 := *cfg
	cfg2.Users = []userSpec{{"alice", "changed"}}
	ts2 := startSystem(t, &cfg2)
	require.ErrorIs(t, ts2.users.store.CheckPassword(context.Background(), "alice", alicePass), auth.ErrAuthFailed)
	require.NoError(t, ts2.users.store.CheckPassword(context.Background(), "alice", "changed"))
	require.NoError(t, ts2.users.store.CheckPassword(context.Background(), "bob", bobPass))
	_, err := ts2.submit(t, "alice", "changed", "alice@"+testDomain, []string{"bob@" + testDomain}, []byte("Subject: x\r\n\r\ny\r\n"))
	require.NoError(t, err)
}

// FuzzLoadUsers: no users file makes loading panic, and whatever loads
// saves and loads again to the same users.
func FuzzLoadUsers(f *testing.F) {
	f.Add("alice:" + "$scram-sha-256$i=4096$W22ZaJ0SNY7soEsUEjb6gQ$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY$wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU:{CRAM-MD5}" + strings.Repeat("ab", 32) + "\n")
	f.Add("# comment\n\nbob@b.test:$pbkdf2-sha256$i=1000,l=32$c2FsdA$" + strings.Repeat("A", 43) + "\n")
	f.Add("x:{PLAIN}y\n")
	f.Add("a:b:c:d\n")
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "users")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		u, err := loadUsers(path, []string{"a.test"})
		if err != nil {
			return
		}
		require.NoError(t, u.save())
		u2, err := loadUsers(path, []string{"a.test"})
		require.NoError(t, err)
		require.Equal(t, len(u.list), len(u2.list))
		for i := range u.list {
			assert.Equal(t, *u.list[i], *u2.list[i])
		}
	})
}

func TestDKIMKeyFiles(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edFile := writeKey(t, ed, "ed.pem")
	keys, err := loadSigningKeys([]dkimKeySpec{{"ed", edFile}})
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, "ed", keys[0].selector)

	notPEM := filepath.Join(t.TempDir(), "x.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a key"), 0o600))
	for _, spec := range []dkimKeySpec{
		{"ecdsa", writeKey(t, ec, "ec.pem")}, // DKIM has RSA and Ed25519 only
		{"none", notPEM},
		{"missing", filepath.Join(t.TempDir(), "missing.pem")},
	} {
		_, err := loadSigningKeys([]dkimKeySpec{spec})
		assert.Error(t, err, spec.Selector)
	}
}
