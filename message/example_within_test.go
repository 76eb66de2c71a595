package message_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mailwire/mailwire/message"
)

func ExampleReadHeaderWithin() {
	in := "Subject: one\r\nX-Tag: a\r\nX-Tag: b\r\nX-Tag: c\r\n\r\nthe body\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	h, cut, err := message.ReadHeaderWithin(br, message.Limits{MaxFields: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Len(), h.Get("Subject"))
	fmt.Println(cut.Err, "-", cut.Skipped, "bytes skipped")
	body, _ := io.ReadAll(br)
	fmt.Printf("%q\n", body)
	// Output:
	// 2 one
	// message: header line 3: message: too many header fields - 20 bytes skipped
	// "the body\r\n"
}
