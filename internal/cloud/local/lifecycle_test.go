package local

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// TestClusterLifecycle boots a three-instance cluster with a volume and a user data script and
// checks what the engine relies on: pinned host keys, the login user with sudo, the shared /home
// and volume, state found again by a fresh provider, a root filesystem that survives stop and
// start, and a teardown that leaves nothing behind.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	p := newRealProvider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	vol, err := p.CreateVolume(ctx, cloud.VolumeSpec{SizeGB: 1, Name: "results"})
	if err != nil {
		t.Fatal(err)
	}
	script := cloud.BootScript{Name: "hello.sh", Content: []byte("#!/bin/sh\necho from-user-data > /root/userdata-ran\n")}
	tc := startCluster(ctx, t, p, clusterSpec{tag: "lifecycle", nodes: 2,
		mounts: []cloud.Mount{{Path: "/data", VolumeID: vol.ID}}, scripts: []cloud.BootScript{script}})

	if len(tc.insts) != 3 {
		t.Fatalf("got %d instances, want 3", len(tc.insts))
	}
	subnet := netip.MustParsePrefix(tc.insts[0].SubnetID)
	for i, want := range []string{"master", "node001", "node002"} {
		in := tc.insts[i]
		if in.Alias != want || in.State != cloud.StateRunning || in.HostKey != tc.hostKeys[want] || in.Zone != Zone {
			t.Errorf("instance %d = %+v; want %s running with its pinned host key", i, in, want)
		}
		if ip := netip.MustParseAddr(in.PrivateIP); !subnet.Contains(ip) || in.PublicIP != "" {
			t.Errorf("%s address %s/%s not in the cluster subnet %s", want, in.PrivateIP, in.PublicIP, subnet)
		}
	}

	t.Run("ssh with pinned host keys", func(t *testing.T) {
		for _, in := range tc.insts {
			if got := tc.mustRun(t, in.Alias, "hostname"); got != in.Alias {
				t.Errorf("hostname on %s = %q", in.Alias, got)
			}
			tc.mustRun(t, in.Alias, "sudo -n true")
		}
		// The pinned ed25519 key is the only one sshd has: other algorithms find no key.
		m := tc.instance(t, "master")
		if c, err := tc.dial("master", m.PrivateIP, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSASHA256); err == nil {
			c.Close()
			t.Error("sshd offered a host key other than the pinned ed25519 one")
		}
		// And a different ed25519 key would be refused.
		other, err := generateHostKey("master")
		if err != nil {
			t.Fatal(err)
		}
		pinned := tc.hostKeys["master"]
		tc.hostKeys["master"] = other.public
		if c, err := tc.dial("master", m.PrivateIP); err == nil {
			c.Close()
			t.Error("connection accepted although the host key does not match the pinned one")
		}
		tc.hostKeys["master"] = pinned
	})

	t.Run("boots clean", func(t *testing.T) {
		// degraded would mean a unit failed on every node: a defect of the image definition.
		out, _ := tc.run(t, "master", "timeout 60 systemctl is-system-running --wait; systemctl --failed --no-legend --plain")
		if out != "running" {
			t.Errorf("master is not cleanly up:\n%s", out)
		}
	})

	t.Run("each container has cgroups of its own", func(t *testing.T) {
		roots, err := processHierarchies()
		if err != nil || len(roots) == 0 {
			t.Fatalf("process hierarchies %v, %v", roots, err)
		}
		for _, in := range tc.insts {
			machine := machineName(in.ID)
			inits := containerProcesses(containerUUID(machine))
			if len(inits) != 1 {
				t.Fatalf("%s: container init processes %v", in.Alias, inits)
			}
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", inits[0]))
			if err != nil {
				t.Fatal(err)
			}
			// Every process-tracking hierarchy (name=systemd, unified) puts it in its own tree.
			want := "/" + cgroupParent + "/" + machine + "/payload"
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				parts := strings.SplitN(line, ":", 3)
				if len(parts) == 3 && (parts[1] == "name=systemd" || parts[1] == "") && !strings.HasPrefix(parts[2], want) {
					t.Errorf("%s: init in cgroup %q, want under %s", in.Alias, line, want)
				}
				// The memory and cpu controllers hold it in its own cgroup too, whose limits
				// are its instance type's (local.small: 1 CPU, 1 GiB).
				if len(parts) == 3 && (parts[1] == "memory" || strings.Contains(","+parts[1]+",", ",cpu,")) &&
					parts[2] != "/"+cgroupParent+"/"+machine {
					t.Errorf("%s: init in cgroup %q, want %s", in.Alias, line, "/"+cgroupParent+"/"+machine)
				}
			}
			mounts, err := readCgroupMounts()
			if err != nil {
				t.Fatal(err)
			}
			for file, want := range map[string]string{"memory.limit_in_bytes": "1073741824", "cpu.cfs_quota_us": "100000"} {
				root := mounts.v1[strings.SplitN(file, ".", 2)[0]]
				if root == "" {
					t.Fatalf("no v1 hierarchy for %s on this machine: %+v", file, mounts)
				}
				got, err := os.ReadFile(filepath.Join(root, cgroupParent, machine, file))
				if err != nil || strings.TrimSpace(string(got)) != want {
					t.Errorf("%s: %s = %q (%v), want %s", in.Alias, file, got, err, want)
				}
			}
		}
	})

	t.Run("a node that refuses logins is not running and says why", func(t *testing.T) {
		n := tc.instance(t, "node002")
		rec, err := p.findInstance(n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.inContainer(ctx, rec.PID, "touch", "/run/nologin"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := p.inContainer(ctx, rec.PID, "rm", "-f", "/run/nologin"); err != nil {
				t.Fatal(err)
			}
		}()
		if why := p.Diagnose(ctx, "lifecycle", n.ID); !strings.Contains(why, "/run/nologin refuses logins") {
			t.Errorf("Diagnose = %q", why)
		}
		short, cancel := context.WithTimeout(ctx, 8*time.Second) // several rounds, even on a busy machine
		defer cancel()
		_, err = p.Wait(short, "lifecycle", []string{n.ID}, cloud.StateRunning)
		// A busy sshd may also be slow to greet in the last round; the reason names nologin
		// either way.
		if err == nil || !regexp.MustCompile(regexp.QuoteMeta(n.ID)+` \((not usable|sshd not answering) \(systemd running; /run/nologin refuses logins\)\)`).MatchString(err.Error()) {
			t.Errorf("Wait on a node refusing logins: %v", err)
		}
	})

	t.Run("shared home and volume", func(t *testing.T) {
		tc.mustRun(t, "master", "echo shared-home > ~/shared.txt && sudo sh -c 'echo on-volume > /data/v.txt'")
		if got := tc.mustRun(t, "node002", "cat ~/shared.txt"); got != "shared-home" {
			t.Errorf("node002 reads %q from the shared home", got)
		}
		if got := tc.mustRun(t, "node001", "cat /data/v.txt"); got != "on-volume" {
			t.Errorf("node001 reads %q from the volume", got)
		}
		if data, err := os.ReadFile(filepath.Join(p.volumeDir(vol.ID), "data", "v.txt")); err != nil || string(data) != "on-volume\n" {
			t.Errorf("volume directory on the host holds %q, %v", data, err)
		}
	})

	t.Run("user data script ran once at first boot", func(t *testing.T) {
		out, err := tc.run(t, "node001", "for i in $(seq 1 100); do test -f /var/lib/clusterctl/boot/done && break; sleep 0.2; done; sudo cat /root/userdata-ran")
		if err != nil || out != "from-user-data" {
			t.Errorf("user data script result %q, %v", out, err)
		}
	})

	t.Run("volume attach records and protects", func(t *testing.T) {
		m := tc.instance(t, "master")
		if err := p.AttachVolume(ctx, vol.ID, m.ID, "/dev/sdz"); err != nil {
			t.Fatal(err)
		}
		vols, err := p.Volumes(ctx, cloud.VolumeFilter{State: volumeInUse})
		if err != nil || len(vols) != 1 || vols[0].AttachedTo != m.ID || vols[0].Device != "/dev/sdz" {
			t.Fatalf("in-use volumes = %+v, %v", vols, err)
		}
		if err := p.DeleteVolume(ctx, vol.ID); err == nil {
			t.Fatal("deleted a volume bound into running nodes")
		}
	})

	t.Run("a fresh provider finds the cluster", func(t *testing.T) {
		p2, err := New(Options{StateDir: p.stateDir, ImageDir: p.imageDir})
		if err != nil {
			t.Fatal(err)
		}
		insts, err := p2.Instances(ctx, "lifecycle")
		if err != nil || len(insts) != 3 {
			t.Fatalf("fresh provider sees %d instances, %v", len(insts), err)
		}
		for i, in := range insts {
			if in.ID != tc.insts[i].ID || in.State != cloud.StateRunning || in.HostKey != tc.insts[i].HostKey {
				t.Errorf("fresh provider sees %+v, want %+v", in, tc.insts[i])
			}
		}
		c, err := p2.GetCluster(ctx, "lifecycle")
		if err != nil || string(c.Recorded) != `{"test":true}` || c.GroupName != "@sc-lifecycle" || c.GroupID != tc.cluster.GroupID {
			t.Errorf("GetCluster = %+v (%s), %v", c, c.Recorded, err)
		}
	})

	t.Run("root filesystem survives stop and start", func(t *testing.T) {
		n := tc.instance(t, "node001")
		tc.mustRun(t, "node001", "sudo sh -c 'echo persisted > /var/tmp/persist'")
		rec, _ := p.findInstance(n.ID)
		if err := p.Stop(ctx, []string{n.ID}); err != nil {
			t.Fatal(err)
		}
		stopped, err := p.Wait(ctx, "lifecycle", []string{n.ID}, cloud.StateStopped)
		if err != nil || len(stopped) != 1 || stopped[0].State != cloud.StateStopped {
			t.Fatalf("wait stopped: %+v, %v", stopped, err)
		}
		if nspawnAlive(rec.PID, n.ID) {
			t.Error("container process still runs after Stop")
		}
		if m, _ := isMounted(p.mergedDir(rec)); m {
			t.Error("root still mounted after Stop")
		}
		if err := p.Start(ctx, []string{n.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(ctx, "lifecycle", []string{n.ID}, cloud.StateRunning); err != nil {
			t.Fatal(err)
		}
		if got := tc.mustRun(t, "node001", "cat /var/tmp/persist; hostname"); got != "persisted\nnode001" {
			t.Errorf("after stop and start node001 says %q", got)
		}
	})

	t.Run("terminate and delete leave nothing behind", func(t *testing.T) {
		if err := p.DeleteCluster(ctx, "lifecycle"); err == nil || !strings.Contains(err.Error(), "terminate them first") {
			t.Errorf("DeleteCluster with instances: %v", err)
		}
		var ids []string
		var pids []int
		for _, in := range tc.insts {
			ids = append(ids, in.ID)
			rec, err := p.findInstance(in.ID)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, rec.PID)
		}
		if err := p.Terminate(ctx, ids); err != nil {
			t.Fatal(err)
		}
		if err := p.DeleteCluster(ctx, "lifecycle"); err != nil {
			t.Fatal(err)
		}
		assertNothingLeft(t, p, "lifecycle", tc.cluster.GroupID, ids, pids)
		// The volume outlives the cluster, available again, and can go now.
		vols, err := p.Volumes(ctx, cloud.VolumeFilter{IDs: []string{vol.ID}})
		if err != nil || len(vols) != 1 || vols[0].State != volumeAvailable {
			t.Fatalf("volume after terminate: %+v, %v", vols, err)
		}
		if err := p.DeleteVolume(ctx, vol.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p.volumeDir(vol.ID)); !os.IsNotExist(err) {
			t.Errorf("volume directory left: %v", err)
		}
	})
}

// assertNothingLeft checks each kind of leftover explicitly: process, mount, network link,
// policy rule, directory.
func assertNothingLeft(t *testing.T, p *Provider, tag, bridge string, ids []string, pids []int) {
	t.Helper()
	for i, id := range ids {
		if nspawnAlive(pids[i], id) {
			t.Errorf("process %d of %s still runs", pids[i], id)
		}
		if procs := processesMentioning(id); len(procs) > 0 {
			t.Errorf("processes mention %s: %v", id, procs)
		}
		if orphans := containerProcesses(containerUUID(id)); len(orphans) > 0 {
			t.Errorf("container of %s still runs: %v", id, orphans)
		}
		mounts, _ := readCgroupMounts()
		for _, root := range mounts.roots() {
			if _, err := os.Stat(filepath.Join(root, cgroupParent, machineName(id))); !os.IsNotExist(err) {
				t.Errorf("cgroup of %s left in %s: %v", id, root, err)
			}
		}
	}
	if mps, err := mountsUnder(p.stateDir); err != nil || len(mps) > 0 {
		t.Errorf("mounts left under %s: %v, %v", p.stateDir, mps, err)
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Errorf("bridge %s still exists", bridge)
	}
	vethsGone := eventually(10*time.Second, func() bool {
		ifaces, _ := net.Interfaces()
		for _, ifc := range ifaces {
			for _, id := range ids {
				if strings.HasPrefix(ifc.Name, "vb-"+id[:8]) {
					return false
				}
			}
		}
		return true
	})
	if !vethsGone {
		t.Errorf("veth links of %v still exist", ids)
	}
	if out, err := p.run(context.Background(), cmd("ip", "-4", "rule", "show")); err != nil || strings.Contains(string(out), bridge) {
		t.Errorf("policy rule for %s left:\n%s (%v)", bridge, out, err)
	}
	if _, err := os.Stat(p.clusterDir(tag)); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s left: %v", p.clusterDir(tag), err)
	}
	if insts, err := p.Instances(context.Background(), tag); err != nil || len(insts) != 0 {
		t.Errorf("instances after terminate: %+v, %v", insts, err)
	}
	if _, err := p.GetCluster(context.Background(), tag); err == nil {
		t.Errorf("cluster %s still found", tag)
	}
}
