package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth/authres"
	"github.com/mailwire/mailwire/auth/dkim"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"github.com/mailwire/mailwire/internal/peer"
	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/smtp"
)

// senderKey is the DKIM key of the sending domains of the tests, published
// as sel._domainkey of signed.test and reject.test.
var senderKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// txtRecord returns a dnsmasq --txt-record argument for name, the value
// cut into strings of at most 255 bytes (resolvers join them again).
func txtRecord(name, value string) string {
	arg := "--txt-record=" + name
	for len(value) > 255 {
		arg += "," + value[:255]
		value = value[255:]
	}
	return arg + "," + value
}

// startAuthDNS runs dnsmasq serving the SPF, DKIM and DMARC records of the
// sending domains below, and returns its address. Names under .test that
// it does not know are NXDOMAIN (--local); names elsewhere (down.example,
// _dmarc.flaky.example) get REFUSED, a temporary DNS failure, as dnsmasq
// has no upstream server.
func startAuthDNS(t *testing.T) string {
	t.Helper()
	bin := peer.Path(t, "dnsmasq")
	rec, err := dkim.NewKeyRecord(senderKey().Public())
	require.NoError(t, err)
	_, ports := peer.StartServer(t, peer.ServerOptions{UDP: true}, func(ports []int) *exec.Cmd {
		return exec.Command(bin, "-k", "--port="+strconv.Itoa(ports[0]), "--listen-address=127.0.0.1",
			"--bind-interfaces", "--no-resolv", "--no-hosts", "--pid-file=", "--local=/test/",
			// SPF (RFC 7208): the client is 127.0.0.1.
			txtRecord("pass.test", "v=spf1 ip4:127.0.0.1 -all"),
			txtRecord("fail.test", "v=spf1 -all"),
			txtRecord("soft.test", "v=spf1 ~all"),
			txtRecord("helo.test", "v=spf1 ip4:127.0.0.1 -all"),
			txtRecord("flaky.example", "v=spf1 ip4:127.0.0.1 -all"),
			// DKIM keys (RFC 6376 §3.6.2).
			txtRecord("sel._domainkey.signed.test", rec.String()),
			txtRecord("sel._domainkey.reject.test", rec.String()),
			// DMARC policies (RFC 7489 §6.3).
			txtRecord("_dmarc.pass.test", "v=DMARC1; p=reject"),
			txtRecord("_dmarc.signed.test", "v=DMARC1; p=none"),
			txtRecord("_dmarc.reject.test", "v=DMARC1; p=reject"),
			txtRecord("_dmarc.quarantine.test", "v=DMARC1; p=quarantine"),
			txtRecord("_dmarc.none.test", "v=DMARC1; p=none"),
		)
	})
	return peer.Addr(ports[0])
}

// authMessage returns a message from the given author, DKIM-signed with
// senderKey for d=signDomain when that is not empty.
func authMessage(t *testing.T, from, signDomain string) []byte {
	t.Helper()
	msg := "From: Sender <" + from + ">\r\nTo: recipient@" + testDomain + "\r\nSubject: sender authentication\r\n" +
		"Date: " + message.FormatDate(time.Now()) + "\r\nMessage-ID: " + message.NewMessageID("client.test") + "\r\n\r\n" +
		"Hello,\r\n\r\nthis message tests SPF, DKIM and DMARC.\r\n"
	if signDomain == "" {
		return []byte(msg)
	}
	var b bytes.Buffer
	require.NoError(t, dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: signDomain, Selector: "sel", Key: senderKey()}))
	return b.Bytes()
}

// sendMX sends msg to rcpt on the SMTP port, saying EHLO helo.
func sendMX(t *testing.T, ts *testSystem, helo, mailFrom, rcpt string, msg []byte) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := smtp.Dial(ctx, ts.Addr(lnSMTP), &smtp.ClientOptions{LocalName: helo})
	require.NoError(t, err)
	defer c.Close()
	env := &smtp.Envelope{To: []smtp.Mailbox{smtp.MustParseMailbox(rcpt)}}
	if mailFrom != "" {
		env.From = smtp.MustParseMailbox(mailFrom)
	}
	_, err = c.Send(ctx, env, bytes.NewReader(msg))
	return err
}

