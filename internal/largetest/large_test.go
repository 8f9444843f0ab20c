package largetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/cloud/local"
	"github.com/clusterctl/clusterctl/internal/cloud/sim/scale"
	"github.com/clusterctl/clusterctl/internal/cluster"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/testenv"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// largeSize is the number of nodes of the large cluster, the master included.
const largeSize = 32

// TestLargeLocalCluster starts a real 32-node Grid Engine cluster of containers on this machine
// (2 cores and 24 GiB on CI): every node is an exec host in qhost, a 64-task array job runs on
// all of them, addnode and removenode work, and terminate leaves nothing behind. It raises the
// host's inotify limits as the local provider does for that many containers, and puts them
// back when it ends. It logs T(32)/T(1) for start with setup, the memory each container uses
// and where the time went; timings are figures, not assertions.
func TestLargeLocalCluster(t *testing.T) {
	requireLocal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	restoreHostLimitsAtEnd(t)
	stateDir := t.TempDir()
	p, err := local.New(local.Options{StateDir: filepath.Join(stateDir, "local"), ImageDir: testenv.ImageDir(),
		Progress: func(msg string) { t.Log(msg) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.EnsureImage(ctx, "debian-12"); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile("testdata/cluster.ini")
	if err != nil {
		t.Fatal(err)
	}
	steps := &scale.StepLog{}
	eng := scale.Engine(p, filepath.Join(stateDir, "home"), nil, nil, nil)
	eng.Status = ui.NewStreams(nil, steps, steps).Status()
	start := func(tag string, size int) time.Duration {
		t.Helper()
		tpl, err := scale.LoadTemplate(t.TempDir(), ini, "large", size)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { terminate(t, eng, p, tag) })
		began := time.Now()
		if _, err := eng.Start(ctx, cluster.StartOptions{Tag: tag, Template: tpl, ProviderName: "local"}); err != nil {
			t.Fatalf("start %d nodes: %v", size, err)
		}
		return time.Since(began)
	}

	t1 := start("one", 1)
	oneSteps := steps.Take()
	terminate(t, eng, p, "one")

	const tag = "large"
	t32 := start(tag, largeSize)
	largeSteps := steps.Take()
	memory := containerMemory(t, p, tag)
	aliases := aliasesOf(t, p, tag)
	if len(aliases) != largeSize {
		t.Fatalf("%d instances, want %d", len(aliases), largeSize)
	}
	if hosts := qhostHosts(t, ctx, eng, tag); !slices.Equal(hosts, aliases) {
		t.Fatalf("qhost lists %d hosts %v, want the %d nodes %v", len(hosts), hosts, len(aliases), aliases)
	}
	ran := arrayJob(t, ctx, eng, tag, 2*largeSize)
	if !slices.Equal(ran, aliases) {
		t.Fatalf("the %d-task array job ran on %d hosts %v, want all %d", 2*largeSize, len(ran), ran, largeSize)
	}

	added, err := eng.AddNodes(ctx, tag, cluster.AddOptions{Count: 1}, cluster.SetupOptions{})
	if err != nil || len(added) != 1 {
		t.Fatalf("addnode: %v %v", added, err)
	}
	addSteps := steps.Take()
	if hosts := qhostHosts(t, ctx, eng, tag); !slices.Contains(hosts, added[0]) || len(hosts) != largeSize+1 {
		t.Fatalf("after addnode qhost lists %v", hosts)
	}
	removed, err := eng.RemoveNodes(ctx, tag, cluster.RemoveOptions{Count: 1}, cluster.SetupOptions{})
	if err != nil || !slices.Equal(removed, added) {
		t.Fatalf("removenode: %v %v", removed, err)
	}
	removeSteps := steps.Take()
	if hosts := qhostHosts(t, ctx, eng, tag); slices.Contains(hosts, added[0]) || len(hosts) != largeSize {
		t.Fatalf("after removenode qhost lists %v", hosts)
	}

	terminate(t, eng, p, tag)
	assertNothingLeft(t, p, stateDir)

	t.Logf("start with setup: T(1) = %.1fs, T(%d) = %.1fs, T(%d)/T(1) = %.2f", t1.Seconds(), largeSize, t32.Seconds(),
		largeSize, t32.Seconds()/t1.Seconds())
	t.Logf("memory per container after setup: %s", memory)
	t.Logf("where the time goes (1 node, %d nodes):\n%s", largeSize, stepTable(oneSteps, largeSteps))
	t.Logf("addnode of 1 to %d nodes:\n%s", largeSize, stepTable(addSteps, nil))
	t.Logf("removenode of 1 from %d nodes:\n%s", largeSize+1, stepTable(removeSteps, nil))
}

// requireLocal skips, saying why, unless this machine can run local clusters (root and the
// tools `make test` installs).
func requireLocal(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a local cluster needs root (make test runs as root)")
	}
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: `make test` installs systemd-container, debootstrap and iproute2", tool)
		}
	}
}

