// Package faults is clusterctl's fault suite: each test makes one thing go wrong the way it
// does in life (a spot node vanishes with or without EC2's two-minute notice, a node stops
// answering in the middle of a setup, EC2 throttles or fails requests, a command is
// interrupted with Ctrl-C, SIGTERM or kill -9, two commands change one cluster at once) and
// checks that clusterctl says what happened, loses no job, and leaves a cluster the next
// command can finish. A bounded soak runs the balancer for ten minutes while jobs arrive in
// bursts and nodes are killed, and checks the scheduler's accounting: every job finished
// once, with exit status 0.
//
// The tests run the clusterctl binary, as a user does (a signal or kill -9 needs a process of
// its own), against real local clusters of systemd-nspawn containers and against moto's EC2
// server behind a fault-injecting proxy. They live in a package of their own so `go test`
// runs them beside the other packages' tests, and they run in parallel with each other: the
// soak mostly waits on jobs. The README's table maps each fault to what clusterctl does and to
// the test that shows it.
package faults
