package lockfile

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/clusterctl/clusterctl/internal/cloud"
)

// holdEnv makes the test binary a process that takes the lock at its value, says so, and waits
// to be killed: a clusterctl command killed with -9 while it changes a cluster.
const holdEnv = "LOCKFILE_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		if _, err := TryLock(path, cloud.Holder{Command: "addnode", PID: os.Getpid(), Host: "ws1", Since: time.Now()}); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTryLock: a held lock refuses a second taker (in this process or another) with its holder
// as recorded, release frees it, and a holder killed with -9 leaves it free.
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "c.cluster")
	release, err := TryLock(path, cloud.Holder{Command: "start", PID: 11, Host: "here", Since: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path, cloud.Holder{Command: "terminate"})
	var le *cloud.LockedError
	if !errors.As(err, &le) || le.Holder.Command != "start" || le.Holder.PID != 11 || le.Holder.Host != "here" {
		t.Fatalf("second taker: %v", err)
	}
	release()
	if _, err := os.Stat(path + ".holder"); !os.IsNotExist(err) {
		t.Errorf("holder record left after release: %v", err)
	}
	again, err := TryLock(path, cloud.Holder{Command: "terminate"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "held" {
		t.Fatalf("helper: %q", line)
	}
	_, err = TryLock(path, cloud.Holder{Command: "repair"})
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Command != "addnode" {
		t.Fatalf("lock held by another process: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	release, err = TryLock(path, cloud.Holder{Command: "repair"})
	if err != nil {
		t.Fatalf("after its holder was killed with -9: %v", err)
	}
	release()
}

// TestHolderRecordedLate: a command that finds the lock taken in the instant between its
// holder's flock and the holder's record still names the holder; a lock whose record never
// comes is held by "another clusterctl command".
func TestHolderRecordedLate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cluster")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path, cloud.Holder{Command: "repair"})
	var le *cloud.LockedError
	if !errors.As(err, &le) || le.Holder.String() != "another clusterctl command" {
		t.Fatalf("a lock without a record: %v", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = writeHolder(holderPath(path), cloud.Holder{Command: "addnode", PID: 7, Host: "ws1"})
	}()
	_, err = TryLock(path, cloud.Holder{Command: "repair"})
	if !errors.As(err, &le) || le.Holder.Command != "addnode" || le.Holder.PID != 7 {
		t.Fatalf("a record written 100 ms after the lock: %v", err)
	}
}
