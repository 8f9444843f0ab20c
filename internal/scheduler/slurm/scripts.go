package slurm

import (
	"fmt"
	"strings"
)

// installScript installs Slurm and munge when the image lacks them. The packages start their
// daemons with a configuration of their own; setup restarts them with the cluster's.
func installScript(isMaster bool) string {
	pkgs := "munge slurmd slurm-client"
	if isMaster {
		pkgs += " slurmctld"
	}
	return fmt.Sprintf(`set -e
need=
for p in %s; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $need
fi`, pkgs)
}

// nodeStates is an awk program that prints "NAME STATE CPUALLOC" for each node of
// `scontrol -o show nodes`.
const nodeStates = `awk '{ n = ""; s = ""; a = 0; for (i = 1; i <= NF; i++) { if ($i ~ /^NodeName=/) n = substr($i, 10); else if ($i ~ /^State=/) s = substr($i, 7); else if ($i ~ /^CPUAlloc=/) a = substr($i, 10) } if (n != "") print n, s, a }'`

// controllerScript installs conf as slurm.conf on the master and makes slurmctld run with it.
// When the file changed, slurmctld restarts (Slurm 22.05 refuses to add or remove nodes on a
// reconfigure: "node count has changed ... You have to restart slurmctld"; jobs go on, their
// state is saved) and the script prints changedMarker: the caller then runs reconfigureScript
// once every slurmd in the new list runs. An unchanged file changes nothing, so a rerun of
// setup disturbs no job.
func controllerScript(conf string) string {
	return fmt.Sprintf(`set -e
install -d -o slurm -g slurm -m 0755 /var/lib/slurm/slurmctld /var/log/slurm
new=$(mktemp /etc/slurm/.slurm.conf.XXXXXX)
trap 'rm -f "$new"' EXIT
cat > "$new" <<'CLUSTERCTL_EOF'
%sCLUSTERCTL_EOF
chmod 644 "$new"
changed=
if ! cmp -s "$new" %[2]s; then mv "$new" %[2]s; changed=yes; fi
systemctl enable --quiet slurmctld
if [ -n "$changed" ] || ! systemctl is-active --quiet slurmctld; then systemctl restart slurmctld; fi
up=
for i in $(seq 60); do
  if scontrol ping >/dev/null 2>&1; then up=yes; break; fi
  sleep 1
done
if [ -z "$up" ]; then
  echo "slurmctld did not answer within 60 s; the end of /var/log/slurm/slurmctld.log:" >&2
  tail -n 5 /var/log/slurm/slurmctld.log >&2
  exit 1
fi
if [ -n "$changed" ]; then echo %[3]s; fi`, conf, confPath, changedMarker)
}

// changedMarker is what controllerScript prints when slurm.conf changed.
const changedMarker = "clusterctl:slurm.conf-changed"

// reconfigureScript makes the running slurmds fetch the controller's new node list. It runs
// only once the slurmds of new nodes have registered: slurmctld retries a reconfigure request
// to a node whose slurmd is not up yet, and Slurm 22.05's slurmd crashes (SIGSEGV in
// write_configs_to_conf_cache) when that retry reaches it while it starts.
const reconfigureScript = "scontrol reconfigure"

