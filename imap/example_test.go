package imap_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/mime"
)

func ExampleParseSeqSet() {
	set, err := imap.ParseSeqSet("7:*,2:4,3")
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Normalize())
	fmt.Println(set.Contains(3), set.Contains(5), set.Contains(1000000))
	// With 9 messages in the mailbox, "*" is 9.
	fmt.Println(slices.Collect(set.All(9)))
	fmt.Println(set.Count(4000000000))
	// Output:
	// 2:4,7:*
	// true false true
	// [2 3 4 7 8 9]
	// 3999999997
}

func ExampleEncodeUTF7() {
	fmt.Println(imap.EncodeUTF7("Entwürfe & Notizen"))
	name, err := imap.DecodeUTF7("~peter/mail/&U,BTFw-/&ZeVnLIqe-")
	fmt.Println(name, err)
	// Output:
	// Entw&APw-rfe &- Notizen
	// ~peter/mail/台北/日本語 <nil>
}

func ExampleSearchCriteria() {
	c := imap.SearchCriteria{Keys: []imap.SearchKey{
		{Op: imap.SearchUnseen},
		imap.Or(imap.SearchKey{Op: imap.SearchFrom, Value: "alice"}, imap.SearchKey{Op: imap.SearchLarger, Num: 1 << 20}),
	}}
	fmt.Println(c)
	// Output:
	// UNSEEN OR FROM alice LARGER 1048576
}

func ExampleParseFetchItems() {
	items, err := imap.ParseFetchItems("(UID BODY.PEEK[1.HEADER.FIELDS (Subject)]<0.512>)")
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.Attr, it.Section.Part, it.Section.Fields, "as answered:", it.ResponseName())
	}
	// Output:
	// UID [] [] as answered: UID
	// BODY[] [1] [Subject] as answered: BODY[1.HEADER.FIELDS (Subject)]<0>
}

func ExampleBodyStructureString() {
	msg := "Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b--\r\n"
	s, err := mime.ReadStructure(strings.NewReader(msg))
	if err != nil {
		panic(err)
	}
	fmt.Println(imap.BodyStructureString(s, false, false))
	// Output:
	// (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 2 0)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 9 0) "alternative")
}

func ExampleError() {
	resp := &imap.StatusResponse{Tag: "a3", Type: imap.StatusNO,
		Code: &imap.ResponseCode{Code: imap.CodeOverQuota}, Text: "quota exceeded"}
	err := fmt.Errorf("append: %w", resp.Err())
	var e *imap.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code.Code, e.Temporary(), e.Text)
	}
	// Output:
	// OVERQUOTA true quota exceeded
}
