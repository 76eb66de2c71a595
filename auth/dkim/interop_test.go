package dkim

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwire/mailwire/internal/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message with the features canonicalisation cares about: folded fields,
// odd white space, trailing empty lines.
const interopMessage = "From: Alice <alice@a.test>\r\n" +
	"To: Bob <bob@b.test>,\r\n" +
	"    Carol <carol@c.test>\r\n" +
	"Subject:  Lunch \t today?\r\n" +
	"Date: Mon, 2 Jan 2006 15:04:05 -0700\r\n" +
	"Message-ID: <1@a.test>\r\n" +
	"\r\n" +
	"Shall we have  lunch?  \r\n" +
	"\tAlice\r\n" +
	"\r\n" +
	"\r\n"

func dkimpy(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	py := peer.Python(t, "dkim", "nacl")
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "dkimpy.py")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "dkimpy %v: %s", args[0], stderr.String())
	if stderr.Len() > 0 {
		t.Logf("dkimpy: %s", stderr.String())
	}
	return string(out)
}

func TestInteropDkimpyVerifiesOurs(t *testing.T) {
	dns := testDNS(t)
	dir := t.TempDir()
	records := map[string]string{}
	for name, v := range dns.txt {
		records[name] = v[0]
	}
	js, _ := json.Marshal(records)
	recFile := filepath.Join(dir, "records.json")
	require.NoError(t, os.WriteFile(recFile, js, 0o600))

	for _, hc := range []Canonicalization{Simple, Relaxed} {
		for _, bc := range []Canonicalization{Simple, Relaxed} {
			opts := bothKeys(t, hc)
			for _, o := range opts {
				o.BodyCanon = bc
			}
			signed := signTest(t, interopMessage, opts...)
			assert.Equal(t, "pass\npass\n", dkimpy(t, signed, "verify", recFile), "c=%s/%s", hc, bc)
			tampered := strings.Replace(signed, "lunch?", "dinner?", 1)
			assert.Equal(t, "fail\nfail\n", dkimpy(t, tampered, "verify", recFile), "tampered c=%s/%s", hc, bc)
		}
	}
}

func TestInteropOursVerifiesDkimpy(t *testing.T) {
	rk, ek := testKeys(t)
	dns := testDNS(t)
	dir := t.TempDir()
	rsaFile := filepath.Join(dir, "rsa.pem")
	require.NoError(t, os.WriteFile(rsaFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), 0o600))
	edFile := filepath.Join(dir, "ed.key")
	require.NoError(t, os.WriteFile(edFile, []byte(base64.StdEncoding.EncodeToString(ek.Seed())), 0o600))

	for _, alg := range []struct{ sel, file, name string }{{"rsa", rsaFile, "rsa-sha256"}, {"ed", edFile, "ed25519-sha256"}} {
		for _, hc := range []string{"simple", "relaxed"} {
			for _, bc := range []string{"simple", "relaxed"} {
				signed := dkimpy(t, interopMessage, "sign", alg.sel, "a.test", alg.file, alg.name, hc, bc)
				res, err := Verify(context.Background(), strings.NewReader(signed), &VerifyOptions{Resolver: dns})
				require.NoError(t, err)
				require.Len(t, res, 1)
				assert.Equal(t, StatusPass, res[0].Status, "%s c=%s/%s: %v\n%s", alg.name, hc, bc, res[0].Err, signed)
				assert.Equal(t, Algorithm(alg.name), res[0].Signature.Algorithm)

				tampered := strings.Replace(signed, "lunch?", "dinner?", 1)
				res, err = Verify(context.Background(), strings.NewReader(tampered), &VerifyOptions{Resolver: dns})
				require.NoError(t, err)
				assert.Equal(t, StatusFail, res[0].Status)
				assert.ErrorIs(t, res[0].Err, ErrBodyHashMismatch)
			}
		}
	}
}
