package smtp

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/message"
)

// TestServerHello: the EHLO, HELO and LHLO argument is a Domain or an
// address literal (RFC 5321 §4.1.1.1), U-labels being taken in their
// A-label form (RFC 6531 §3.7.1); Conn.Hostname gives the checked name, so
// a Received field built from it keeps its by clause.
func TestServerHello(t *testing.T) {
	for _, tc := range []struct {
		line string
		lmtp bool
		code int
		ec   EnhancedCode
		want string // Conn.Hostname after a 250
		text string // in the reply, when set
	}{
		{line: "EHLO client.example", code: 250, want: "client.example"},
		{line: "EHLO Client-1.Example", code: 250, want: "Client-1.Example"},
		{line: "EHLO my_pc.example", code: 250, want: "my_pc.example"}, // underscores occur in real names
		{line: "EHLO [192.0.2.1]", code: 250, want: "[192.0.2.1]"},
		{line: "EHLO [IPv6:2001:db8::1]", code: 250, want: "[IPv6:2001:db8::1]"},
		{line: "HELO client.example", code: 250, want: "client.example"},
		{line: "EHLO bücher.example", code: 250, want: "xn--bcher-kva.example"},
		{line: "HELO bücher.example", code: 250, want: "xn--bcher-kva.example"},
		{line: "LHLO bücher.example", lmtp: true, code: 250, want: "xn--bcher-kva.example"},
		{line: "EHLO a(b", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO a(b.example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO a)b", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO a;b", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO <a@b>", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO client.example junk", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "HELO a b", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO -a.example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO a..example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO [192.0.2.300]", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO [192.0.2.1", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO \xff\xfe", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO bü(cher.example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO ü..example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO " + strings.Repeat("a", 64) + ".example", code: 501, ec: EnhancedCode{5, 5, 2}},
		{line: "EHLO", code: 501, ec: EnhancedCode{5, 5, 4}, text: "Syntax: EHLO hostname"},
		{line: "HELO", code: 501, ec: EnhancedCode{5, 5, 4}, text: "Syntax: HELO hostname"},
		{line: "LHLO", lmtp: true, code: 501, ec: EnhancedCode{5, 5, 4}, text: "Syntax: LHLO hostname"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			_, rec, addr := newTestServer(t, func(s *Server) { s.LMTP = tc.lmtp })
			c := rawDial(t, addr)
			c.expect(220)
			r := c.cmd(tc.line, tc.code)
			if tc.text != "" {
				assert.Equal(t, tc.text, r.Message())
			}
			if tc.code != 250 {
				assert.Equal(t, tc.ec, r.EnhancedCode)
				c.cmd("MAIL FROM:<a@a.test>", 503) // no greeting took place
				return
			}
			c.send("MAIL FROM:<a@a.test>\r\nRCPT TO:<b@b.test>\r\nDATA\r\nx\r\n.\r\n")
			for _, code := range []int{250, 250, 354, 250} {
				c.expect(code)
			}
			msgs := rec.messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.want, msgs[0].Helo)

			// The name makes a Received field that parses back whole.
			rcv := &message.Received{From: msgs[0].Helo, By: "mx.test", With: msgs[0].Protocol, ID: "1", Date: time.Unix(0, 0)}
			var h message.Header
			h.Add("Received", rcv.String())
			var b strings.Builder
			_, err := h.WriteFields(&b)
			require.NoError(t, err, "the field must be writable: before, a U-label gave 451 here")
			back, err := message.ParseReceived(rcv.String())
			require.NoError(t, err)
			assert.Equal(t, "mx.test", back.By)
			assert.Equal(t, tc.want, back.From)
		})
	}
}
