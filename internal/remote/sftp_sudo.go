package remote

import (
	"context"
	"fmt"

	"github.com/pkg/sftp"
)

// SFTPServerScript starts the node's sftp-server as root: sshd's own SFTP subsystem runs as
// the login user, and a root one is what reads what only root may. The places are Debian's
// and Ubuntu's, Red Hat's and Arch's.
const SFTPServerScript = `for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do
  [ -x "$p" ] && exec "$p"
done
echo "no sftp-server program found on this node" >&2
exit 127`

// getAsRoot is Get through an SFTP server run with sudo, for a login user who may not read
// what was asked for (files put as root, /root itself).
func (c *Client) getAsRoot(ctx context.Context, patterns []string, localDest string, opts TransferOpts) error {
	sc, done, err := c.rootSFTP(ctx)
	if err != nil {
		return err
	}
	defer done()
	return c.get(ctx, sc, patterns, localDest, opts)
}

// rootSFTP speaks SFTP with an sftp-server started through "sudo -n" in a session of its own
// (for root logins, the server as is); done closes both.
func (c *Client) rootSFTP(ctx context.Context) (*sftp.Client, func(), error) {
	sess, release, err := c.newSession(ctx)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		sess.Close()
		release()
	}
	w, err := sess.StdinPipe()
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	cmd := SFTPServerScript
	if c.target.User != "root" {
		cmd = Sudo(cmd)
	}
	if err := sess.Start(cmd); err != nil {
		closeAll()
		return nil, nil, c.connError("start sftp-server with sudo", err)
	}
	sc, err := sftp.NewClientPipe(r, w, sftp.UseConcurrentReads(true), sftp.MaxConcurrentRequestsPerFile(maxConcurrentRequests))
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("sftp as root on %s (is sudo allowed without a password?): %w", c.target.Label(), err)
	}
	return sc, func() {
		sc.Close()
		closeAll()
	}, nil
}