// arSummary reads the Authentication-Results field of a stored message:
// "method=result" for each resinfo, the HELO check as "spf-helo", and the
// properties by "method.ptype.property".
func arSummary(t *testing.T, h *message.Header, authservID string) (string, map[string]string) {
	t.Helper()
	require.Equal(t, 1, h.Count(authres.FieldName))
	ar, err := authres.Parse(h.Get(authres.FieldName))
	require.NoError(t, err)
	require.Equal(t, authservID, ar.AuthServID, "authserv-id is the -hostname")
	var parts []string
	props := map[string]string{}
	for _, r := range ar.Results {
		method := r.Method
		if _, ok := r.Get(authres.PTypeSMTP, "helo"); ok {
			method = "spf-helo"
		}
		parts = append(parts, method+"="+r.Value)
		for _, p := range r.Properties {
			props[method+"."+p.Type+"."+p.Name] = p.Value
		}
	}
	return strings.Join(parts, " "), props
}

// TestSenderAuthentication runs the MX against dnsmasq serving the sending
// domains' records: each case sends one message from 127.0.0.1 and checks
// the reply, the folder it lands in and the Authentication-Results and
// Received-SPF fields in front of it.
func TestSenderAuthentication(t *testing.T) {
	t.Parallel()
	dns := startAuthDNS(t)
	cases := []struct {
		name       string
		helo       string
		mailFrom   string
		from       string // the From field's address
		signDomain string // DKIM d=, "" for none
		tamper     bool   // change the body after signing

		code     int    // the reply to the data; 0 for 250
		enhanced string // its enhanced code
		junk     bool   // delivered into .Junk
		ar       string // arSummary
		props    map[string]string
		spf      string // Received-SPF result
	}{
		{
			name: "spf pass, dmarc pass", helo: "helo.test", mailFrom: "alice@pass.test", from: "alice@pass.test",
			ar:    "spf=pass spf-helo=pass dkim=none dmarc=pass",
			props: map[string]string{"spf.smtp.mailfrom": "alice@pass.test", "spf-helo.smtp.helo": "helo.test", "dmarc.header.from": "pass.test"},
			spf:   "pass",
		},
		{
			name: "spf fail, no dmarc record", helo: "localhost", mailFrom: "bob@fail.test", from: "bob@fail.test",
			ar:    "spf=fail spf-helo=none dkim=none dmarc=none",
			props: map[string]string{"spf.smtp.mailfrom": "bob@fail.test"},
			spf:   "fail",
		},
		{
			name: "spf softfail", helo: "localhost", mailFrom: "carol@soft.test", from: "carol@soft.test",
			ar:  "spf=softfail spf-helo=none dkim=none dmarc=none",
			spf: "softfail",
		},
		{
			name: "dkim pass aligned, spf fail: dmarc pass", helo: "localhost", mailFrom: "bounce@fail.test", from: "news@reject.test", signDomain: "reject.test",
			ar:    "spf=fail spf-helo=none dkim=pass dmarc=pass",
			props: map[string]string{"dkim.header.d": "reject.test", "dkim.header.s": "sel", "dmarc.header.from": "reject.test"},
			spf:   "fail",
		},
		{
			name: "dkim tampered body, p=none", helo: "localhost", mailFrom: "bounce@fail.test", from: "news@signed.test", signDomain: "signed.test", tamper: true,
			ar:    "spf=fail spf-helo=none dkim=fail dmarc=fail",
			props: map[string]string{"dkim.header.d": "signed.test", "dmarc.header.from": "signed.test"},
			spf:   "fail",
		},
		{
			name: "dmarc p=reject", helo: "localhost", mailFrom: "bounce@fail.test", from: "ceo@reject.test",
			code: 550, enhanced: "5.7.1",
		},
		{
			name: "dmarc p=reject, dkim tampered", helo: "localhost", mailFrom: "ceo@reject.test", from: "ceo@reject.test", signDomain: "reject.test", tamper: true,
			code: 550, enhanced: "5.7.1",
		},
		{
			name: "dmarc p=quarantine", helo: "localhost", mailFrom: "bounce@fail.test", from: "promo@quarantine.test",
			junk: true,
			ar:   "spf=fail spf-helo=none dkim=none dmarc=fail",
			spf:  "fail",
		},
		{
			name: "dmarc p=none", helo: "localhost", mailFrom: "bounce@fail.test", from: "info@none.test",
			ar:  "spf=fail spf-helo=none dkim=none dmarc=fail",
			spf: "fail",
		},
		{
			// The MAIL FROM domain's records cannot be fetched: SPF is
			// temperror, but DKIM passes and DMARC with it.
			name: "spf temperror accepted", helo: "localhost", mailFrom: "bounce@down.example", from: "news@reject.test", signDomain: "reject.test",
			ar:  "spf=temperror spf-helo=none dkim=pass dmarc=pass",
			spf: "temperror",
		},
		{
			// SPF passes; the DMARC lookup fails: accepted with it recorded.
			name: "dmarc temperror accepted", helo: "localhost", mailFrom: "alice@flaky.example", from: "alice@flaky.example",
			ar:  "spf=pass spf-helo=none dkim=none dmarc=temperror",
			spf: "pass",
		},
		{
			// Nothing passed and the DMARC policy is unknown: retry later.
			name: "dmarc lookup failed, nothing passed", helo: "localhost", mailFrom: "bounce@down.example", from: "ceo@down.example",
			code: 451, enhanced: "4.7.0",
		},
	}
	cfg := testConfig(t)
	cfg.DNS = dns
	cfg.Users = nil
	for i := range cases {
		cfg.Users = append(cfg.Users, userSpec{Name: "user" + strconv.Itoa(i), Password: "pw"})
	}
	ts := startSystem(t, cfg)

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := "user" + strconv.Itoa(i)
			msg := authMessage(t, tc.from, tc.signDomain)
			if tc.tamper {
				msg = bytes.Replace(msg, []byte("tests SPF"), []byte("tests XYZ"), 1)
			}
			err := sendMX(t, ts, tc.helo, tc.mailFrom, user+"@"+testDomain, msg)
			inbox := ts.stored(t, user)
			junk := storedIn(t, filepath.Join(ts.dir, "mail", user, ".Junk"))
			if tc.code != 0 {
				requireCode(t, err, tc.code, tc.enhanced)
				assert.Empty(t, inbox, "nothing delivered")
				assert.Empty(t, junk, "nothing delivered")
				return
			}
			require.NoError(t, err)
			var stored [][]byte
			if tc.junk {
				assert.Empty(t, inbox)
				stored = junk
			} else {
				assert.Empty(t, junk)
				stored = inbox
			}
			require.Len(t, stored, 1)
			h, _ := traceHeader(t, stored[0], msg, tc.mailFrom)
			t.Logf("Authentication-Results: %s\nReceived-SPF: %s", h.Get(authres.FieldName), h.Get("Received-SPF"))
			ar, props := arSummary(t, h, cfg.Hostname)
			assert.Equal(t, tc.ar, ar, "Authentication-Results: %s", h.Get(authres.FieldName))
			for k, v := range tc.props {
				assert.Equal(t, v, props[k], k)
			}
			rspf := h.Get("Received-SPF")
			assert.True(t, strings.HasPrefix(rspf, tc.spf+" "), "Received-SPF: %s", rspf)
			assert.Contains(t, rspf, "client-ip=127.0.0.1")
			assert.Contains(t, rspf, "receiver="+cfg.Hostname)
		})
	}
}

