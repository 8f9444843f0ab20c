package ec2

import (
	"sync"
	"testing"
)

func TestCallCounterConcurrent(t *testing.T) {
	var c CallCounter
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.add("DescribeInstances")
				if i%2 == 0 {
					c.add("CreateTags")
				}
			}
		}()
	}
	wg.Wait()
	snap := c.Snapshot()
	if c.Count("DescribeInstances") != 800 || snap["CreateTags"] != 400 || len(snap) != 2 {
		t.Fatalf("counts %v", snap)
	}
	snap["CreateTags"] = 0
	if c.Count("CreateTags") != 400 {
		t.Fatal("Snapshot shares the counter's map")
	}
	c.Reset()
	if c.Count("DescribeInstances") != 0 {
		t.Fatal("Reset kept counts")
	}
}
