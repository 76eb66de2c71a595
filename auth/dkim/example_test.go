package dkim_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log"
	"net"
	"strings"

	"github.com/mailwire/mailwire/auth/dkim"
)

// staticDNS serves fixed TXT records, standing in for a *net.Resolver.
type staticDNS map[string]string

func (d staticDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if r, ok := d[name]; ok {
		return []string{r}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

const exampleMessage = "From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.net>\r\n" +
	"Subject: Hello\r\n" +
	"\r\n" +
	"Hi Bob.\r\n"

// Sign a message as it streams into its destination: the Signer sees the
// message once, and the DKIM-Signature field is written in front of it.
func ExampleSigner() {
	key := ed25519.NewKeyFromSeed(make([]byte, 32)) // load your own key
	s, err := dkim.NewSigner(&dkim.SignOptions{Domain: "example.org", Selector: "mail", Key: key})
	if err != nil {
		log.Fatal(err)
	}
	// In a server, the message would also be written to a spool file here
	// (io.MultiWriter(spool, s)); the Signer keeps only the header.
	if _, err := io.Copy(s, strings.NewReader(exampleMessage)); err != nil {
		log.Fatal(err)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	fields := string(s.Fields())
	fmt.Println(strings.HasPrefix(fields, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"))
	// Output: true
}

// Sign a message and verify it, serving the key record from a fake DNS.
func ExampleVerify() {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	var signed bytes.Buffer
	err := dkim.Sign(&signed, strings.NewReader(exampleMessage),
		&dkim.SignOptions{Domain: "example.org", Selector: "mail", Key: key})
	if err != nil {
		log.Fatal(err)
	}

	rec, _ := dkim.NewKeyRecord(key.Public())
	dns := staticDNS{"mail._domainkey.example.org.": rec.String()}
	results, err := dkim.Verify(context.Background(), &signed, &dkim.VerifyOptions{Resolver: dns})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.Domain(), r.Status, r.Err, r.UnsignedBytes)
	}
	// Output: example.org pass <nil> 0
}

// Publish a key: the TXT record to put at selector._domainkey.domain.
func ExampleNewKeyRecord() {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	rec, _ := dkim.NewKeyRecord(key.Public())
	fmt.Println(rec)
	// Output: v=DKIM1; k=ed25519; p=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=
}
