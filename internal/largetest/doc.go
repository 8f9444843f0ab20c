// Package largetest holds the test of a real 32-node Grid Engine cluster of local containers
// on one machine (TestLargeLocalCluster). It is a package of its own so that `go test ./...`
// runs it beside the other packages' tests instead of after them.
package largetest
