package queue

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEntry feeds DirStore's message-file decoder arbitrary files: it must
// refuse or decode, never panic, and what it decodes lies within the file.
func FuzzEntry(f *testing.F) {
	dir := f.TempDir()
	s, err := OpenDirStore(dir, nil)
	if err != nil {
		f.Fatal(err)
	}
	id, err := s.Put(f.Context(), testEnvelope("b@b.test"), bytes.NewReader([]byte("Subject: x\r\n\r\nbody\r\n")))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := readFileForFuzz(dir, id)
	f.Add(good)
	f.Add([]byte("mailwire-queue 1 2\n{}\nMWQEND 0000000000000000 00000000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if e.bodyOff < 0 || e.bodyOff+e.bodyLen+trailerLen != int64(len(b)) || !ValidID(e.env.ID) {
			t.Fatalf("decoded entry out of bounds: off %d len %d of %d", e.bodyOff, e.bodyLen, len(b))
		}
	})
}

func readFileForFuzz(dir string, id ID) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, string(id)+".msg"))
}
