package smtp

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwire/mailwire/auth"
)

// FuzzServerSession feeds arbitrary client input to a server connection: no
// panic, no hang, every reply well-formed, and no stored DATA message holds
// the end-of-data sequence.
func FuzzServerSession(f *testing.F) {
	for _, s := range []string{
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
		"EHLO x\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\nRCPT TO:<c@d>\r\nBDAT 3\r\nabcBDAT 0 LAST\r\n",
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\na\n.\nb\r\n.\r\nRSET\r\n",
		"EHLO x\r\nAUTH PLAIN AHUAcA==\r\nAUTH LOGIN\r\ndQ==\r\ncA==\r\n",
		"HELO x\r\nMAIL FROM:<> SIZE=99999999999\r\nVRFY x\r\nNOOP\r\n\x00\xff\r\n",
		"LHLO x\r\nSTARTTLS\r\n",
		"EHLO b\xc3\xbccher.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\na\r\n\x00.\r\nb\r\n.\r\n",
		"EHLO a(b\r\nHELO [192.0.2.1]\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 3 LAST\r\na\x00b",
	} {
		f.Add([]byte(s))
	}
	users := auth.NewMemoryStore()
	users.SetPassword("u", "p")
	f.Fuzz(func(t *testing.T, in []byte) {
		rec := &recorder{users: users}
		srv := &Server{Backend: rec, AllowInsecureAuth: true, Limits: Limits{ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
			MaxMessageBytes: 1000, MaxRecipients: 5, MaxLineLength: 200},
			LMTP: len(in) > 0 && in[0]&1 == 1}
		cli, sc := net.Pipe()
		c := srv.newConn(sc)
		if err := srv.conns.Add(tracked{c}, 0); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); c.serve() }()
		replies := make(chan error, 1)
		go func() {
			br := bufio.NewReader(cli)
			for {
				if _, err := ReadReply(br); err != nil {
					replies <- err
					return
				}
			}
		}()
		cli.SetDeadline(time.Now().Add(5 * time.Second))
		cli.Write(in)
		cli.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("server connection did not end")
		}
		if err := <-replies; errors.Is(err, errReplySyntax) {
			t.Fatalf("malformed reply: %v", err)
		}
		for _, m := range rec.messages() {
			// BDAT content is binary: only DATA has an end-of-data sequence.
			if !strings.Contains(strings.ToUpper(string(in)), "BDAT") && strings.Contains(m.Data, "\r\n.\r\n") {
				t.Fatalf("stored message holds the end of data: %q", m.Data)
			}
			// Only BINARYMIME carries NUL.
			if m.MailOpts.Body != BodyBinaryMIME && strings.Contains(m.Data, "\x00") {
				t.Fatalf("stored message holds NUL: %q", m.Data)
			}
			// The greeting name is a checked ASCII Domain or address literal.
			if name, err := helloName(m.Helo); err != nil || name != m.Helo || hasNonASCII(name) {
				t.Fatalf("Conn.Hostname %q: %v", m.Helo, err)
			}
		}
	})
}
