package message_test

import (
	"fmt"
	"strings"

	"github.com/mailwire/mailwire/message"
)

// AppendValue unfolds values into one buffer that is reused from field to
// field, where keeping each value as a string is not needed.
func ExampleHeader_AppendValue() {
	m, err := message.Read(strings.NewReader("Subject: a long subject,\r\n folded\r\nTo: a@example.com,\r\n\tb@example.com\r\n\r\nbody"))
	if err != nil {
		panic(err)
	}
	var buf []byte
	for i := range m.Header.Len() {
		buf = m.Header.AppendValue(buf[:0], i)
		fmt.Printf("%s: %q\n", m.Header.Name(i), buf)
	}
	// Output:
	// Subject: "a long subject, folded"
	// To: "a@example.com,\tb@example.com"
}
