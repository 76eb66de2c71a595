package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mailwire/mailwire/auth"
)

// usersHeader opens every users file this program writes.
const usersHeader = `# mailwire mailserver users. One user per line:
#   name:PASSWORD-HASH:{CRAM-MD5}KEY
# The hash (auth.HashPassword, PBKDF2-SHA-256 with SCRAM-SHA-256 keys) serves
# PLAIN, LOGIN and SCRAM-SHA-256. The CRAM-MD5 key (Dovecot's form) spares
# storing the password, but it is password-equivalent for CRAM-MD5:
# keep this file private (mode 0600). Edit with: mailserver -user name:password
`

// A user is one account. Name is the login name; a name without "@" has
// an address in each of the server's domains, a name with "@" is itself the
// only address.
type user struct {
	Name string
	Hash string          // auth.PasswordHash text form
	CRAM auth.CRAMMD5Key // zero when unknown (CRAM-MD5 then fails)
}

// users is the loaded users file and the lookups built from it.
type users struct {
	path    string
	domains []string // the server's domains, lower case
	list    []*user  // sorted by name
	store   *auth.MemoryStore
	byAddr  map[string]*user // lower-case address → user
	byLogin map[string]*user // login name (name or address) → user
}

// loadUsers reads the users file at path; a missing file gives no users.
func loadUsers(path string, domains []string) (*users, error) {
	u := &users{path: path, domains: domains}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return u, u.index()
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, auth.MaxUsersLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("%s:%d: want name:hash[:{CRAM-MD5}key]", path, n)
		}
		usr := &user{Name: strings.ToLower(fields[0]), Hash: fields[1]}
		if err := validUserName(usr.Name); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if _, err := auth.ParsePasswordHash(usr.Hash); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if len(fields) == 3 && fields[2] != "" {
			if usr.CRAM, err = auth.ParseCRAMMD5Key(fields[2]); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
		}
		if u.find(usr.Name) != nil {
			return nil, fmt.Errorf("%s:%d: user %q listed twice", path, n, usr.Name)
		}
		u.list = append(u.list, usr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, u.index()
}

func (u *users) find(name string) *user {
	for _, usr := range u.list {
		if usr.Name == name {
			return usr
		}
	}
	return nil
}

// set creates or updates a user in memory; save writes the file.
func (u *users) set(name, password string) error {
	hash, err := auth.HashPassword(password, auth.DefaultIterations)
	if err != nil {
		return err
	}
	usr := u.find(name)
	if usr == nil {
		usr = &user{Name: name}
		u.list = append(u.list, usr)
		slices.SortFunc(u.list, func(a, b *user) int { return strings.Compare(a.Name, b.Name) })
	}
	usr.Hash = hash
	usr.CRAM = auth.NewCRAMMD5Key(password)
	return u.index()
}

// index rebuilds the credential store and the address maps. Each user can
// log in with its name and with each of its addresses.
func (u *users) index() error {
	u.store = auth.NewMemoryStore()
	u.byAddr = map[string]*user{}
	u.byLogin = map[string]*user{}
	for _, usr := range u.list {
		logins := append([]string{usr.Name}, u.addresses(usr)...)
		for _, l := range slices.Compact(logins) {
			if err := u.store.SetPasswordHash(l, usr.Hash); err != nil {
				return fmt.Errorf("user %s: %w", usr.Name, err)
			}
			if usr.CRAM != (auth.CRAMMD5Key{}) {
				u.store.SetCRAMMD5Key(l, usr.CRAM)
			}
			if other := u.byLogin[l]; other != nil && other != usr {
				return fmt.Errorf("users %s and %s both log in as %s", other.Name, usr.Name, l)
			}
			u.byLogin[l] = usr
		}
		for _, a := range u.addresses(usr) {
			if other := u.byAddr[a]; other != nil {
				return fmt.Errorf("users %s and %s both have the address %s", other.Name, usr.Name, a)
			}
			u.byAddr[a] = usr
		}
	}
	return nil
}

