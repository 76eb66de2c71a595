package maildir

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFolders(t *testing.T) {
	d := newDir(t)
	sent, err := d.CreateFolder("Sent")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(d.Path(), ".Sent"), sent.Path())
	assert.Equal(t, "Sent", sent.Name())
	assert.FileExists(t, filepath.Join(sent.Path(), "maildirfolder"))
	_, err = d.CreateFolder("Sent")
	require.ErrorIs(t, err, fs.ErrExist)

	_, err = d.CreateFolder("Trash")
	require.NoError(t, err)
	_, err = d.CreateFolder("A/B")
	require.NoError(t, err)
	a, err := d.CreateFolder("A")
	require.NoError(t, err)
	c, err := a.CreateFolder("C") // relative to A
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(d.Path(), ".A.C"), c.Path())
	assert.Equal(t, "A/C", c.Name())

	names, err := d.Folders()
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "A/B", "A/C", "Sent", "Trash"}, names)
	names, err = a.Folders()
	require.NoError(t, err)
	assert.Equal(t, []string{"B", "C"}, names)

	k, err := sent.Deliver(strings.NewReader("in sent\n"))
	require.NoError(t, err)
	again, err := d.Folder("Sent")
	require.NoError(t, err)
	assert.Equal(t, "in sent\n", readAll(t, again, k))

	_, err = d.Folder("Nope")
	require.ErrorIs(t, err, fs.ErrNotExist)

	// Rename moves the children too.
	require.NoError(t, d.RenameFolder("A", "X/Y"))
	names, err = d.Folders()
	require.NoError(t, err)
	assert.Equal(t, []string{"Sent", "Trash", "X/Y", "X/Y/B", "X/Y/C"}, names)
	require.ErrorIs(t, d.RenameFolder("Sent", "Trash"), fs.ErrExist)
	require.ErrorIs(t, d.RenameFolder("Nope", "Other"), fs.ErrNotExist)
	require.ErrorIs(t, d.RenameFolder("Sent", "Sent/Sub"), ErrBadFolder)

	require.NoError(t, d.RemoveFolder("X/Y"))
	names, err = d.Folders()
	require.NoError(t, err)
	assert.Equal(t, []string{"Sent", "Trash", "X/Y/B", "X/Y/C"}, names)
	require.ErrorIs(t, d.RemoveFolder("X/Y"), fs.ErrNotExist)
	tmp, err := os.ReadDir(filepath.Join(d.Path(), "tmp"))
	require.NoError(t, err)
	assert.Empty(t, tmp)
}

func TestFolderNames(t *testing.T) {
	d := newDir(t)
	for _, bad := range []string{"", "a.b", "/a", "a/", "a//b", ".", "..", "a\x00", "a\nb", strings.Repeat("x", 201)} {
		_, err := d.CreateFolder(bad)
		assert.ErrorIs(t, err, ErrBadFolder, "%q", bad)
		_, err = d.Folder(bad)
		assert.ErrorIs(t, err, ErrBadFolder, "%q", bad)
	}
	f, err := d.CreateFolder("&AOQ-rger with space")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(d.Path(), ".&AOQ-rger with space"), f.Path())
}

func TestCopyAndMove(t *testing.T) {
	d := newDir(t)
	archive, err := d.CreateFolder("Archive")
	require.NoError(t, err)
	date := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
	k, err := d.Append(strings.NewReader("Subject: keep\n\nbody\n"), "FSa", date)
	require.NoError(t, err)

	ck, err := d.Copy(k, archive)
	require.NoError(t, err)
	assert.NotEqual(t, k, ck)
	list, err := archive.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, Flags("FSa"), list[0].Flags)
	assert.True(t, list[0].Date.Equal(date))
	assert.Equal(t, "Subject: keep\n\nbody\n", readAll(t, archive, ck))

	require.NoError(t, d.Move(k, archive))
	list, err = d.List()
	require.NoError(t, err)
	assert.Empty(t, list)
	list, err = archive.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, k, list[1].Key)
	assert.Equal(t, uint32(2), list[1].UID)
	assert.Equal(t, Flags("FSa"), list[1].Flags)
	assert.True(t, list[1].Date.Equal(date))
	require.ErrorIs(t, d.Move(k, archive), fs.ErrNotExist)
	_, err = d.Copy(k, archive)
	require.ErrorIs(t, err, fs.ErrNotExist)
}
