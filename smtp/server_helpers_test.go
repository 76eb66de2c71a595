package smtp

import (
	"runtime"
	"sync"
	"testing"

	"github.com/mailwire/mailwire/internal/selfsigned"
	"github.com/stretchr/testify/require"
)

var (
	pairOnce sync.Once
	pair     *selfsigned.Pair
	pairErr  error
)

// mustPair returns a self-signed TLS pair shared by the package's tests
// (generating keys is slow under -race).
func mustPair(t testing.TB) *selfsigned.Pair {
	t.Helper()
	pairOnce.Do(func() { pair, pairErr = selfsigned.NewPair() })
	require.NoError(t, pairErr)
	return &selfsigned.Pair{Server: pair.Server.Clone(), Client: pair.Client.Clone(), CertPEM: pair.CertPEM, KeyPEM: pair.KeyPEM}
}

// heapGrowth runs f and returns how much the live heap grew (after GC).
func heapGrowth(t testing.TB, f func()) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
