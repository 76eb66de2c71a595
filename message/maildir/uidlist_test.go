package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSortKeysArrivalOrder(t *testing.T) {
	keys := []string{"20.M5P1.h", "10.M1000P1.h", "10.M999P1.h", "10.M999P0.h", "9.x", "nodot", "10.Q3.h"}
	sortKeys(keys)
	assert.Equal(t, []string{"nodot", "9.x", "10.Q3.h", "10.M999P0.h", "10.M999P1.h", "10.M1000P1.h", "20.M5P1.h"}, keys)
}

// A message that another program renames while List reads the directory
// may be missing from one readdir (POSIX lets a renamed entry be seen
// once, twice or not at all). Its UID must survive that.
func TestUIDSurvivesMissedEntry(t *testing.T) {
	d := newDir(t)
	k1, err := d.Deliver(strings.NewReader("Subject: 1\n\none\n"))
	require.NoError(t, err)
	k2, err := d.Deliver(strings.NewReader("Subject: 2\n\ntwo\n"))
	require.NoError(t, err)
	before, err := d.List()
	require.NoError(t, err)
	require.Len(t, before, 2)

	// Hide k1 from the next directory read only, as a concurrent rename can.
	missed := false
	readDirNames = func(f *os.File) ([]string, error) {
		names, err := f.Readdirnames(-1)
		if !missed {
			for i, n := range names {
				if strings.HasPrefix(n, k1) {
					missed = true
					names = append(names[:i], names[i+1:]...)
					break
				}
			}
		}
		return names, err
	}
	t.Cleanup(func() { readDirNames = defaultReadDirNames })
	_, err = d.List()
	require.NoError(t, err)
	require.True(t, missed)

	after, err := d.List()
	require.NoError(t, err)
	require.Len(t, after, 2)
	assert.Equal(t, before[0].UID, after[0].UID)
	assert.Equal(t, before[1].UID, after[1].UID)
	assert.Equal(t, []string{k1, k2}, []string{after[0].Key, after[1].Key})

	// A message really removed by another program loses its UID.
	require.NoError(t, os.Remove(filepath.Join(d.Path(), after[0].File)))
	after, err = d.List()
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.Equal(t, before[1].UID, after[0].UID)
}

// A file another program left with a line break in its name is not a
// message here, and cannot reset the folder's UIDVALIDITY.
func TestControlCharacterNameIgnored(t *testing.T) {
	d := newDir(t)
	_, err := d.Deliver(strings.NewReader("Subject: 1\n\none\n"))
	require.NoError(t, err)
	v1, _, err := d.UIDValidity()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "new", "1.bad\nname"), []byte("x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(d.Path(), "cur", "2.bad\r:2,S"), []byte("x\n"), 0o600))
	validityClock = func() time.Time { return time.Unix(2e9, 0) }
	t.Cleanup(func() { validityClock = time.Now })
	for range 2 {
		list, err := d.List()
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, uint32(1), list[0].UID)
	}
	v2, _, err := d.UIDValidity()
	require.NoError(t, err)
	assert.Equal(t, v1, v2)
}
