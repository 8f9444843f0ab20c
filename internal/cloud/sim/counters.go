package sim

// Counters are what the simulated network saw: the cost of an operation in connections,
// bytes and refusals, and the peaks the real limits of OpenSSH apply to.
type Counters struct {
	// Connections are TCP connections from this machine to nodes; Open are those open now
	// and PeakOpen the most open at once (each an open file of this process).
	Connections, Open, PeakOpen int64
	// BytesOut and BytesIn are the bytes this machine sent to and received from the nodes.
	BytesOut, BytesIn int64
	// JumpChannels are connections the master forwarded to nodes (jump host).
	JumpChannels int64
	// Sessions are session channels opened (a command, an SFTP subsystem).
	Sessions int64
	// Refused* count what an OpenSSH server with the node's limits refused: connections
	// dropped by MaxStartups, sessions beyond MaxSessions, forwards beyond the open files
	// its process may have.
	RefusedStartups, RefusedSessions, RefusedForwards int64
	// PeakStartups is the most connections a node had unauthenticated at once (MaxStartups
	// applies to them), PeakSessions the most sessions open on one connection (MaxSessions),
	// PeakForwards the most forwarded connections one connection to the master held (each
	// an open file of the master's sshd process).
	PeakStartups, PeakSessions, PeakForwards int64
}

// add adds n to the counter f picks.
func (n *Network) add(f func(*Counters) *int64, v int64) {
	n.statsMu.Lock()
	*f(&n.stats) += v
	n.statsMu.Unlock()
}

// peak raises the counter f picks to v.
func (n *Network) peak(f func(*Counters) *int64, v int64) {
	n.statsMu.Lock()
	if p := f(&n.stats); v > *p {
		*p = v
	}
	n.statsMu.Unlock()
}

// Stats returns the network's counters so far.
func (n *Network) Stats() Counters {
	n.statsMu.Lock()
	defer n.statsMu.Unlock()
	return n.stats
}

// Sub returns the counts since earlier (peaks are kept as they are: reset them with
// Network.ResetPeaks before the operation).
func (c Counters) Sub(earlier Counters) Counters {
	return Counters{Connections: c.Connections - earlier.Connections, Open: c.Open, PeakOpen: c.PeakOpen, BytesOut: c.BytesOut - earlier.BytesOut,
		BytesIn: c.BytesIn - earlier.BytesIn, JumpChannels: c.JumpChannels - earlier.JumpChannels,
		Sessions: c.Sessions - earlier.Sessions, RefusedStartups: c.RefusedStartups - earlier.RefusedStartups,
		RefusedSessions: c.RefusedSessions - earlier.RefusedSessions, RefusedForwards: c.RefusedForwards - earlier.RefusedForwards,
		PeakStartups: c.PeakStartups, PeakSessions: c.PeakSessions, PeakForwards: c.PeakForwards}
}

// ResetPeaks starts measuring peaks anew.
func (n *Network) ResetPeaks() {
	n.statsMu.Lock()
	n.stats.PeakStartups, n.stats.PeakSessions, n.stats.PeakForwards = 0, 0, 0
	n.stats.PeakOpen = n.stats.Open
	n.statsMu.Unlock()
}

// HostCounters are one node's share of the work.
type HostCounters struct {
	// Commands are the commands it ran (exec requests), Sessions every session opened on it
	// (commands and SFTP): each costs at least one round trip.
	Commands, Sessions int64
	// Unanswered are commands it had no recorded answer for.
	Unanswered int64
}
