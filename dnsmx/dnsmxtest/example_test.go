package dnsmxtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
	"golang.org/x/net/dns/dnsmessage"
)

// A server outside a test function: Start, then Close. In tests, NewServer
// does both.
func ExampleServer() {
	srv := &dnsmxtest.Server{Zone: dnsmxtest.Zone{
		"example.test":     {dnsmxtest.MX(20, "mx2.example.test"), dnsmxtest.MX(10, "mx1.example.test")},
		"broken.test":      {dnsmxtest.ServFail()},
		"mx1.example.test": {dnsmxtest.A("192.0.2.1")},
	}}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := srv.Resolver()
	mxs, err := r.LookupMX(ctx, "example.test.")
	fmt.Println(len(mxs), mxs[0].Host, mxs[0].Pref, err)
	_, err = r.LookupMX(ctx, "broken.test.")
	fmt.Println(err != nil)
	fmt.Println(srv.Queries("example.test", dnsmessage.TypeMX))
	// Output:
	// 2 mx1.example.test. 10 <nil>
	// true
	// 1
}