// addresses returns the mail addresses of usr.
func (u *users) addresses(usr *user) []string {
	if strings.Contains(usr.Name, "@") {
		return []string{usr.Name}
	}
	var addrs []string
	for _, d := range u.domains {
		addrs = append(addrs, usr.Name+"@"+d)
	}
	return addrs
}

// localDomain reports whether the server receives mail for domain: one of
// its domains or the domain of a user named by full address.
func (u *users) localDomain(domain string) bool {
	domain = strings.ToLower(domain)
	if slices.Contains(u.domains, domain) {
		return true
	}
	for _, usr := range u.list {
		if _, d, ok := strings.Cut(usr.Name, "@"); ok && d == domain {
			return true
		}
	}
	return false
}

// lookupAddr returns the user receiving mail for addr, or nil. Addresses
// are matched without regard to case: RFC 5321 §2.4 lets the local part be
// case-sensitive, but user names are kept in lower case, so no user here
// differs from another by case alone.
func (u *users) lookupAddr(addr string) *user {
	addr = strings.ToLower(addr)
	if usr := u.byAddr[addr]; usr != nil {
		return usr
	}
	if local, domain, _ := strings.Cut(addr, "@"); local == "postmaster" && (domain == "" || u.localDomain(domain)) {
		return u.postmaster()
	}
	return nil
}

// postmaster returns the user who receives mail for postmaster in every
// local domain, RFC 5321 §4.5.1 requiring that address: the user named
// "postmaster", else "demo", else the first user by name.
func (u *users) postmaster() *user {
	if usr := u.find("postmaster"); usr != nil {
		return usr
	}
	if usr := u.find("demo"); usr != nil {
		return usr
	}
	if len(u.list) > 0 {
		return u.list[0]
	}
	return nil
}

// lookupLogin returns the user an authenticated identity names, or nil.
// Login names are matched without regard to case, as addresses are: user
// names are stored in lower case.
func (u *users) lookupLogin(name string) *user { return u.byLogin[strings.ToLower(name)] }

// credentials returns the store the SASL mechanisms and POP3 USER/PASS
// check logins against, folding the login name to lower case.
func (u *users) credentials() *foldedStore { return &foldedStore{u} }

// foldedStore is the users' credential store with login names matched
// without regard to case (see lookupLogin). The name folded is the SASL
// authentication identity; SCRAM and CRAM-MD5 keys do not depend on it.
type foldedStore struct{ u *users }

// CheckPassword implements auth.PasswordChecker.
func (f *foldedStore) CheckPassword(ctx context.Context, username, password string) error {
	return f.u.store.CheckPassword(ctx, strings.ToLower(username), password)
}

// SCRAMKeys implements auth.SCRAMStore.
func (f *foldedStore) SCRAMKeys(ctx context.Context, hash, username string) (auth.SCRAMKeys, error) {
	return f.u.store.SCRAMKeys(ctx, hash, strings.ToLower(username))
}

// CRAMMD5Key implements auth.CRAMMD5Store.
func (f *foldedStore) CRAMMD5Key(ctx context.Context, username string) (auth.CRAMMD5Key, error) {
	return f.u.store.CRAMMD5Key(ctx, strings.ToLower(username))
}

// owns reports whether addr is one of usr's addresses.
func (u *users) owns(usr *user, addr string) bool {
	return u.lookupAddr(addr) == usr
}

// save rewrites the users file atomically: a temporary file in the same
// directory, fsynced, renamed over the old one, then the directory fsynced.
func (u *users) save() error {
	var b strings.Builder
	b.WriteString(usersHeader)
	for _, usr := range u.list {
		b.WriteString(usr.Name + ":" + usr.Hash)
		if usr.CRAM != (auth.CRAMMD5Key{}) {
			b.WriteString(":" + usr.CRAM.String())
		}
		b.WriteByte('\n')
	}
	return writeFileAtomic(u.path, []byte(b.String()), 0o600)
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// randomPassword returns a password for the demo user: 26 base32
// characters, 130 bits.
func randomPassword() string { return rand.Text() }
