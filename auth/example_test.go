package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"

	"github.com/mailwire/mailwire/auth"
)

// A client exchange as a protocol package drives it: here SCRAM-SHA-256
// with the challenges of RFC 7677 §3, and a fixed nonce to reproduce them.
func ExampleSCRAMClient() {
	c, err := auth.NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Nonce = "rOprNGfwEbeRWgbNEkqO" // normally left empty: random
	mech, ir, _ := c.Start()
	fmt.Printf("AUTH %s %s\n", mech, base64.StdEncoding.EncodeToString(ir))

	for _, challenge := range []string{
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	} {
		resp, err := c.Next([]byte(challenge))
		if err != nil {
			log.Fatal(err)
		}
		if len(resp) == 0 {
			resp = []byte("(empty response)")
		}
		fmt.Printf("C: %s\n", resp)
	}
	// On the server's success reply: did the server prove itself?
	fmt.Println("server verified:", c.Complete() == nil)
	// Output:
	// AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=
	// C: c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=
	// C: (empty response)
	// server verified: true
}

// A server with an in-memory credential store: advertise what the store can
// serve, then run one exchange per AUTH command.
func ExampleNewServer() {
	users := auth.NewMemoryStore()
	if err := users.SetPassword("alice", "wonderland"); err != nil {
		log.Fatal(err)
	}

	// Without TLS (nil connection state) only mechanisms that do not reveal
	// the password are advertised.
	fmt.Println(auth.Mechanisms(users, nil))

	s, err := auth.NewServer("PLAIN", users, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, done, err := s.Next(context.Background(), []byte("\x00alice\x00wonderland")) // decoded initial response
	fmt.Println(done, err, s.Identity())

	s, _ = auth.NewServer("PLAIN", users, nil)
	_, _, err = s.Next(context.Background(), []byte("\x00alice\x00guess"))
	fmt.Println(errors.Is(err, auth.ErrAuthFailed))
	// Output:
	// [SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5]
	// true <nil> alice
	// true
}

// A users file line: the hash serves PLAIN, LOGIN and SCRAM-SHA-256.
func ExampleHashPassword() {
	line, err := auth.HashPassword("wonderland", 0) // 0: DefaultIterations
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(auth.VerifyPassword(line, "wonderland") == nil)

	users := auth.NewMemoryStore()
	if err := users.SetPasswordHash("alice", line); err != nil {
		log.Fatal(err)
	}
	c, _ := auth.NewSCRAMClient("SCRAM-SHA-256", "alice", "wonderland", nil)
	s, _ := auth.NewServer("SCRAM-SHA-256", users, nil)
	_, resp, _ := c.Start()
	for {
		chal, done, err := s.Next(context.Background(), resp)
		if err != nil {
			log.Fatal(err)
		}
		if done {
			c.Next(chal) // the server signature comes with success
			break
		}
		resp, _ = c.Next(chal)
	}
	fmt.Println(s.Identity(), c.Complete() == nil)
	// Output:
	// true
	// alice true
}
