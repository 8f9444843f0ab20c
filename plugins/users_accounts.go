package plugins

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
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
func accountsScript(accounts []account, shell, tag string, master bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `set -e
sh=$(command -v %s || echo /bin/bash)
account() {
  getent group "$1" >/dev/null || groupadd -o -g "$3" "$1"
  id -u "$1" >/dev/null 2>&1 || useradd -o -u "$2" -g "$3" -s "$sh" -M -d "/home/$1" "$1"
  mkdir -p "/mnt/$1" /scratch
  chown "$1:" "/mnt/$1"
  ln -sfn "/mnt/$1" "/scratch/$1"
}
`, remote.Quote(shell))
	if master {
		fmt.Fprintf(&b, `home() {
  h=/home/$1
  if [ ! -d "$h" ]; then mkdir -p "$h"; cp -rT /etc/skel "$h"; chown -R "$1:" "$h"; chmod 750 "$h"; fi
  install -d -m 700 -o "$1" -g "$(id -g "$1")" "$h/.ssh"
  [ -f "$h/.ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$1@"%s -f "$h/.ssh/id_ed25519"
  touch "$h/.ssh/authorized_keys"
  grep -qxF "$(cat "$h/.ssh/id_ed25519.pub")" "$h/.ssh/authorized_keys" || cat "$h/.ssh/id_ed25519.pub" >> "$h/.ssh/authorized_keys"
  chmod 600 "$h/.ssh/id_ed25519" "$h/.ssh/authorized_keys"
  chown "$1:" "$h/.ssh/id_ed25519" "$h/.ssh/id_ed25519.pub" "$h/.ssh/authorized_keys"
}
`, remote.Quote(tag))
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
// NAME/.ssh/id_ed25519 and NAME/.ssh/id_ed25519.pub, into a gzip'd tarball.
func keysTarScript(accounts []account) string {
	files := make([]string, 0, 2*len(accounts))
	for _, a := range accounts {
		files = append(files, a.Name+"/.ssh/id_ed25519", a.Name+"/.ssh/id_ed25519.pub")
	}
	sort.Strings(files)
	return "tar -C /home -czf \"$t\" " + remote.QuoteArgs(files...)
}
