package charset_test

import (
	"fmt"

	"github.com/mailwire/mailwire/internal/charset"
)

func ExampleDecodeString() {
	s, err := charset.DecodeString("ISO-8859-1", "caf\xe9")
	fmt.Println(s, err)
	// Output: café <nil>
}