// slurmdScript configures and starts slurmd on a compute node. Nodes other than the master run
// configless: slurmd fetches slurm.conf from the controller (and client commands use its
// copy), so no node holds a file to keep in step. Debian's unit starts only when
// /etc/slurm/slurm.conf exists; a drop-in lifts that condition. The drop-in also restarts a
// slurmd that dies: a node whose slurmd is gone keeps its jobs COMPLETING until slurmctld gives
// up on it minutes later, and its running jobs survive a restart (KillMode=process).
func slurmdScript(controller string, isMaster bool) string {
	const restart = "[Service]\nRestart=on-failure\nRestartSec=2"
	opts, dropIn := `SLURMD_OPTIONS="--conf-server `+controller+`"`, "[Unit]\nConditionPathExists=\n"+restart
	if isMaster {
		opts, dropIn = `SLURMD_OPTIONS=""`, restart
	}
	return fmt.Sprintf(`set -e
changed=
# put FILE CONTENT: write FILE when its content differs
put() { if [ "$(cat "$1" 2>/dev/null)" != "$2" ]; then printf '%%s\n' "$2" > "$1"; changed=yes; fi; }
put /etc/default/slurmd '%[1]s'
mkdir -p /etc/systemd/system/slurmd.service.d
put /etc/systemd/system/slurmd.service.d/clusterctl.conf '%[2]s'
[ -z "$changed" ] || systemctl daemon-reload
systemctl enable --quiet slurmd
if [ -n "$changed" ] || ! systemctl is-active --quiet slurmd; then systemctl restart slurmd; fi`, opts, dropIn)
}

// waitRegisteredScript waits until every host has registered with slurmctld (its state no
// longer UNKNOWN, DOWN, NOT_RESPONDING or INVAL), so jobs submitted right after setup start.
func waitRegisteredScript(hosts []string) string {
	return fmt.Sprintf(`want="%s"
for i in $(seq 90); do
  ok=$(scontrol -o show nodes | %s | awk '$2 !~ /UNKNOWN|DOWN|NOT_RESPONDING|INVAL|\*/ { print $1 }')
  missing=
  for h in $want; do printf '%%s\n' "$ok" | grep -qx "$h" || missing="$missing $h"; done
  [ -z "$missing" ] && exit 0
  sleep 1
done
echo "Slurm nodes not registered with slurmctld after 90 s:$missing; their state:" >&2
scontrol -o show nodes | %s >&2
exit 1`, strings.Join(hosts, " "), nodeStates, nodeStates)
}

// nodeStateScript sets hosts to DRAIN (no new jobs) or RESUME (back in service), those slurmctld
// knows: a node already removed has no state to change, and only a drained node resumes.
func nodeStateScript(hosts []string, state string) string {
	return fmt.Sprintf(`set -e
states=$(scontrol -o show nodes | %s)
for h in %s; do
  st=$(printf '%%s\n' "$states" | awk -v h="$h" '$1 == h { print $2 }')
  [ -n "$st" ] || continue
  case "%s:$st" in
    RESUME:*DRAIN*) scontrol update NodeName="$h" State=RESUME ;;
    RESUME:*) ;;
    *) scontrol update NodeName="$h" State=%[3]s Reason="clusterctl: the node is being removed" ;;
  esac
done`, nodeStates, strings.Join(hosts, " "), state)
}

// retireScript checks, before any change, that the hosts run nothing (Slurm still counting a
// CPU allocated there stops the removal with its name), or with force sets them DOWN, so Slurm
// requeues their jobs (or ends those that cannot be requeued), and waits until no CPU is
// allocated there.
func retireScript(hosts []string, force bool) string {
	busy := fmt.Sprintf(`busy() { scontrol -o show nodes | %s | awk -v want=" %s " 'index(want, " " $1 " ") && ($3 > 0 || $2 ~ /COMPLETING/) { print $1 }'; }`, nodeStates, strings.Join(hosts, " "))
	if !force {
		return fmt.Sprintf(`set -e
%s
b=$(busy)
if [ -n "$b" ]; then echo "Slurm still runs jobs on:" $b >&2; exit 1; fi`, busy)
	}
	return fmt.Sprintf(`set -e
%s
known=$(scontrol -o show nodes | %s | awk '{ print $1 }')
for h in %s; do
  if printf '%%s\n' "$known" | grep -qx "$h"; then scontrol update NodeName="$h" State=DOWN Reason="clusterctl: removed with --force"; fi
done
for i in $(seq 60); do
  b=$(busy)
  [ -z "$b" ] && exit 0
  sleep 1
done
echo "jobs still hold CPUs on:" $b >&2
exit 1`, busy, nodeStates, strings.Join(hosts, " "))
}
