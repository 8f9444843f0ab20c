package remote

import (
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// keepalive sends keepalive@openssh.com every interval and calls fail, which must close the
// connection, once maxMissed intervals pass with a request still unanswered. A node that
// vanished (terminated, network partition) sends no RST, so without this a session would hang
// until TCP gives up hours later. It returns when done is closed or after calling fail.
func keepalive(conn ssh.Conn, interval time.Duration, maxMissed int, done <-chan struct{}, fail func(error)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var pending chan error
	missed := 0
	for {
		select {
		case <-done:
			return
		case err := <-pending:
			pending = nil
			if err != nil {
				fail(fmt.Errorf("keepalive failed: %w", err))
				return
			}
			missed = 0
		case <-ticker.C:
			if pending != nil {
				missed++
				if missed >= maxMissed {
					fail(fmt.Errorf("no keepalive reply for %s (%d missed); connection closed",
						interval*time.Duration(missed), missed))
					return
				}
				continue
			}
			pending = make(chan error, 1)
			go func(reply chan<- error) {
				// A "failure" reply still proves the peer is alive; only transport errors count.
				_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}(pending)
		}
	}
}
