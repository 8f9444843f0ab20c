package scale

import "time"

// BalancerFigure is one iteration of the balancer's loop on a large, busy cluster: reading
// Grid Engine's output, deciding, recording the statistics.
type BalancerFigure struct {
	Hosts, Queued, Running int
	// CPU is the process's CPU time for the iteration, Wall its duration.
	CPU, Wall time.Duration
	// OutputBytes is the size of the scheduler's output parsed.
	OutputBytes int
	Decision    string
}
