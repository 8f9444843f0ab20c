#!/usr/bin/env python3
"""clusterctl-spot-watch: drain this node in the cluster's scheduler as soon as EC2 gives its
two-minute spot interruption notice, so no new job starts on a node about to go.

It polls the instance metadata's spot/instance-action with IMDSv2 only (a session token from
PUT /latest/api/token; IMDSv1 is never used) and runs the configured drain command once per
notice, retrying it until it succeeds. Installed by clusterctl on spot nodes; its settings are
in /etc/clusterctl/spot-watch.json (metadata, interval, drain).
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOKEN_TTL = 21600  # seconds; the token is renewed well before


def log(msg):
    print("clusterctl-spot-watch: " + msg, flush=True)


def request(method, url, headers, timeout=2):
    """Returns (status, body); status 0 when the metadata service did not answer."""
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/etc/clusterctl/spot-watch.json"
    with open(path) as f:
        conf = json.load(f)
    base = conf.get("metadata", "http://169.254.169.254").rstrip("/")
    interval = float(conf.get("interval", 5))
    drain = conf["drain"]
    notice_file = conf.get("notice_file", "/run/clusterctl-spot-notice")
    token, renew_at, drained = None, 0.0, False
    log("watching %s for a spot interruption notice every %gs" % (base, interval))
    while True:
        now = time.monotonic()
        if token is None or now >= renew_at:
            status, body = request("PUT", base + "/latest/api/token",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL)})
            token = body.strip() if status == 200 and body.strip() else None
            renew_at = now + TOKEN_TTL / 2
        if token is not None:
            status, body = request("GET", base + "/latest/meta-data/spot/instance-action",
                                   {"X-aws-ec2-metadata-token": token})
            if status == 401:
                token = None  # expired or revoked: a new one next round
            elif status == 200 and not drained:
                log("spot interruption notice: " + body.strip())
                try:
                    with open(notice_file, "w") as f:
                        f.write(body)
                except OSError as e:
                    log("could not record the notice: %s" % e)
                rc = subprocess.call(["/bin/sh", "-c", drain])
                if rc == 0:
                    drained = True
                    log("drained this node: no new job starts here")
                else:
                    log("drain command failed with status %d; trying again" % rc)
        time.sleep(interval)


if __name__ == "__main__":
    main()
