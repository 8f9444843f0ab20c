package scheduler

// What a node keeps for itself out of its instance type's memory: 5%, and at least this much.
const (
	reservePercent = 5
	reserveMin     = 128 << 20
)

// JobMemory is the memory (bytes) a scheduler hands out to jobs on a node whose instance type
// offers typeMemory: the type's memory less what the system keeps (5%, at least 128 MiB) for
// the kernel's own share (an EC2 instance reports less than its type's memory) and the node's
// daemons. Slurm drains a node that reports less memory than its node line gives, so the
// capacity must stay under what the node itself sees. 0 stays 0 (unknown).
func JobMemory(typeMemory int64) int64 {
	if typeMemory <= 0 {
		return 0
	}
	reserve := max(typeMemory*reservePercent/100, reserveMin)
	if reserve >= typeMemory {
		return typeMemory / 2
	}
	return typeMemory - reserve
}
