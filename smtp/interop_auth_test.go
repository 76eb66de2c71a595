package smtp

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/peer"
)

// pythonAuth authenticates with the one mechanism named on the command line,
// through smtplib's own implementation of it, then sends a message.
const pythonAuth = `
import smtplib, ssl, sys
host, port, mech, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP(host, port, local_hostname="py.test")
s.starttls(context=ctx)
s.ehlo()
assert mech in s.esmtp_features["auth"].split(), s.esmtp_features["auth"]
s.user, s.password = "user", password
method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[mech]
try:
    s.auth(mech, method)
except smtplib.SMTPAuthenticationError as e:
    print("refused", e.smtp_code)
    sys.exit(0)
s.sendmail("alice@a.test", ["bob@b.test"], b"Subject: auth " + mech.encode() + b"\r\n\r\nhi\r\n")
s.quit()
print("sent")
`

// Python's smtplib speaks each of the SASL mechanisms it implements to the
// server, with the right password and with a wrong one.
func TestInteropPythonAuthMechanisms(t *testing.T) {
	t.Parallel()
	py := peer.Python(t, "smtplib", "ssl")
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		for _, password := range []string{"secret", "wrong"} {
			t.Run(mech+"/"+password, func(t *testing.T) {
				t.Parallel()
				users := auth.NewMemoryStore()
				require.NoError(t, users.SetPassword("user", "secret"))
				rec := &recorder{users: users, allMechs: true}
				_, _, addr := newTestServerWith(t, rec, func(s *Server) { s.TLSConfig = mustPair(t).Server })
				host, port, _ := net.SplitHostPort(addr)
				out, err := peer.RunErr(30*time.Second, nil, py, "-c", pythonAuth, host, port, mech, password)
				require.NoError(t, err, out)
				if password == "wrong" {
					assert.Contains(t, out, "refused 535")
					assert.Empty(t, rec.messages())
					return
				}
				assert.Contains(t, out, "sent")
				msgs := rec.messages()
				require.Len(t, msgs, 1, out)
				assert.Equal(t, "user", msgs[0].Identity)
				assert.Contains(t, msgs[0].Data, "Subject: auth "+mech)
			})
		}
	}
}