// TestSenderAuthenticationSkipped: mail from -trusted-networks and
// authenticated submissions get no checks and no authentication fields.
func TestSenderAuthenticationSkipped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.TrustedNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	ts := startSystem(t, cfg)
	msg := authMessage(t, "someone@elsewhere.example", "")
	require.NoError(t, sendMX(t, ts, "client.example", "someone@elsewhere.example", "bob@"+testDomain, msg))
	msg2 := authMessage(t, "alice@"+testDomain, "")
	_, err := ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg2)
	require.NoError(t, err)

	stored := ts.stored(t, "bob")
	require.Len(t, stored, 2)
	h, _ := traceHeader(t, stored[0], msg, "someone@elsewhere.example")
	assert.False(t, h.Has(authres.FieldName), "trusted client: no checks")
	assert.False(t, h.Has("Received-SPF"))
	h, _ = traceHeader(t, stored[1], msg2, "alice@"+testDomain)
	assert.False(t, h.Has(authres.FieldName), "submission: no checks")
}

// TestSenderAuthenticationNoDNS: with the DNS server unreachable every
// check is temperror; nothing passed and the DMARC policy is unknown, so
// the sender is told to retry, and the server keeps nothing.
func TestSenderAuthenticationNoDNS(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// A port nothing listens on: each query is refused at once (ICMP port
	// unreachable), a temporary failure.
	cfg.DNS = peer.Addr(peer.FreePort(t))
	ts := startSystem(t, cfg)
	err := sendMX(t, ts, "client.example", "someone@elsewhere.example", "bob@"+testDomain, authMessage(t, "someone@elsewhere.example", ""))
	requireCode(t, err, 451, "4.7.0")
	assert.Empty(t, ts.stored(t, "bob"))
	recs := logRecords(t, ts.logs.String())
	assert.NotEmpty(t, findRecords(recs, logRecord{"msg": "dmarc", "result": "temperror"}), "the log says why")
}

