package authres_test

import (
	"fmt"
	"strings"

	"github.com/mailwire/mailwire/auth/authres"
)

func ExampleParse() {
	r, err := authres.Parse(`example.com;
	  spf=pass smtp.mailfrom=example.net;
	  dkim=pass (good signature) header.d=example.net header.s=sel`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.AuthServID)
	for _, res := range r.Results {
		if d, ok := res.Get(authres.PTypeHeader, "d"); ok {
			fmt.Println(res.Method, res.Value, "d="+d)
			continue
		}
		fmt.Println(res.Method, res.Value)
	}
	// Output:
	// example.com
	// spf pass
	// dkim pass d=example.net
}

func ExampleResults_Format() {
	r := &authres.Results{AuthServID: "mx.example.org", Results: []authres.Result{
		{Method: authres.MethodSPF, Value: authres.Pass,
			Comment:    "domain of alice@example.com designates 192.0.2.1 as permitted sender",
			Properties: []authres.Property{{Type: authres.PTypeSMTP, Name: "mailfrom", Value: "example.com"}}},
		{Method: authres.MethodDKIM, Value: authres.Fail, Reason: "body hash mismatch",
			Properties: []authres.Property{{Type: authres.PTypeHeader, Name: "d", Value: "example.com"}}},
		{Method: authres.MethodDMARC, Value: authres.Pass,
			Properties: []authres.Property{{Type: authres.PTypeHeader, Name: "from", Value: "example.com"}}},
	}}
	v, err := r.Format()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Written as is, with CRLF line ends:
	field := authres.FieldName + ": " + v + "\r\n"
	fmt.Print(strings.ReplaceAll(field, "\r\n", "\n"))
	// For message.Header, which folds as it writes:
	// h.Add(authres.FieldName, r.String())

	fmt.Println((&authres.Results{AuthServID: "mx.example.org"}).String())
	// Output:
	// Authentication-Results: mx.example.org; spf=pass (domain of alice@example.com
	//  designates 192.0.2.1 as permitted sender) smtp.mailfrom=example.com;
	//  dkim=fail reason="body hash mismatch" header.d=example.com; dmarc=pass
	//  header.from=example.com
	// mx.example.org; none
}
