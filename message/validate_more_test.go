package message

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validDate is a date Validate accepts; dateErr is what it reports for bad.
const validDate = "Fri, 21 Nov 1997 09:55:06 -0600"

func dateErr(t *testing.T, s string) string {
	t.Helper()
	_, err := ParseDate(s)
	require.Error(t, err, s)
	var de *DateError
	require.True(t, errors.As(err, &de))
	return err.Error()
}

// TestValidateOrigination covers RFC 5322 §3.6: the origination date and
// the originator (From) appear exactly once each, and each parses. The
// header is read from its wire form, as a submission server would see it.
func TestValidateOrigination(t *testing.T) {
	from := "From: John Doe <jdoe@machine.example>\r\n"
	date := "Date: " + validDate + "\r\n"
	tests := []struct {
		name string
		head string
		want []Problem
	}{
		{"valid", from + date, nil},
		{"valid in the other order", date + from, nil},
		{"field names in any case", "FROM: a@x.test\r\ndate: " + validDate + "\r\n", nil},
		{"no From", date + "To: a@x.test\r\n", []Problem{{"From", "missing"}}},
		{"no From, only Sender", date + "Sender: a@x.test\r\n", []Problem{{"From", "missing"}}},
		{"no From, only Resent-From", date + "Resent-Date: " + validDate + "\r\nResent-From: a@x.test\r\n",
			[]Problem{{"From", "missing"}}},
		{"no From, only Reply-To", date + "Reply-To: a@x.test\r\n", []Problem{{"From", "missing"}}},
		{"two From", from + date + "From: b@x.test\r\n",
			[]Problem{{"From", "appears 2 times; allowed once"}}},
		{"three From", from + from + date + from,
			[]Problem{{"From", "appears 3 times; allowed once"}}},
		{"two From in different case", from + date + "from: b@x.test\r\n",
			[]Problem{{"From", "appears 2 times; allowed once"}}},
		{"no Date", from + "Subject: s\r\n", []Problem{{"Date", "missing"}}},
		{"no Date, only Resent-Date", from + "Resent-Date: " + validDate + "\r\nResent-From: a@x.test\r\n",
			[]Problem{{"Date", "missing"}}},
		{"two Date", from + date + date, []Problem{{"Date", "appears 2 times; allowed once"}}},
		{"neither", "Subject: s\r\n", []Problem{{"Date", "missing"}, {"From", "missing"}}},
		{"empty header", "", []Problem{{"Date", "missing"}, {"From", "missing"}}},
		{"two of each", from + from + date + date, []Problem{
			{"Date", "appears 2 times; allowed once"}, {"From", "appears 2 times; allowed once"}}},
		{"bad Date", from + "Date: 32 Jan 1997 09:55:06 -0600\r\n",
			[]Problem{{"Date", dateErr(t, "32 Jan 1997 09:55:06 -0600")}}},
		{"empty Date", from + "Date:\r\n", []Problem{{"Date", dateErr(t, "")}}},
		{"empty From", date + "From:\r\n", []Problem{{"From", "empty"}}},
		{"From a bare group", date + "From: Undisclosed:;\r\n", nil}, // RFC 6854 §4
		{"two Sender", from + date + "Sender: a@x.test\r\nSender: b@x.test\r\n",
			[]Problem{{"Sender", "appears 2 times; allowed once"}}},
		{"two Message-ID", from + date + "Message-ID: <1@x.test>\r\nMessage-ID: <2@x.test>\r\n",
			[]Problem{{"Message-ID", "appears 2 times; allowed once"}}},
		{"two Reply-To", from + date + "Reply-To: a@x.test\r\nReply-To: b@x.test\r\n",
			[]Problem{{"Reply-To", "appears 2 times; allowed once"}}},
		{"two Bcc", from + date + "Bcc:\r\nBcc: b@x.test\r\n",
			[]Problem{{"Bcc", "appears 2 times; allowed once"}}},
		// RFC 5322 §3.6.6: each resent block has Resent-Date and Resent-From.
		{"resent block", from + date + "Resent-Date: " + validDate + "\r\nResent-From: r@x.test\r\n", nil},
		{"resent block without Resent-From", from + date + "Resent-Date: " + validDate + "\r\nResent-To: r@x.test\r\n",
			[]Problem{{"Resent-From", "missing from a resent block"}}},
		{"resent block without Resent-Date", from + date + "Resent-From: r@x.test\r\n",
			[]Problem{{"Resent-Date", "missing from a resent block"}}},
		{"two resent blocks, one without Resent-From", from + date +
			"Resent-Date: " + validDate + "\r\nResent-From: r@x.test\r\nResent-Date: " + validDate + "\r\n",
			[]Problem{{"Resent-From", "resent blocks with 2 Resent-Date and 1 Resent-From fields"}}},
		// Trace, resent and optional fields may repeat (§3.6, the table).
		{"repeatable fields", from + date + "Received: from a by b; " + validDate + "\r\n" +
			"Received: from c by d; " + validDate + "\r\nComments: one\r\nComments: two\r\n" +
			"Keywords: k\r\nKeywords: l\r\nX-A: 1\r\nX-A: 2\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := parseHeaderBytes([]byte(tc.head + "\r\n"))
			require.NoError(t, err)
			got := Validate(h)
			assert.Equal(t, tc.want, got)
			for _, p := range got {
				assert.True(t, strings.HasPrefix(p.Error(), "message: "+p.Field+": "), p.Error())
			}
		})
	}
}
