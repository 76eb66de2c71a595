package maildir

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The multi-process test re-executes the test binary, running only
// TestMultiProcessChild, with these variables set.
const (
	mpRoleEnv     = "MAILWIRE_MAILDIR_MP_ROLE" // "deliver" or "read"
	mpDirEnv      = "MAILWIRE_MAILDIR_MP_DIR"
	mpCountEnv    = "MAILWIRE_MAILDIR_MP_COUNT"    // deliveries per deliverer
	mpValidityEnv = "MAILWIRE_MAILDIR_MP_VALIDITY" // the UIDVALIDITY to expect
)

// mpMaxReads bounds the iterations of a reading child, which otherwise runs
// until its standard input is closed.
const mpMaxReads = 20000

// TestMultiProcessChild is the body of the child processes of
// TestMultiProcess; run directly, it does nothing.
func TestMultiProcessChild(t *testing.T) {
	role := os.Getenv(mpRoleEnv)
	if role == "" {
		t.Skip("helper process of TestMultiProcess")
	}
	d, err := Open(os.Getenv(mpDirEnv))
	require.NoError(t, err)
	v, err := strconv.ParseUint(os.Getenv(mpValidityEnv), 10, 32)
	require.NoError(t, err)
	c := &mpChild{d: d, validity: uint32(v), uids: map[string]uint32{},
		out: bufio.NewWriter(os.Stdout),
		rng: rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))}
	switch role {
	case "deliver":
		n, err := strconv.Atoi(os.Getenv(mpCountEnv))
		require.NoError(t, err)
		err = c.deliver(n)
		require.NoError(t, err)
	case "read":
		require.NoError(t, c.read())
	default:
		t.Fatalf("unknown role %q", role)
	}
	fmt.Fprintf(c.out, "S %d lists, %d moves and flag changes, %d reads\n", c.lists, c.moves, c.reads)
	// Every key and UID this process saw, for the parent to compare.
	for k, u := range c.uids {
		fmt.Fprintf(c.out, "U %d %s\n", u, k)
	}
	require.NoError(t, c.out.Flush())
}

type mpChild struct {
	d        *Dir
	validity uint32
	rng      *rand.Rand
	out      *bufio.Writer
	uids     map[string]uint32 // every key seen by List, with its UID
	maxUID   uint32            // the highest UID seen by List
	lists    int
	moves    int
	reads    int
}

// list calls List and checks it against what earlier calls returned: a
// key keeps its UID, UIDs are unique, and a key not seen before has a UID
// above every UID seen before (RFC 3501 §2.3.1.1: UIDs are assigned in
// strictly ascending order). Another process's List in between may have
// assigned it, but only from a next UID that never goes down.
func (c *mpChild) list() ([]Message, error) {
	list, err := c.d.List()
	if err != nil {
		return nil, err
	}
	c.lists++
	before := c.maxUID
	inList := map[uint32]string{}
	for _, m := range list {
		if m.UID == 0 {
			return nil, fmt.Errorf("%s has UID 0", m.Key)
		}
		if other, dup := inList[m.UID]; dup {
			return nil, fmt.Errorf("UID %d for both %s and %s", m.UID, m.Key, other)
		}
		inList[m.UID] = m.Key
		if old, ok := c.uids[m.Key]; ok {
			if old != m.UID {
				return nil, fmt.Errorf("UID of %s changed from %d to %d", m.Key, old, m.UID)
			}
			continue
		}
		if m.UID <= before {
			return nil, fmt.Errorf("new key %s got UID %d, not above %d seen before", m.Key, m.UID, before)
		}
		c.uids[m.Key] = m.UID
		c.maxUID = max(c.maxUID, m.UID)
	}
	// Every key seen before is still there: nothing is removed here.
	if len(c.uids) != len(list) {
		return nil, fmt.Errorf("List returned %d messages after %d were seen", len(list), len(c.uids))
	}
	if c.lists%8 == 0 {
		v, next, err := c.d.UIDValidity()
		if err != nil {
			return nil, err
		}
		if v != c.validity {
			return nil, fmt.Errorf("UIDVALIDITY changed from %d to %d", c.validity, v)
		}
		if next <= c.maxUID {
			return nil, fmt.Errorf("next UID %d not above UID %d", next, c.maxUID)
		}
	}
	return list, nil
}