// restoreHostLimitsAtEnd puts the inotify limits the local provider raises for many
// containers back to what this test found, saying so: tests leave the machine as they found it.
func restoreHostLimitsAtEnd(t *testing.T) {
	for _, name := range []string{"fs/inotify/max_user_instances", "fs/inotify/max_user_watches"} {
		path := "/proc/sys/" + name
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			now, _ := os.ReadFile(path)
			if strings.TrimSpace(string(now)) == strings.TrimSpace(string(before)) {
				return
			}
			t.Logf("restoring %s to %s (it was %s)", strings.ReplaceAll(name, "/", "."), strings.TrimSpace(string(before)),
				strings.TrimSpace(string(now)))
			if err := os.WriteFile(path, before, 0o644); err != nil {
				t.Errorf("restore %s: %v", path, err)
			}
		})
	}
}

// terminate ends a cluster if it still exists.
func terminate(t *testing.T, eng *cluster.Engine, p *local.Provider, tag string) {
	t.Helper()
	if _, err := p.GetCluster(context.Background(), tag); err != nil {
		return
	}
	if err := eng.Terminate(context.Background(), tag); err != nil {
		t.Errorf("terminate %s: %v", tag, err)
	}
}

// aliasesOf lists the cluster's running instances by alias, sorted.
func aliasesOf(t *testing.T, p *local.Provider, tag string) []string {
	t.Helper()
	insts, err := p.Instances(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range insts {
		if in.State == cloud.StateRunning {
			out = append(out, in.Alias)
		}
	}
	sort.Strings(out)
	return out
}

// onMaster runs a command on the master as the login user, with stdin when given, and returns
// its output.
func onMaster(t *testing.T, ctx context.Context, eng *cluster.Engine, tag, command string, stdin ...string) string {
	t.Helper()
	acc, err := eng.Access(ctx, tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := acc.Master()
	if err != nil {
		t.Fatal(err)
	}
	target, err := acc.Target(m, "")
	if err != nil {
		t.Fatal(err)
	}
	client, err := remote.Connect(ctx, target, acc.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	opts := remote.RunOpts{}
	if len(stdin) > 0 {
		opts.Stdin = strings.NewReader(strings.Join(stdin, "\n"))
	}
	res, err := client.RunWith(ctx, command, opts)
	if err != nil {
		t.Fatalf("%s: %v\n%s", command, err, res.Stderr)
	}
	return res.Stdout
}

// qhostHosts lists the exec hosts qhost shows with a CPU count (reporting to the qmaster).
func qhostHosts(t *testing.T, ctx context.Context, eng *cluster.Engine, tag string) []string {
	t.Helper()
	out := onMaster(t, ctx, eng, tag, "qhost")
	var hosts []string
	for _, line := range strings.Split(out, "\n")[3:] {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] != "-" {
			hosts = append(hosts, f[0])
		}
	}
	sort.Strings(hosts)
	return hosts
}

// arrayJob runs an array job of tasks tasks as the cluster user, each recording its host on
// the shared /home, and returns the hosts that ran a task.
func arrayJob(t *testing.T, ctx context.Context, eng *cluster.Engine, tag string, tasks int) []string {
	t.Helper()
	script := fmt.Sprintf(`set -e
rm -rf ~/array && mkdir ~/array
qsub -sync y -t 1-%d -N array -b y -o /dev/null -e /dev/null sh -c 'sleep 5; hostname > $HOME/array/$SGE_TASK_ID' >/dev/null
cat ~/array/*`, tasks)
	out := onMaster(t, ctx, eng, tag, "sudo -u clusteruser -H bash -l -s", script)
	count := map[string]int{}
	for _, h := range strings.Fields(out) {
		count[h]++
	}
	n := 0
	var hosts []string
	for h, c := range count {
		hosts, n = append(hosts, h), n+c
	}
	if n != tasks {
		t.Fatalf("%d of %d tasks recorded their host", n, tasks)
	}
	sort.Strings(hosts)
	return hosts
}

// containerMemory describes the memory the cluster's containers use, from their cgroups.
func containerMemory(t *testing.T, p *local.Provider, tag string) string {
	t.Helper()
	insts, err := p.Instances(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	var total, rss, n int64
	for _, in := range insts {
		usage, anon, ok := cgroupMemory(in.ID)
		if !ok {
			continue
		}
		total, rss, n = total+usage, rss+anon, n+1
	}
	if n == 0 {
		return "unknown (no memory cgroup found)"
	}
	return fmt.Sprintf("%.0f MiB in use (%.0f MiB of it process memory, the rest page cache), over %d containers",
		float64(total)/float64(n)/(1<<20), float64(rss)/float64(n)/(1<<20), n)
}

// cgroupMemory reads a container's memory use and its processes' share, from cgroup v1 or v2.
func cgroupMemory(machine string) (usage, anon int64, ok bool) {
	for _, dir := range []string{"/sys/fs/cgroup/memory/clusterctl/" + machine, "/sys/fs/cgroup/clusterctl/" + machine,
		"/sys/fs/cgroup/unified/clusterctl/" + machine} {
		u, err := readInt(filepath.Join(dir, "memory.usage_in_bytes"))
		if err != nil {
			if u, err = readInt(filepath.Join(dir, "memory.current")); err != nil {
				continue
			}
		}
		stat, _ := os.ReadFile(filepath.Join(dir, "memory.stat"))
		for _, line := range strings.Split(string(stat), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && (f[0] == "total_rss" || f[0] == "anon") {
				anon, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
		return u, anon, true
	}
	return 0, 0, false
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// assertNothingLeft checks that no container, bridge, mount or file of the test's clusters
// outlives terminate.
func assertNothingLeft(t *testing.T, p *local.Provider, stateDir string) {
	t.Helper()
	clusters, err := p.ListClusters(context.Background())
	if err != nil || len(clusters) != 0 {
		t.Errorf("clusters left: %v %v", clusters, err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), stateDir) {
		t.Errorf("mounts left under %s", stateDir)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), stateDir) {
			t.Errorf("process left: %s", strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	var files []string
	_ = filepath.WalkDir(filepath.Join(stateDir, "local", "clusters"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) > 0 {
		t.Errorf("files left: %v", files)
	}
}

// stepTable lists steps with their times, a second column when b is given.
func stepTable(a, b []scale.StepTime) string {
	bt := map[string]time.Duration{}
	for _, s := range b {
		bt[s.Name] = s.Time
	}
	var out strings.Builder
	for _, s := range a {
		if b == nil {
			fmt.Fprintf(&out, "  %-56s %7.1fs\n", s.Name, s.Time.Seconds())
			continue
		}
		fmt.Fprintf(&out, "  %-56s %7.1fs\n", s.Name, s.Time.Seconds())
	}
	for _, s := range b {
		fmt.Fprintf(&out, "  [%d] %-51s %7.1fs\n", largeSize, s.Name, s.Time.Seconds())
	}
	return out.String()
}