// readStoredHeader parses the header of a stored message.
func readStoredHeader(t *testing.T, stored []byte) *message.Header {
	t.Helper()
	h, err := message.ReadHeader(bufio.NewReader(bytes.NewReader(stored)), message.Limits{})
	require.NoError(t, err)
	return h
}

// writeKey writes key as PEM in the test's directory: PKCS #1 for RSA (as
// opendkim-genkey writes it), PKCS #8 otherwise.
func writeKey(t *testing.T, key crypto.Signer, name string) string {
	t.Helper()
	var block *pem.Block
	if k, ok := key.(*rsa.PrivateKey); ok {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	return path
}

// dkimpyVerify runs dkimpy (python3-dkim) on msg with the key records
// given, name → TXT, and returns "pass" or "fail" per signature, one a
// line.
func dkimpyVerify(t *testing.T, msg []byte, records map[string]string) string {
	t.Helper()
	py := peer.Python(t, "dkim", "nacl")
	recs, err := json.Marshal(records)
	require.NoError(t, err)
	const script = `
import json, sys, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    rec = records.get(name.decode().rstrip(".").lower())
    return rec.encode() if rec is not None else None
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
n = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
for i in range(n):
    try:
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        sys.stderr.write("signature %d: %s\n" % (i, e))
        ok = False
    print("pass" if ok else "fail")
`
	cmd := exec.Command(py, "-c", script, string(recs))
	cmd.Stdin = bytes.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "dkimpy: %s", stderr.String())
	if stderr.Len() > 0 {
		t.Logf("dkimpy: %s", stderr.String())
	}
	return string(out)
}

