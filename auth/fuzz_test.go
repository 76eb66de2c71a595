package auth

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Each fuzz target feeds arbitrary client messages to a server mechanism,
// split at NUL-free "\n--\n" separators into successive responses, and checks
// that it never panics, never succeeds with wrong credentials and never
// accepts a message over the limit.

func splitMsgs(data []byte) [][]byte {
	return bytes.Split(data, []byte("\n--\n"))
}

func fuzzServer(t *testing.T, data []byte, newServer func() Server, canSucceed func(Server) bool) {
	s := newServer()
	for i, m := range splitMsgs(data) {
		if i == 0 && len(m) == 0 {
			m = nil
		}
		_, done, err := s.Next(context.Background(), m)
		if len(m) > DefaultMaxSize && err == nil {
			t.Fatalf("accepted a %d-byte message", len(m))
		}
		if done {
			if err == nil && !canSucceed(s) {
				t.Fatalf("succeeded as %q", s.Identity())
			}
			if _, _, err := s.Next(context.Background(), []byte("x")); err == nil {
				t.Fatal("Next after done did not fail")
			}
			return
		}
		if err != nil {
			t.Fatalf("error %v without done", err)
		}
	}
}

var fuzzStore = func() *MemoryStore {
	st := NewMemoryStore()
	if err := st.SetPassword("user", "pencil"); err != nil {
		panic(err)
	}
	st.AddToken("user", "token")
	return st
}()

// identityIs allows success only as the one user the store knows.
func identityIs(id string) func(Server) bool {
	return func(s Server) bool { return s.Identity() == id }
}

func FuzzPlainServer(f *testing.F) {
	for _, s := range []string{"\x00user\x00pencil", "user\x00user\x00pencil", "\x00user\x00wrong", "a\x00b", "", "\n--\n\x00user\x00pencil"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server { return NewPlainServer(fuzzStore) }, identityIs("user"))
	})
}

func FuzzLoginServer(f *testing.F) {
	for _, s := range []string{"\n--\nuser\n--\npencil", "user\n--\npencil", "user\n--\nwrong", "\n--\n\n--\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server { return NewLoginServer(fuzzStore) }, identityIs("user"))
	})
}

func FuzzCRAMMD5Server(f *testing.F) {
	c := NewCRAMMD5Client("user", "pencil")
	resp, _ := c.Next([]byte("<1.2@fuzz>"))
	for _, s := range []string{"\n--\n" + string(resp), "\n--\nuser 00000000000000000000000000000000", "\n--\nuser", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server {
			s := NewCRAMMD5Server(fuzzStore)
			s.Challenge = "<1.2@fuzz>"
			return s
		}, identityIs("user"))
	})
}

func FuzzScramServer(f *testing.F) {
	v := scramVectors[1]
	for _, s := range []string{
		v.c1 + "\n--\n" + v.c2,
		v.c1 + "\n--\n" + "c=biws,r=x,p=AAAA",
		"y,,n=user,r=abc\n--\nc=eSws,r=abcX,p=" + "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"p=tls-exporter,,n=user,r=abc",
		"n,a=a=3D,n=user,r=abc,ext=1\n--\nc=bixhPWE9M0Qs,r=abcX,x=1,p=AA==",
		"\n--\n" + v.c1,
	} {
		f.Add([]byte(s))
	}
	keys, _ := NewSCRAMKeys("SHA-256", "pencil", mustB64(v.salt), 4096)
	store := scramStore{"SHA-256/user": keys}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server {
			s, _ := NewSCRAMServer("SCRAM-SHA-256", store, nil)
			s.Nonce = "X"
			return s
		}, identityIs("user"))
	})
}

func FuzzScramClient(f *testing.F) {
	v := scramVectors[1]
	f.Add([]byte(v.s1 + "\n--\n" + v.s2))
	f.Add([]byte(v.s1 + "\n--\ne=invalid-proof"))
	f.Add([]byte("r=" + v.cnonce + "x,s=AAAA,i=4096,m=1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
		c.Nonce = v.cnonce
		c.MaxIterations = 4096 // keep each run cheap
		if _, _, err := c.Start(); err != nil {
			t.Fatal(err)
		}
		for _, m := range splitMsgs(data) {
			if _, err := c.Next(m); err != nil {
				break
			}
		}
		// Only the real server signature completes the exchange.
		if c.Complete() == nil && !bytes.Contains(data, []byte(v.s2)) {
			t.Fatal("completed without the server's proof")
		}
	})
}

func FuzzOAuthBearerServer(f *testing.F) {
	for _, s := range []string{
		"n,a=user,\x01host=h\x01port=1\x01auth=Bearer token\x01\x01",
		"n,,\x01auth=Bearer bad\x01\x01\n--\n\x01",
		"y,,\x01auth=bearer  token\x01\x01",
		"\x01",
		"\n--\nn,,\x01auth=\x01\x01",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server { return NewOAuthBearerServer(fuzzStore) }, identityIs("user"))
	})
}

func FuzzXOAuth2Server(f *testing.F) {
	for _, s := range []string{"user=user\x01auth=Bearer token\x01\x01", "user=user\x01auth=Bearer bad\x01\x01\n--\n", "user=\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server { return NewXOAuth2Server(fuzzStore) }, identityIs("user"))
	})
}

func FuzzExternalServer(f *testing.F) {
	for _, s := range []string{"", "user", "\n--\nuser", "a\x00b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Without a certificate EXTERNAL must never succeed.
		fuzzServer(t, data, func() Server { return NewExternalServer(externalPolicy{}, nil) }, func(Server) bool { return false })
	})
}

func FuzzAnonymousServer(f *testing.F) {
	for _, s := range []string{"", "sirhc@example.com", "banned", "\n--\ntrace"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzServer(t, data, func() Server { return NewAnonymousServer(externalPolicy{}) }, identityIs("anonymous"))
	})
}

func FuzzParsePasswordHash(f *testing.F) {
	good, _ := HashPassword("pencil", 0)
	f.Add(good)
	f.Add("$pbkdf2-sha256$i=4096,l=16$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParsePasswordHash(s)
		if err != nil {
			return
		}
		// Round trip, and keep verification cheap.
		h2, err := ParsePasswordHash(h.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", h.String(), err)
		}
		if h2.String() != h.String() {
			t.Fatalf("round trip %q != %q", h2.String(), h.String())
		}
		if h.Iterations <= 5000 {
			h.Verify("pencil")
		}
	})
}

func FuzzReadUsers(f *testing.F) {
	f.Add("alice:$scram-sha-256$i=4096$W22ZaJ0SNY7soEsUEjb6gQ$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY$wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU\n")
	f.Add("# c\n\nb:{CRAM-MD5}54b21152711fb604ca3e035e7015116bd06d4e1b26fccaa4b0b61801132340a3:1:2\n")
	f.Add("c:{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=\n")
	f.Fuzz(func(t *testing.T, s string) {
		// {PLAIN} lines cost a PBKDF2 run each: keep the input small.
		if len(s) > 2048 || strings.Count(s, "{PLAIN}") > 2 {
			return
		}
		NewMemoryStore().ReadUsers(strings.NewReader(s))
	})
}
