package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSave(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := Chart{Title: "spot price", YLabel: "USD/h", Series: []Series{
		{Name: "us-east-1a", Step: true, Points: []Point{{t0, 0.03}, {t0.Add(time.Hour), 0.05}, {t0.Add(2 * time.Hour), 0.04}}},
		{Name: "us-east-1b", Points: []Point{{t0, 0.02}, {t0.Add(3 * time.Hour), 0.06}}},
	}}
	dir := t.TempDir()
	for name, magic := range map[string][]byte{"p.png": []byte("\x89PNG"), "p.svg": []byte("<?xml")} {
		path := filepath.Join(dir, name)
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 1000 || !bytes.HasPrefix(data, magic) {
			t.Fatalf("%s: %d bytes, err %v", name, len(data), err)
		}
	}
	if err := c.Save(filepath.Join(dir, "p.gif")); err == nil {
		t.Error("gif accepted")
	}
	if err := (Chart{Series: []Series{{Name: "empty"}}}).Save(filepath.Join(dir, "e.png")); err == nil {
		t.Error("empty chart accepted")
	}
}