// deliver delivers n messages (one in five by Append into cur), each with
// its checksum, printing each key once Deliver returned, and lists after
// each so that the message gets its UID before the next one is delivered.
func (c *mpChild) deliver(n int) error {
	for i := range n {
		msg := crashMessage(c.rng)
		var key string
		var err error
		if i%5 == 4 {
			key, err = c.d.Append(bytes.NewReader(msg), "S", time.Time{})
		} else {
			key, err = c.d.Deliver(bytes.NewReader(msg))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "K %s\n", key)
		if _, err := c.list(); err != nil {
			return err
		}
		if _, ok := c.uids[key]; !ok {
			return fmt.Errorf("List after delivering %s does not have it", key)
		}
		if err := c.check(key); err != nil {
			return err
		}
	}
	return nil
}

// read lists, moves messages from new to cur, changes flags and reads
// messages until its standard input is closed, as an IMAP or POP3 server
// process would.
func (c *mpChild) read() error {
	var stop atomic.Bool
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop.Store(true)
	}()
	flags := []Flags{"", "S", "FS", "RS", "DT", "Sa"}
	for i := 0; i < mpMaxReads && !stop.Load(); i++ {
		list, err := c.list()
		if err != nil {
			return err
		}
		if len(list) == 0 {
			continue
		}
		m := list[c.rng.IntN(len(list))]
		switch c.rng.IntN(4) {
		case 0:
			var moved []string
			moved, err = c.d.MoveNewToCur()
			c.moves += len(moved)
		case 1:
			err = c.d.MoveToCur(m.Key)
			c.moves++
		case 2:
			err = c.d.SetFlags(m.Key, flags[c.rng.IntN(len(flags))])
			c.moves++
		case 3:
			err = c.check(m.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// check reads a message and verifies its checksum. Another process may
// rename it between finding and opening it more than once; Open retries
// once, so try a few times.
func (c *mpChild) check(key string) error {
	for try := 0; ; try++ {
		f, err := c.d.Open(key)
		if errors.Is(err, fs.ErrNotExist) && try < 10 {
			continue
		}
		if err != nil {
			return err
		}
		b, err := io.ReadAll(f)
		f.Close()
		c.reads++
		if err != nil {
			return err
		}
		if err := checkMessage(b); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	}
}

type mpProc struct {
	role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// TestMultiProcess runs deliveries, UID assignment, listing, moves from new
// to cur and flag changes in separate processes on one Maildir, as a
// delivery agent and IMAP and POP3 servers do, then checks that every
// delivery is there exactly once and intact, that UIDs are unique, stable
// and ascending in order of assignment, and that UIDVALIDITY never changed.
// flock(2) locks are per open file description, so goroutines (see
// TestConcurrentDeliveriesAndReaders) would not catch a lock that fails to
// exclude other processes.
func TestMultiProcess(t *testing.T) {
	const deliverers, readers = 4, 2
	each := 30
	switch {
	case testing.Short():
		each = 8
	case raceEnabled:
		each = 15
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	d := newDir(t)
	validity, _, err := d.UIDValidity()
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := func(role string) *mpProc {
		p := &mpProc{role: role, cmd: exec.CommandContext(ctx, exe, "-test.run=^TestMultiProcessChild$", "-test.count=1")}
		p.cmd.Env = append(os.Environ(), mpRoleEnv+"="+role, mpDirEnv+"="+d.Path(),
			mpCountEnv+"="+strconv.Itoa(each), mpValidityEnv+"="+strconv.FormatUint(uint64(validity), 10))
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if role == "read" {
			p.stdin, err = p.cmd.StdinPipe()
			require.NoError(t, err)
		}
		require.NoError(t, p.cmd.Start())
		return p
	}
	var procs []*mpProc
	for range readers {
		procs = append(procs, start("read"))
	}
	for range deliverers {
		procs = append(procs, start("deliver"))
	}
	t.Cleanup(func() {
		cancel()
		for _, p := range procs {
			_ = p.cmd.Wait()
		}
	})
	wait := func(p *mpProc) {
		t.Helper()
		err := p.cmd.Wait()
		require.NoError(t, err, "%s child:\n%s\n%s", p.role, p.stdout.String(), p.stderr.String())
	}
	// Readers run until the deliveries are done.
	var wg sync.WaitGroup
	for _, p := range procs[readers:] {
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.cmd.Wait() }()
	}
	wg.Wait()
	for _, p := range procs[:readers] {
		require.NoError(t, p.stdin.Close())
	}
	for _, p := range procs {
		if p.cmd.ProcessState == nil {
			wait(p)
		}
		require.True(t, p.cmd.ProcessState.Success(), "%s child:\n%s\n%s",
			p.role, p.stdout.String(), p.stderr.String())
	}

	// Gather what the children reported.
	delivered := map[string]bool{}
	uids := map[string]uint32{}
	keyOf := map[uint32]string{}
	for i, p := range procs {
		var own []uint32
		var keys []string
		for line := range strings.Lines(p.stdout.String()) {
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "K "):
				k := line[2:]
				require.False(t, delivered[k], "key %s delivered twice", k)
				delivered[k] = true
				keys = append(keys, k)
			case strings.HasPrefix(line, "S "):
				t.Logf("%s child: %s", p.role, line[2:])
			case strings.HasPrefix(line, "U "):
				us, k, ok := strings.Cut(line[2:], " ")
				require.True(t, ok, line)
				u, err := strconv.ParseUint(us, 10, 32)
				require.NoError(t, err, line)
				if old, seen := uids[k]; seen {
					require.Equal(t, old, uint32(u), "processes disagree on the UID of %s", k)
				}
				if other, seen := keyOf[uint32(u)]; seen {
					require.Equal(t, other, k, "UID %d given to two keys", u)
				}
				uids[k], keyOf[uint32(u)] = uint32(u), k
			}
		}
		if i >= readers {
			require.Len(t, keys, each, "deliveries reported by a child")
			for _, k := range keys {
				own = append(own, uids[k])
			}
			// Each child listed after each delivery, so its messages
			// got UIDs in the order it delivered them.
			for j := 1; j < len(own); j++ {
				require.Less(t, own[j-1], own[j], "UIDs of one child's deliveries, in order: %v", own)
			}
		}
	}
	require.Len(t, delivered, deliverers*each)

	// Every delivery is stored exactly once, intact; nothing else is.
	stored := map[string]int{}
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(d.Path(), sub))
		require.NoError(t, err)
		for _, e := range ents {
			n, err := ParseName(e.Name())
			require.NoError(t, err)
			stored[n.Key]++
			b, err := os.ReadFile(filepath.Join(d.Path(), sub, e.Name()))
			require.NoError(t, err)
			require.NoError(t, checkMessage(b), "%s/%s", sub, e.Name())
			require.Equal(t, n.Size, int64(len(b)), "S= of %s", e.Name())
		}
	}
	for k := range delivered {
		assert.Equal(t, 1, stored[k], "copies of %s", k)
	}
	assert.Len(t, stored, len(delivered))

	// The final list agrees with what the children saw.
	list, err := d.List()
	require.NoError(t, err)
	require.Len(t, list, len(delivered))
	for i, m := range list {
		require.Equal(t, uids[m.Key], m.UID, "UID of %s", m.Key)
		if i > 0 {
			require.Less(t, list[i-1].UID, m.UID)
		}
	}
	v, next, err := d.UIDValidity()
	require.NoError(t, err)
	assert.Equal(t, validity, v, "UIDVALIDITY")
	assert.Greater(t, next, list[len(list)-1].UID)

	// Every delivery completed, so nothing is left in tmp.
	ents, err := os.ReadDir(filepath.Join(d.Path(), "tmp"))
	require.NoError(t, err)
	assert.Empty(t, ents)
}
