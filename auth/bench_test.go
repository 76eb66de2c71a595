package auth

import (
	"context"
	"testing"
)

func BenchmarkPasswordHash(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple", DefaultIterations)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash", func(b *testing.B) {
		for b.Loop() {
			if _, err := HashPassword("correct horse battery staple", DefaultIterations); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if err := VerifyPassword(enc, "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A full SCRAM-SHA-256 exchange: client-side PBKDF2 at DefaultIterations
// dominates; the server does two HMACs and a hash.
func BenchmarkSCRAMSHA256Exchange(b *testing.B) {
	st := NewMemoryStore()
	if err := st.SetPassword("user", "pencil"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, _ := NewSCRAMClient("SCRAM-SHA-256", "user", "pencil", nil)
		s, _ := NewServer("SCRAM-SHA-256", st, nil)
		if err := run(c, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainServer(b *testing.B) {
	st := NewMemoryStore()
	if err := st.SetPassword("user", "pencil"); err != nil {
		b.Fatal(err)
	}
	msg := []byte("\x00user\x00pencil")
	for b.Loop() {
		s, _ := NewServer("PLAIN", st, nil)
		if _, _, err := s.Next(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
}
