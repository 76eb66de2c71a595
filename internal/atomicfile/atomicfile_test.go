package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data")
	require.NoError(t, Write(path, strings.NewReader("one"), 0o640))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "one", string(b))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o640)&^umask(t), fi.Mode().Perm())
	}

	// Replacing keeps no temporary file.
	require.NoError(t, Write(path, strings.NewReader("two"), 0o600))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))
	assert.Equal(t, []string{"data"}, names(t, dir))
}

// umask returns the process's umask by creating a file.
func umask(t *testing.T) fs.FileMode {
	p := filepath.Join(t.TempDir(), "probe")
	require.NoError(t, os.WriteFile(p, nil, 0o777))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	return 0o777 &^ fi.Mode().Perm()
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	boom := errors.New("boom")
	// The reader fails after part of the new content: nothing of it may
	// show under the final name, and the temporary file goes.
	r := io.MultiReader(strings.NewReader("partial new content"), iotest.ErrReader(boom))
	err := Write(path, r, 0o600)
	require.ErrorIs(t, err, boom)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
	assert.Equal(t, []string{"data"}, names(t, dir))
}

func TestWriteMissingDir(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "nope", "data"), strings.NewReader("x"), 0o600)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestStepsSeparately(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data")
	f, err := New(path, 0o600)
	require.NoError(t, err)
	defer f.Abort()
	_, err = io.WriteString(f, "hello")
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	// Written and synced, but not yet visible under its name.
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(filepath.Base(f.Name()), ".data.tmp"), f.Name())

	require.NoError(t, f.Rename(""))
	require.NoError(t, SyncDir(dir))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	// Abort after the rename leaves the file alone; a second placing fails.
	require.NoError(t, f.Abort())
	assert.Error(t, f.Rename(""))
	assert.Equal(t, []string{"data"}, names(t, dir))
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrClosed)
}

func TestAbort(t *testing.T) {
	dir := t.TempDir()
	f, err := New(filepath.Join(dir, "data"), 0o600)
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, f.Abort())
	require.NoError(t, f.Abort(), "twice")
	assert.Empty(t, names(t, dir))
}

func TestCreateExclAndLink(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "new"), 0o700))
	tmp := filepath.Join(dir, "tmp", "unique")
	f, err := CreateExcl(tmp, 0o600)
	require.NoError(t, err)
	defer f.Abort()
	_, err = CreateExcl(tmp, 0o600)
	assert.ErrorIs(t, err, fs.ErrExist, "exclusive")

	_, err = f.ReadFrom(strings.NewReader("message"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())

	// Commit needs the destination New is given; failing, it cleans up.
	f3, err := CreateExcl(filepath.Join(dir, "tmp", "third"), 0o600)
	require.NoError(t, err)
	assert.Error(t, f3.Commit(), "no destination given")
	assert.NoFileExists(t, f3.Name())

	// Link refuses to replace.
	f2, err := CreateExcl(filepath.Join(dir, "tmp", "other"), 0o600)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "new", "taken"), []byte("first"), 0o600))
	assert.ErrorIs(t, f2.Link(filepath.Join(dir, "new", "taken")), fs.ErrExist)
	require.NoError(t, f2.Abort())
	b, err := os.ReadFile(filepath.Join(dir, "new", "taken"))
	require.NoError(t, err)
	assert.Equal(t, "first", string(b))

	require.NoError(t, f.Link(filepath.Join(dir, "new", "unique")))
	require.NoError(t, SyncDir(filepath.Join(dir, "new")))
	assert.Empty(t, names(t, filepath.Join(dir, "tmp")), "the temporary name goes")
	assert.Equal(t, []string{"taken", "unique"}, names(t, filepath.Join(dir, "new")))
}

func TestCommitRenameFailure(t *testing.T) {
	dir := t.TempDir()
	// The final name is a non-empty directory: the rename fails, and the
	// temporary file must not stay behind.
	target := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(filepath.Join(target, "x"), 0o700))
	f, err := New(target, 0o600)
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	assert.Error(t, f.Commit())
	assert.Equal(t, []string{"data"}, names(t, dir))
}

func TestSyncDirMissing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SyncDir does nothing on Windows")
	}
	assert.ErrorIs(t, SyncDir(filepath.Join(t.TempDir(), "nope")), fs.ErrNotExist)
}
