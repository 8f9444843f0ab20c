package plugins

import (
	"github.com/clusterctl/clusterctl/internal/setup"
	"reflect"
	"strings"
	"testing"
)

func TestBatchUserNames(t *testing.T) {
	cases := []struct {
		name  string
		names []string
		num   int
		want  []string
		err   string
	}{
		{"numbered", nil, 3, []string{"user001", "user002", "user003"}, ""},
		{"names then numbers, each once", []string{"alice", "user002", " bob "}, 2, []string{"alice", "user002", "bob", "user001"}, ""},
		{"none", nil, 0, nil, ""},
		{"negative", nil, -1, nil, "negative"},
		{"upper case", []string{"Alice"}, 0, nil, "not a valid user name"},
		{"shell metacharacters", []string{"a;rm"}, 0, nil, "not a valid user name"},
		{"leading digit", []string{"1abc"}, 0, nil, "not a valid user name"},
		{"too long", []string{strings.Repeat("a", 33)}, 0, nil, "not a valid user name"},
	}
	for _, tc := range cases {
		got, err := batchUserNames(tc.names, tc.num)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestAssignAccounts(t *testing.T) {
	base := "uid 0\nuid 100\nuid 1000\nuid 1001\nuid 65534\ngid 0\ngid 1000\ngid 1001\ngid 1003\n"
	cases := []struct {
		name  string
		names []string
		probe string
		want  []account
		err   string
	}{
		{"new users skip ids in use as uid or gid", []string{"a", "b"},
			"user a new\nuser b new\n" + base,
			[]account{{"a", 1002, 1002}, {"b", 1004, 1004}}, ""},
		{"existing accounts and homes keep their ids", []string{"a", "b", "c"},
			"user a 1500 1500\nuser b 2000 100\nuser c new\n" + base + "uid 1500\nuid 2000\n",
			[]account{{"a", 1500, 1500}, {"b", 2000, 100}, {"c", 2001, 2001}}, ""},
		{"ids above 60000 do not push new ones up", []string{"a"},
			"user a new\nuid 1000\nuid 60001\nuid 65534\n",
			[]account{{"a", 1001, 1001}}, ""},
		{"empty master starts at 1001", []string{"a"}, "user a new\nuid 0\n", []account{{"a", 1001, 1001}}, ""},
		{"system account", []string{"daemon"}, "user daemon 1 1\n" + base, nil, "system account"},
		{"home owned by root", []string{"a"}, "user a 0 0\n" + base, nil, "system account"},
		{"name not reported", []string{"a", "b"}, "user a new\n" + base, nil, "did not report on user b"},
		{"garbled ids", []string{"a"}, "user a x y\n" + base, nil, "cannot read ids"},
	}
	for _, tc := range cases {
		got, err := assignAccounts(tc.names, tc.probe)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestUserScripts(t *testing.T) {
	accounts := []account{{"alice", 1002, 1002}, {"user001", 1003, 1003}}
	probe := idProbeScript([]string{"alice", "user001"})
	master := accountsScript(accounts, "bash", "mycluster", true)
	worker := accountsScript(accounts, "bash", "mycluster", false)
	keys := keysTarScript(accounts)
	for name, s := range map[string]string{"probe": probe, "master": master, "worker": worker, "keys": "t=x\n" + keys} {
		checkSyntax(t, name, s)
	}
	wantLines(t, "probe", probe, "for u in alice user001; do")
	// Every node: the same ids, created only when missing, and scratch space.
	for name, s := range map[string]string{"master": master, "worker": worker} {
		wantLines(t, name, s,
			`  getent group "$1" >/dev/null || groupadd -o -g "$3" "$1"`,
			`  id -u "$1" >/dev/null 2>&1 || useradd -o -u "$2" -g "$3" -s "$sh" -M -d "/home/$1" "$1"`,
			`  ln -sfn "/mnt/$1" "/scratch/$1"`,
			"account alice 1002 1002",
			"account user001 1003 1003")
	}
	// Only the master, which serves /home, makes homes and keys, and everything inside a home
	// is done as its user: root never opens a path under ~/.ssh, where links can be planted.
	runAs := setup.RunAsUser(`"$1"`, setup.UserKeysScript, `"$h"`, `"$1@"mycluster`)
	wantLines(t, "master", master, "home alice", `  runuser -u "$1" -- cp -rT /etc/skel "$h"`)
	if !strings.Contains(master, "\n  "+runAs+" || echo") {
		t.Errorf("master does not make the keys as the user:\n%s", master)
	}
	if strings.Contains(strings.Replace(master, runAs, "", 1), ".ssh") {
		t.Errorf("root touches ~/.ssh outside runuser:\n%s", master)
	}
	if strings.Contains(worker, "ssh-keygen") || strings.Contains(worker, "home alice") {
		t.Errorf("workers make homes or keys on the shared /home:\n%s", worker)
	}
	wantLines(t, "keys", keys,
		`  runuser -u alice -- cat -- /home/alice/.ssh/$f > "$s"/alice/.ssh/$f || { echo "clusterctl: the key of alice is left out: it cannot be read as alice" >&2; rm -rf "$s"/alice; break; }`,
		`(cd "$s" && find . -type f | sed 's|^\./||' | sort) | tar -C "$s" -czf "$t" -T -`)
	if strings.Contains(keys, "/home") && strings.Contains(keys, "tar -C /home") {
		t.Errorf("root tars the homes directly:\n%s", keys)
	}
}

func TestNewUsers(t *testing.T) {
	u := newUsers(Params{"num_users": 2, "usernames": []any{"bob"}, "download_keys": true, "download_keys_dir": "/k"})
	if u.err != nil || !reflect.DeepEqual(u.names, []string{"bob", "user001", "user002"}) || !u.download || u.keysDir != "/k" {
		t.Errorf("got %+v", u)
	}
	if u := newUsers(Params{}); u.err == nil {
		t.Error("no users accepted")
	}
	if u := newUsers(Params{"num_users": float64(1)}); u.err != nil || len(u.names) != 1 {
		t.Errorf("a recorded (JSON) count: %+v", u)
	}
}
