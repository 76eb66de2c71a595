package maildir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 3501 §2.3.1.1: when UIDs fail to persist, the new UIDVALIDITY "MUST be
// greater than the one used in the earlier session", whatever the clock
// says: the list may have been started in the same second, or the clock
// may have been set back since.
func TestUIDValidityIncreasesOnRestart(t *testing.T) {
	const old = 2_000_000_000
	clocks := []struct {
		name string
		now  int64
	}{
		{"same second", old},
		{"clock set back", old - 86400},
		{"clock ahead", old + 100},
	}
	for _, c := range clocks {
		t.Run(c.name, func(t *testing.T) {
			validityClock = func() time.Time { return time.Unix(c.now, 0) }
			t.Cleanup(func() { validityClock = time.Now })
			want := uint32(max(c.now, old+1))
			v := strconv.Itoa(old)

			// UID space used up: the list starts over.
			d := newDir(t)
			k1, err := d.Deliver(strings.NewReader("Subject: 1\n\none\n"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(d.Path(), uidListFile),
				[]byte("mailwire-uidlist 1 "+v+" 4294967295\n4294967294 "+k1+"\n"), 0o600))
			_, err = d.Deliver(strings.NewReader("Subject: 2\n\ntwo\n"))
			require.NoError(t, err)
			_, err = d.Deliver(strings.NewReader("Subject: 3\n\nthree\n"))
			require.NoError(t, err)
			list, err := d.List()
			require.NoError(t, err)
			require.Len(t, list, 3)
			assert.Equal(t, []uint32{1, 2, 3}, []uint32{list[0].UID, list[1].UID, list[2].UID})
			assert.Equal(t, k1, list[0].Key)
			got, next, err := d.UIDValidity()
			require.NoError(t, err)
			assert.Equal(t, want, got, "UIDVALIDITY after the UID space ran out")
			assert.Equal(t, uint32(4), next)

			// A corrupt list whose header survived: its UIDVALIDITY is
			// known, and the new one is above it.
			for _, bad := range []string{
				"mailwire-uidlist 1 " + v + " 3\n1 " + k1 + "\n1 other\n",
				"mailwire-uidlist 1 " + v + " 3\n1 " + k1 + "\ngarbage\n",
				"mailwire-uidlist 1 " + v + " 1\n1 " + k1 + "\n",
				"mailwire-uidlist 1 " + v + " x\n",
			} {
				require.NoError(t, os.WriteFile(filepath.Join(d.Path(), uidListFile), []byte(bad), 0o600))
				got, _, err := d.UIDValidity()
				require.NoError(t, err)
				assert.Equal(t, want, got, "UIDVALIDITY after %q", bad)
			}
		})
	}
}

// With nothing to go by (the list gone, or its header unreadable), the
// clock gives the new UIDVALIDITY, never zero.
func TestUIDValidityFromClock(t *testing.T) {
	t.Cleanup(func() { validityClock = time.Now })
	d := newDir(t)
	for _, tc := range []struct {
		now  int64
		list string // "" to remove the list
		want uint32
	}{
		{1_900_000_000, "", 1_900_000_000},
		{1_800_000_000, "mailwire-uidlist 1 0 5\n", 1_800_000_000},
		{1_700_000_000, "garbage\n", 1_700_000_000},
		{0, "", 1},
		{1 << 32, "", 1},
		{5, "mailwire-uidlist 1 4294967295 9\n1 k\n1 k\n", 5}, // nothing is above
	} {
		validityClock = func() time.Time { return time.Unix(tc.now, 0) }
		path := filepath.Join(d.Path(), uidListFile)
		if tc.list == "" {
			if err := os.Remove(path); !errors.Is(err, fs.ErrNotExist) {
				require.NoError(t, err)
			}
		} else {
			require.NoError(t, os.WriteFile(path, []byte(tc.list), 0o600))
		}
		v, _, err := d.UIDValidity()
		require.NoError(t, err)
		assert.Equal(t, tc.want, v, "clock %d, list %q", tc.now, tc.list)
	}
}
