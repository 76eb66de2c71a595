package imapwire

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// mimeTestdata lists the sample messages of package mime, which the
// round-trip and Dovecot tests reuse.
func mimeTestdata(t testing.TB) []string {
	names, err := filepath.Glob("../../mime/testdata/*.eml")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return names
}

func readFile(t testing.TB, name string) []byte {
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}
