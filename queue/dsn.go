package queue

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/message"
	"github.com/mailwire/mailwire/mime"
	"github.com/mailwire/mailwire/smtp"
)

// dsnAction is the RFC 3464 §2.3.3 Action of a notice.
type dsnAction string

const (
	actionFailed    dsnAction = "failed"
	actionDelayed   dsnAction = "delayed"
	actionDelivered dsnAction = "delivered"
)

// maxReturnedHeader bounds the header returned in a notice.
const maxReturnedHeader = 64 << 10

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// writeDSN writes a delivery status notification for the recipients idx of
// env: an RFC 3464 multipart/report with a message/delivery-status part
// (message/global-delivery-status and message/global-headers or
// message/global when an address needs UTF-8, RFC 6533 §3, §6), and the
// original header, or the whole message for RET=FULL on failure (RFC 3461
// §4.3), from orig. retryUntil is the give-up time, for delayed notices.
func writeDSN(w io.Writer, host string, env *Envelope, act dsnAction, idx []int, now, retryUntil time.Time, orig io.Reader) error {
	utf8 := env.UTF8 || !isASCII(env.From.String())
	for _, i := range idx {
		utf8 = utf8 || !isASCII(env.Recipients[i].Addr.String()) || !isASCII(env.Recipients[i].Orig)
	}
	bw := bufio.NewWriter(w)
	mw := mime.NewMultipartWriter(bw)
	subject := map[dsnAction]string{actionFailed: "Undelivered Mail Returned to Sender",
		actionDelayed: "Delayed Mail (still being retried)", actionDelivered: "Successful Mail Delivery Report"}[act]
	fmt.Fprintf(bw, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host)
	fmt.Fprintf(bw, "To: <%s>\r\n", env.From.String())
	fmt.Fprintf(bw, "Subject: %s\r\n", subject)
	fmt.Fprintf(bw, "Date: %s\r\n", message.FormatDate(now))
	fmt.Fprintf(bw, "Message-ID: %s\r\n", message.NewMessageID(host))
	// RFC 3834 §5: notices are automatic responses.
	bw.WriteString("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(bw, "Content-Type: %s; report-type=delivery-status\r\n\r\n", mw.ContentType("report"))
	bw.WriteString("This is a MIME-encapsulated delivery status notification.\r\n")

	var h message.Header
	h.Add("Content-Type", "text/plain; charset=utf-8")
	h.Add("Content-Transfer-Encoding", "8bit")
	pw, err := mw.CreatePart(&h)
	if err != nil {
		return err
	}
	switch act {
	case actionFailed:
		fmt.Fprintf(pw, "This is the mail system at %s.\r\n\r\nYour message could not be delivered to the following recipients:\r\n\r\n", host)
	case actionDelayed:
		fmt.Fprintf(pw, "This is the mail system at %s.\r\n\r\nYour message has not been delivered yet to the following recipients.\r\nThe mail system will keep trying until %s.\r\n\r\n", host, message.FormatDate(retryUntil))
	default:
		fmt.Fprintf(pw, "This is the mail system at %s.\r\n\r\nYour message was delivered to the following recipients:\r\n\r\n", host)
	}
	for _, i := range idx {
		r := &env.Recipients[i]
		fmt.Fprintf(pw, "<%s>: %s\r\n", r.Addr.String(), oneLine(r.Diagnostic))
	}

	h = message.Header{}
	addrType := "rfc822"
	if utf8 {
		h.Add("Content-Type", "message/global-delivery-status")
		addrType = "utf-8"
	} else {
		h.Add("Content-Type", "message/delivery-status")
	}
	pw, err = mw.CreatePart(&h)
	if err != nil {
		return err
	}
	// RFC 3464 §2.2: per-message fields.
	fmt.Fprintf(pw, "Reporting-MTA: dns; %s\r\n", host)
	if env.EnvelopeID != "" {
		fmt.Fprintf(pw, "Original-Envelope-Id: %s\r\n", smtp.EncodeXtext(env.EnvelopeID))
	}
	fmt.Fprintf(pw, "Arrival-Date: %s\r\n", message.FormatDate(env.Arrival))
	// RFC 3464 §2.3: per-recipient fields.
	for _, i := range idx {
		r := &env.Recipients[i]
		pw.Write([]byte("\r\n"))
		if r.Orig != "" {
			t := r.OrigType
			if t == "" {
				t = "rfc822"
			}
			fmt.Fprintf(pw, "Original-Recipient: %s; %s\r\n", t, oneLine(r.Orig))
		}
		fmt.Fprintf(pw, "Final-Recipient: %s; %s\r\n", addrType, r.Addr.String())
		fmt.Fprintf(pw, "Action: %s\r\n", act)
		status := r.Status
		if status == "" {
			status = map[dsnAction]string{actionFailed: "5.0.0", actionDelayed: "4.0.0", actionDelivered: "2.0.0"}[act]
		}
		fmt.Fprintf(pw, "Status: %s\r\n", status)
		if r.RemoteMTA != "" {
			fmt.Fprintf(pw, "Remote-MTA: dns; %s\r\n", oneLine(r.RemoteMTA))
		}
		if d := oneLine(r.Diagnostic); strings.HasPrefix(d, "smtp; ") {
			fmt.Fprintf(pw, "Diagnostic-Code: %s\r\n", d)
		}
		if !r.Updated.IsZero() {
			fmt.Fprintf(pw, "Last-Attempt-Date: %s\r\n", message.FormatDate(r.Updated))
		}
		if act == actionDelayed {
			fmt.Fprintf(pw, "Will-Retry-Until: %s\r\n", message.FormatDate(retryUntil))
		}
	}

	if orig != nil {
		full := act == actionFailed && env.Return == smtp.ReturnFull
		h = message.Header{}
		switch {
		case full && utf8:
			h.Add("Content-Type", "message/global")
		case full:
			h.Add("Content-Type", "message/rfc822")
		case utf8:
			h.Add("Content-Type", "message/global-headers")
		default:
			h.Add("Content-Type", "text/rfc822-headers")
		}
		pw, err = mw.CreatePart(&h)
		if err != nil {
			return err
		}
		if full {
			if _, err := io.Copy(pw, orig); err != nil {
				return err
			}
		} else if err := copyHeader(pw, orig); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// copyHeader copies the header of the message in r, up to the blank line,
// at most maxReturnedHeader octets.
func copyHeader(w io.Writer, r io.Reader) error {
	br := bufio.NewReader(io.LimitReader(r, maxReturnedHeader))
	for {
		line, err := br.ReadString('\n')
		if strings.TrimRight(line, "\r\n") == "" {
			return nil
		}
		if _, werr := io.WriteString(w, line); werr != nil {
			return werr
		}
		if !strings.HasSuffix(line, "\n") {
			io.WriteString(w, "\r\n")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
