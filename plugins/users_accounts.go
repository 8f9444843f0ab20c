package plugins

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/setup"
)

// account is a batch user with the UID and GID it has on every node.
type account struct {
	Name     string
	UID, GID int
}

// validUserName is what useradd accepts on Debian without --badname: a lower-case letter or
// underscore first, then lower-case letters, digits, underscores and dashes, 32 at most.
var validUserName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// batchUserNames lists the users to create: the given names, then user001 ... userNNN, each
// once, in that order (the order UIDs are handed out in).
func batchUserNames(names []string, num int) ([]string, error) {
	if num < 0 {
		return nil, fmt.Errorf("num_users must not be negative, got %d", num)
	}
	seen := map[string]bool{}
	var out []string
	add := func(n string) error {
		if !validUserName.MatchString(n) {
			return fmt.Errorf("%q is not a valid user name (lower-case letters, digits, _ and -, starting with a letter or _)", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
		return nil
	}
	for _, n := range names {
		if err := add(strings.TrimSpace(n)); err != nil {
			return nil, err
		}
	}
	for i := 1; i <= num; i++ {
		if err := add(fmt.Sprintf("user%03d", i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// firstBatchUID is where new batch accounts start when the master has no regular users yet,
// as the cluster user step does.
const firstBatchUID = 1001

// idProbeScript reports, on the master, each name's existing account ("user NAME UID GID"),
// else its existing home's owner (a volume kept from an earlier cluster), else "user NAME new",
// then every UID and GID in use, from which assignAccounts picks free ones.
func idProbeScript(names []string) string {
	return fmt.Sprintf(`set -e
for u in %s; do
  if id -u "$u" >/dev/null 2>&1; then echo "user $u $(id -u "$u") $(id -g "$u")"
  elif [ -d "/home/$u" ]; then echo "user $u $(stat -c '%%u %%g' "/home/$u")"
  else echo "user $u new"
  fi
done
getent passwd | cut -d: -f3 | sed 's/^/uid /'
getent group | cut -d: -f3 | sed 's/^/gid /'`, remote.QuoteArgs(names...))
}

// assignAccounts turns the probe's output into an account per name, in order: existing ids
// are kept, new accounts get the lowest id above every regular UID in use (and at least
// firstBatchUID) that is free as both a UID and a GID, so each user's group has its UID.
func assignAccounts(names []string, probe string) ([]account, error) {
	known := map[string]account{}
	newUser := map[string]bool{}
	usedUID, usedGID := map[int]bool{}, map[int]bool{}
	top := firstBatchUID - 1
	for _, line := range strings.Split(probe, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "user" && f[2] == "new":
			newUser[f[1]] = true
		case len(f) == 4 && f[0] == "user":
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("cannot read ids from %q", line)
			}
			known[f[1]] = account{Name: f[1], UID: uid, GID: gid}
		case len(f) == 2 && (f[0] == "uid" || f[0] == "gid"):
			id, err := strconv.Atoi(f[1])
			if err != nil {
				continue // getent may list odd entries; they are no ids to avoid
			}
			if f[0] == "uid" {
				usedUID[id] = true
				if id > top && id < 60000 {
					top = id
				}
			} else {
				usedGID[id] = true
			}
		}
	}
	out := make([]account, 0, len(names))
	next := top + 1
	for _, n := range names {
		if a, ok := known[n]; ok {
			if a.UID < 1000 {
				return nil, fmt.Errorf("%s is a system account or its home belongs to one (uid %d): choose another name", n, a.UID)
			}
			out = append(out, a)
			continue
		}
		if !newUser[n] {
			return nil, fmt.Errorf("the master did not report on user %s", n)
		}
		for usedUID[next] || usedGID[next] {
			next++
		}
		usedUID[next], usedGID[next] = true, true
		out = append(out, account{Name: n, UID: next, GID: next})
	}
	return out, nil
}

// accountsScript creates the accounts that are missing on a node, with their ids, and their
// scratch space (/mnt/USER, linked from /scratch/USER) as the cluster user has. On the master,
// whose /home every node shares, it also makes each home from /etc/skel and an ed25519 key
// authorized for the user's own logins, which is passwordless SSH between all nodes (host keys
// are already in /etc/ssh/ssh_known_hosts). Accounts get no password: key logins only.
//
// Root creates only what no user can have touched yet (a new home, right after useradd, in the
// root-owned /home); everything inside a home, where the user may have planted links, is done
// as the user (setup.RunAsUser), so a link reaches nothing the user could not reach anyway.
func accountsScript(accounts []account, shell, tag string, master bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `set -e
sh=$(command -v %s || echo /bin/bash)
account() {
  getent group "$1" >/dev/null || groupadd -o -g "$3" "$1"
  id -u "$1" >/dev/null 2>&1 || useradd -o -u "$2" -g "$3" -s "$sh" -M -d "/home/$1" "$1"
  mkdir -p "/mnt/$1" /scratch
  chown -h "$1:" "/mnt/$1"
  ln -sfn "/mnt/$1" "/scratch/$1"
  if getent group %s >/dev/null; then usermod -a -G %s "$1"; fi
}
`, remote.Quote(shell), xvfbGroup, xvfbGroup)
	if master {
		// A user who broke their own ~/.ssh (a link where a file belongs) loses their
		// key, not everyone's setup: the step goes on and says so.
		fmt.Fprintf(&b, `home() {
  h=/home/$1
  %s
  %s || echo "clusterctl: the SSH key of $1 was not set up: its SSH directory holds something the user cannot write through" >&2
}
`, setup.NewHomeScript(`"$1"`, `"$h"`), setup.RunAsUser(`"$1"`, setup.UserKeysScript, `"$h"`, `"$1@"`+remote.Quote(tag)))
	}
	for _, a := range accounts {
		fmt.Fprintf(&b, "account %s %d %d\n", remote.Quote(a.Name), a.UID, a.GID)
		if master {
			fmt.Fprintf(&b, "home %s\n", remote.Quote(a.Name))
		}
	}
	return b.String()
}

// keysTarScript is a fetchAsRoot fragment packing every account's key pair, as
// NAME/.ssh/id_ed25519 and NAME/.ssh/id_ed25519.pub, into a gzip'd tarball. Each user's files
// are read as that user into a private staging directory: a link in a home to /root/.ssh or
// /etc/shadow yields nothing the user could not read. A user whose key cannot be read that
// way is left out, with a message.
func keysTarScript(accounts []account) string {
	var b strings.Builder
	b.WriteString("s=$(mktemp -d)\ntrap 'rm -rf \"$s\" \"$t\"' EXIT\n")
	for _, a := range accounts {
		u := remote.Quote(a.Name)
		fmt.Fprintf(&b, `mkdir -p "$s"/%[1]s/.ssh
for f in id_ed25519 id_ed25519.pub; do
  runuser -u %[1]s -- cat -- /home/%[1]s/.ssh/$f > "$s"/%[1]s/.ssh/$f || { echo "clusterctl: the key of %[1]s is left out: it cannot be read as %[1]s" >&2; rm -rf "$s"/%[1]s; break; }
done
`, u)
	}
	b.WriteString(`(cd "$s" && find . -type f | sed 's|^\./||' | sort) | tar -C "$s" -czf "$t" -T -` + "\nrm -rf \"$s\"\n")
	return b.String()
}
