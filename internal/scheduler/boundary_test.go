package scheduler

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

const module = "github.com/clusterctl/clusterctl"

// schedulerCommands are the commands of Grid Engine and Slurm that users and admins run. Only
// a scheduler's own package (internal/scheduler/<name>) may name them.
var schedulerCommands = regexp.MustCompile(`\b(qconf|qhost|qstat|qacct|qsub|qdel|qmod|qalter|qhold|qrls|qrsh|qlogin|` +
	`sbatch|srun|salloc|sinfo|squeue|scontrol|sacct|sacctmgr|scancel|sreport|sstat)\b`)

// boundaryViolations lists every non-test Go file of the module in fsys (rooted at the module)
// that imports a scheduler implementation from outside internal/scheduler, or names a
// scheduler's commands outside that scheduler's own package. The interface package and the
// registry are not implementations: everyone may import them, and they name no command.
func boundaryViolations(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		dir := path.Dir(p)
		inScheduler := dir == "internal/scheduler" || strings.HasPrefix(dir, "internal/scheduler/")
		implementation := strings.HasPrefix(dir, "internal/scheduler/") && dir != "internal/scheduler/registry"
		f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			rest, ok := strings.CutPrefix(ip, module+"/internal/scheduler/")
			if ok && rest != "registry" && !inScheduler {
				out = append(out, p+" imports the scheduler implementation "+ip+" (use internal/scheduler and its registry)")
			}
		}
		if !implementation {
			if m := schedulerCommands.Find(src); m != nil {
				out = append(out, p+" names the scheduler command "+string(m)+" (only internal/scheduler/<name> may)")
			}
		}
		return nil
	})
	return out, err
}

// TestSchedulerBoundary: nothing outside internal/scheduler imports a scheduler, and nothing
// outside a scheduler's own package names its commands; choosing one is a registry lookup.
func TestSchedulerBoundary(t *testing.T) {
	bad, err := boundaryViolations(os.DirFS("../.."))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// TestBoundaryCheckFindsViolations shows the check fails on what it must refuse.
func TestBoundaryCheckFindsViolations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	fsys := fstest.MapFS{
		"internal/cluster/bad.go":           file("package cluster\n\nimport \"" + module + "/internal/scheduler/sge\"\n\nvar _ = sge.New\n"),
		"internal/balancer/words.go":        file("package balancer\n\n// read qstat output\nvar x = 1\n"),
		"plugins/cmd.go":                    file("package plugins\n\nconst submit = \"sbatch --wrap true\"\n"),
		"internal/cluster/ok.go":            file("package cluster\n\nimport _ \"" + module + "/internal/scheduler/registry\"\n\n// the status of a job\n"),
		"internal/cluster/ok_test.go":       file("package cluster\n\nconst q = \"qsub\"\n"),
		"internal/scheduler/sge/sge.go":     file("package sge\n\nconst c = \"qconf -sq\"\n"),
		"internal/scheduler/registry/r.go":  file("package registry\n\nimport _ \"" + module + "/internal/scheduler/sge\"\n"),
		"internal/scheduler/registry/x.go":  file("package registry\n\n// scancel\n"),
		"internal/scheduler/testdata/x.go":  file("package x\n\n// qdel\n"),
		"internal/scheduler/slurm/slurm.go": file("package slurm\n\nimport _ \"" + module + "/internal/scheduler\"\n"),
	}
	bad, err := boundaryViolations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"internal/balancer/words.go names the scheduler command qstat",
		"internal/cluster/bad.go imports the scheduler implementation " + module + "/internal/scheduler/sge",
		"internal/scheduler/registry/x.go names the scheduler command scancel",
		"plugins/cmd.go names the scheduler command sbatch",
	}
	if len(bad) != len(want) {
		t.Fatalf("violations:\n%s", strings.Join(bad, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(bad[i], want[i]) {
			t.Errorf("violation %d = %q, want %q", i, bad[i], want[i])
		}
	}
}
