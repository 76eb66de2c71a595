package message_test

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailwire/mailwire/message"
)

func ExampleRead() {
	raw := "From: John Doe <jdoe@machine.example>\r\n" +
		"To: Mary Smith <mary@example.net>\r\n" +
		"Subject: =?ISO-8859-1?Q?Caf=E9?= tonight\r\n" +
		"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n" +
		"\r\n" +
		"See you there.\r\n"
	m, err := message.Read(strings.NewReader(raw))
	if err != nil {
		panic(err)
	}
	subject, _ := message.DecodeWords(m.Header.Get("Subject"))
	from, _ := message.ParseAddressList(m.Header.Get("From"))
	date, _ := message.ParseDate(m.Header.Get("Date"))
	body, _ := io.ReadAll(m.Body)
	fmt.Println(subject)
	fmt.Println(from[0].Name, from[0].Addr)
	fmt.Println(date.UTC())
	fmt.Printf("%q\n", body)
	// Output:
	// Café tonight
	// John Doe jdoe@machine.example
	// 1997-11-21 15:55:06 +0000 UTC
	// "See you there.\r\n"
}

func ExampleNewWriter() {
	var h message.Header
	h.Add("From", "André <andre@example.com>")
	h.Add("To", "bob@example.net")
	h.Add("Subject", "Grüße")
	h.Add("Date", message.FormatDate(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)))
	h.Add("Message-ID", "<1@example.com>")
	var out strings.Builder
	w, err := message.NewWriter(&out, &h, nil)
	if err != nil {
		panic(err)
	}
	io.WriteString(w, "Hello.\n") // written as "Hello.\r\n"
	w.Close()
	// Lines end in CRLF; shown here without the CR.
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// From: =?UTF-8?Q?Andr=C3=A9?= <andre@example.com>
	// To: bob@example.net
	// Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
	// Date: Wed, 1 May 2024 12:00:00 +0000
	// Message-ID: <1@example.com>
	//
	// Hello.
}

func ExampleParseAddressList() {
	list, err := message.ParseAddressList(`"Joe Q. Public" <john.q.public@example.com>, Team: a@x.test, b@x.test;, undisclosed-recipients:;`)
	if err != nil {
		panic(err)
	}
	for _, a := range list {
		if a.IsGroup {
			fmt.Printf("group %q with %d members\n", a.Name, len(a.Members))
			continue
		}
		fmt.Printf("%q <%s>\n", a.Name, a.Addr)
	}
	fmt.Println(len(message.Mailboxes(list)), "mailboxes")
	// Output:
	// "Joe Q. Public" <john.q.public@example.com>
	// group "Team" with 2 members
	// group "undisclosed-recipients" with 0 members
	// 3 mailboxes
}

func ExampleParseDate() {
	for _, s := range []string{
		"Fri, 21 Nov 1997 09:55:06 -0600",
		"26 Aug 76 1429 EDT",
		"Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)",
	} {
		t, err := message.ParseDate(s)
		fmt.Println(message.FormatDate(t), err)
	}
	// Output:
	// Fri, 21 Nov 1997 09:55:06 -0600 <nil>
	// Thu, 26 Aug 1976 14:29:00 -0400 <nil>
	// Thu, 13 Feb 1969 23:32:00 -0330 <nil>
}

func ExampleDecodeWords() {
	s, err := message.DecodeWords("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=")
	fmt.Println(s, err)
	// Output: If you can read this you understand the example. <nil>
}

func ExampleEncodeText() {
	fmt.Println(message.EncodeText("Résumé attached"))
	// Output: =?UTF-8?Q?R=C3=A9sum=C3=A9?= attached
}

func ExampleParseReceived() {
	r, err := message.ParseReceived("from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.net with ESMTPS id 4XYZ for <bob@example.net>; Tue, 1 Jul 2003 10:52:37 +0200")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.From, r.FromComment, r.By, r.With, r.ID, r.For)
	// Output: mail.example.com (mail.example.com [192.0.2.1]) mx.example.net ESMTPS 4XYZ bob@example.net
}

func ExampleValidate() {
	m, _ := message.Read(strings.NewReader("From: a@x.test, b@x.test\r\nSubject: hi\r\nSubject: again\r\n\r\n"))
	for _, p := range message.Validate(&m.Header) {
		fmt.Println(p)
	}
	// Output:
	// message: Subject: appears 2 times; allowed once
	// message: Date: missing
	// message: Sender: required when From has more than one mailbox
}

func ExampleRecipients() {
	var h message.Header
	h.Add("To", "Mary <mary@example.net>")
	h.Add("Cc", "Team: ann@example.org, bob@example.org;")
	h.Add("Bcc", "boss@example.com")
	rcpts, _ := message.Recipients(&h)
	message.StripBcc(&h)
	fmt.Println(rcpts, h.Has("Bcc"))
	// Output: [mary@example.net ann@example.org bob@example.org boss@example.com] false
}

// Trace fields go in front of a message as it is delivered (RFC 5322
// §3.6.7); WriteFields writes them without the blank line that ends a
// header, so the message's own header follows.
func ExampleHeader_WriteFields() {
	stored := "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
	var trace message.Header
	trace.Add("Return-Path", message.FormatReturnPath("a@example.org"))
	trace.Add("Received", "from client.example by mx.example; Tue, 1 Jul 2003 10:52:37 +0200")
	var out strings.Builder
	trace.WriteFields(&out)
	out.WriteString(stored)
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// Return-Path: <a@example.org>
	// Received: from client.example by mx.example; Tue, 1 Jul 2003 10:52:37 +0200
	// From: a@example.org
	// Subject: hi
	//
	// body
}