// TestDKIMSigning submits mail through a server signing with an RSA and an
// Ed25519 key: the stored message carries both signatures for d= the
// author's domain, and dkimpy and auth/dkim verify them; the Date and
// Message-ID fields the server adds are signed too. Mail whose From domain
// is not local is not signed.
func TestDKIMSigning(t *testing.T) {
	t.Parallel()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	cfg := testConfig(t)
	cfg.DKIMKeys = []dkimKeySpec{
		{Selector: "rsa2026", File: writeKey(t, senderKey(), "rsa.pem")},
		{Selector: "ed2026", File: writeKey(t, edKey, "ed25519.pem")},
	}
	ts := startSystem(t, cfg)

	// No Date or Message-ID: the server adds them in front, and signs them.
	msg := []byte("From: Alice <alice@" + testDomain + ">\r\nTo: bob@" + testDomain + "\r\nSubject: signed\r\n\r\nSigned by the MSA.\r\n")
	_, err = ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, msg)
	require.NoError(t, err)
	foreign := []byte("From: Alice <alice@elsewhere.example>\r\nTo: bob@" + testDomain + "\r\nSubject: not signed\r\n\r\nhi\r\n")
	_, err = ts.submit(t, "alice", alicePass, "alice@"+testDomain, []string{"bob@" + testDomain}, foreign)
	require.NoError(t, err)

	stored := ts.stored(t, "bob")
	require.Len(t, stored, 2)
	h := readStoredHeader(t, stored[0])
	sigs := h.Values("DKIM-Signature")
	require.Len(t, sigs, 2, "one signature per key")
	for i, sel := range []string{"rsa2026", "ed2026"} {
		sig, err := dkim.ParseSignature(sigs[i])
		require.NoError(t, err)
		assert.Equal(t, testDomain, sig.Domain, "d= is the From domain")
		assert.Equal(t, sel, sig.Selector)
		signed := strings.ToLower(strings.Join(sig.Headers, ":"))
		assert.Contains(t, signed, "date")
		assert.Contains(t, signed, "message-id")
	}
	assert.True(t, h.Has("Date") && h.Has("Message-ID"), "added by the MSA")
	assert.False(t, readStoredHeader(t, stored[1]).Has("DKIM-Signature"), "From domain not local: not signed")

	rsaRec, err := dkim.NewKeyRecord(senderKey().Public())
	require.NoError(t, err)
	edRec, err := dkim.NewKeyRecord(edKey.Public())
	require.NoError(t, err)
	records := map[string]string{
		"rsa2026._domainkey." + testDomain: rsaRec.String(),
		"ed2026._domainkey." + testDomain:  edRec.String(),
	}

	t.Run("auth/dkim", func(t *testing.T) {
		zone := dnsmxtest.Zone{}
		for name, rec := range records {
			zone[name] = []dnsmxtest.Record{dnsmxtest.TXT(rec)}
		}
		dns := dnsmxtest.NewServer(t, zone)
		results, err := dkim.Verify(context.Background(), bytes.NewReader(stored[0]), &dkim.VerifyOptions{Resolver: dns.Resolver()})
		require.NoError(t, err)
		require.Len(t, results, 2)
		for _, r := range results {
			assert.Equal(t, dkim.StatusPass, r.Status, "%v", r.Err)
		}
	})
	t.Run("dkimpy", func(t *testing.T) {
		assert.Equal(t, "pass\npass\n", dkimpyVerify(t, stored[0], records))
		tampered := bytes.Replace(stored[0], []byte("Signed by"), []byte("Signed for"), 1)
		assert.Equal(t, "fail\nfail\n", dkimpyVerify(t, tampered, records))
	})
}

// TestForgedAuthenticationResults: fields that claim the server's own
// authserv-id are removed from mail received from outside (RFC 8601 §5);
// other servers' fields stay.
func TestForgedAuthenticationResults(t *testing.T) {
	t.Parallel()
	ts := startSystem(t, nil)
	rest := "From: someone@elsewhere.example\r\nSubject: trust me\r\n\r\nbody\r\n"
	msg := "Authentication-Results: MX.example.test; dmarc=pass\r\n header.from=elsewhere.example\r\n" +
		"Authentication-Results: other.example; dkim=pass header.d=elsewhere.example\r\n" +
		"Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=elsewhere.example\r\n" + rest
	require.NoError(t, sendMX(t, ts, "client.example", "someone@elsewhere.example", "bob@"+testDomain, []byte(msg)))
	stored := ts.stored(t, "bob")
	require.Len(t, stored, 1)
	want := "Authentication-Results: other.example; dkim=pass header.d=elsewhere.example\r\n" + rest
	require.True(t, bytes.HasSuffix(stored[0], []byte(want)), "%s", stored[0])
	h := readStoredHeader(t, stored[0])
	values := h.Values(authres.FieldName)
	require.Len(t, values, 2, "ours and other.example's")
	ar, err := authres.Parse(values[0])
	require.NoError(t, err)
	assert.Equal(t, "mx.example.test", ar.AuthServID)
	assert.Equal(t, "dmarc=none", ar.Results[len(ar.Results)-1].Method+"="+ar.Results[len(ar.Results)-1].Value)
	recs := logRecords(t, ts.logs.String())
	assert.Len(t, findRecords(recs, logRecord{"msg": "removed forged Authentication-Results", "count": "2"}), 1)
}
