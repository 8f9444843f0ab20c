package setup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCopyChecks: values from the record reach the root shell only in the shapes they must have.
func TestCopyChecks(t *testing.T) {
	good := Copy{Name: "refs", MountPath: "/data/refs", Device: "/dev/sdy"}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	bad := []Copy{
		{Name: "refs;reboot", MountPath: "/data", Device: "/dev/sdy"},
		{Name: "refs", MountPath: "/data $(reboot)", Device: "/dev/sdy"},
		{Name: "refs", MountPath: "data", Device: "/dev/sdy"},
		{Name: "refs", MountPath: "/data/../etc", Device: "/dev/sdy"},
		{Name: "refs", MountPath: "/data", Device: "/dev/sda"},
		{Name: "refs", MountPath: "/data", Device: "/dev/sdy", Partition: -1},
	}
	for _, c := range bad {
		if err := c.check(); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	for _, ro := range []bool{true, false} {
		script := mountCopyScript(Copy{Name: "refs", MountPath: "/data/refs", Device: "/dev/sdy", ReadOnly: ro}, "vol-0123456789abcdef0")
		if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("not valid shell: %v %s\n%s", err, out, script)
		}
	}
}

// TestMountCopyScriptOnLoopDevice runs the real mount script as root in a private mount
// namespace against a loop device presented as an NVMe EBS volume (a /dev of its own holding
// the by-id link and a private /etc/fstab), for a whole-device filesystem read-only and a
// partitioned one writable, twice each: the copy is mounted with its files, the fstab line is
// written once, and a read-only copy refuses writes.
func TestMountCopyScriptOnLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for loop devices and mounts (make test runs as root)")
	}
	for _, tool := range []string{"losetup", "mkfs.ext4", "sfdisk", "unshare", "lsblk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing (util-linux, e2fsprogs)", tool)
		}
	}
	cases := []struct {
		name     string
		parted   bool
		readOnly bool
	}{{"whole device, read-only", false, true}, {"one partition, writable", true, false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "copytest")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			src := filepath.Join(dir, "src")
			if err := os.MkdirAll(filepath.Join(src, "genomes"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "genomes", "hg38.txt"), []byte("ACGT\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			img := filepath.Join(dir, "disk.img")
			run(t, "truncate", "-s", "32M", img)
			if tc.parted {
				cmd := exec.Command("sfdisk", "-q", img)
				cmd.Stdin = strings.NewReader("label: dos\n,,L\n")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sfdisk: %v %s", err, out)
				}
			}
			loop := strings.TrimSpace(run(t, "losetup", "-f", "--show", "-P", img))
			t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
			fsDev := loop
			if tc.parted {
				fsDev = loop + "p1"
				_ = exec.Command("partx", "-a", loop).Run() // the kernel's own scan may lag
			}
			volID := "vol-0123456789abcdef0"
			byID := "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"
			var nodes strings.Builder // device nodes for the private /dev
			devs := []string{loop}
			if fsDev != loop {
				devs = append(devs, fsDev)
			}
			for _, d := range devs {
				nodes.WriteString("mknod " + d + " b " + strings.Replace(devNumber(t, filepath.Base(d)), ":", " ", 1) + "\n")
			}
			nodes.WriteString("mkfs.ext4 -q -d " + src + " " + fsDev + "\n")
			fstab := filepath.Join(dir, "fstab")
			if err := os.WriteFile(fstab, []byte("# fstab\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			mnt := filepath.Join(dir, "data", "refs")
			cp := Copy{Name: "refs", MountPath: mnt, Device: "/dev/sdy", ReadOnly: tc.readOnly}
			if err := cp.check(); err != nil {
				t.Fatal(err)
			}
			script := "set -e\nmount -t tmpfs tmpfs /dev\nmknod /dev/null c 1 3\n" + nodes.String() +
				"mkdir -p /dev/disk/by-id\nln -s " + loop + " " + byID + "\n" +
				"if [ -e " + fsDev + " ] && [ " + fsDev + " != " + loop + " ]; then ln -s " + fsDev + " " + byID + "-part1; fi\n" +
				"mount --bind " + fstab + " /etc/fstab\n" +
				mountCopyScript(cp, volID) + "\n" + mountCopyScript(cp, volID) + "\n" +
				"cat " + mnt + "/genomes/hg38.txt\n" +
				"if touch " + mnt + "/written 2>/dev/null; then echo writable; else echo read-only; fi\n"
			cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("mount script: %v\n%s", err, out)
			}
			want := "ACGT\nread-only\n"
			if !tc.readOnly {
				want = "ACGT\nwritable\n"
			}
			if string(out) != want {
				t.Errorf("output %q, want %q", out, want)
			}
			data, _ := os.ReadFile(fstab)
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			wantSrc, wantOpts := byID, "ro,nofail"
			if tc.parted {
				wantSrc += "-part1"
			}
			if !tc.readOnly {
				wantOpts = "defaults,nofail"
			}
			if len(lines) != 2 || lines[1] != wantSrc+" "+mnt+" auto "+wantOpts+" 0 2" {
				t.Errorf("fstab after two runs:\n%s", data)
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// devNumber is a block device's MAJOR:MINOR from sysfs, waiting a little for a partition the
// kernel is still adding (there is no udev here to create its node in /dev).
func devNumber(t *testing.T, name string) string {
	t.Helper()
	for range 50 {
		if data, err := os.ReadFile("/sys/class/block/" + name + "/dev"); err == nil {
			return strings.TrimSpace(string(data))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("block device %s did not appear in /sys/class/block", name)
	return ""
}
