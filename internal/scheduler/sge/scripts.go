package sge

import (
	"fmt"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/remote"
)

// installScript installs the gridengine packages when the image lacks them (preseeding debconf
// so the install asks nothing) and points the host at the master.
func installScript(master string, isMaster bool) string {
	pkgs := "gridengine-exec gridengine-client"
	if isMaster {
		pkgs = "gridengine-master gridengine-exec gridengine-client"
	}
	return fmt.Sprintf(`set -e
need=
for p in %[1]s; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "gridengine-common shared/gridenginemaster string %[2]s" | debconf-set-selections
  echo "gridengine-common shared/gridenginecell string default" | debconf-set-selections
  echo "gridengine-common shared/gridengineconfig boolean false" | debconf-set-selections
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq $need
fi
mkdir -p %[3]s/%[4]s/common
chown -h sgeadmin:sgeadmin %[3]s/%[4]s/common
# sge_qmaster rewrites this file as sgeadmin, and sgeadmin may be the cluster user (whose
# links root must not follow): it is written as sgeadmin.
runuser -u sgeadmin -- sh -c 'printf "%%s\n" "$1" > "$2"' sh %[2]s %[3]s/%[4]s/common/act_qmaster
cat > /etc/profile.d/gridengine.sh <<'CLUSTERCTL_EOF'
export SGE_ROOT=%[3]s SGE_CELL=%[4]s
CLUSTERCTL_EOF`, pkgs, remote.Quote(master), sgeRoot, sgeCell)
}

// qmasterScript initialises the cell once (as sgeadmin: a spool created by root makes
// sge_qmaster fail with DB_RUNRECOVERY), enables the qmaster so it comes back after a
// reboot, and starts it unless it runs.
func qmasterScript(master string) string {
	return fmt.Sprintf(`set -e
%[1]s
for d in /var/spool/gridengine /var/spool/gridengine/qmaster; do mkdir -p "$d"; chown -h sgeadmin:sgeadmin "$d"; done
# The package leaves an empty spool directory: the cell is initialised once its database exists.
fresh=
if [ ! -f /var/spool/gridengine/spooldb/sge ]; then
  fresh=yes
  systemctl stop gridengine-master
  rm -f /var/spool/gridengine/spooldb/__db.*
  chown -R sgeadmin:sgeadmin $SGE_ROOT/$SGE_CELL
  log=$(mktemp)
  su -s /bin/sh sgeadmin -c "/usr/share/gridengine/scripts/init_cluster $SGE_ROOT $SGE_CELL /var/spool/gridengine/spooldb sgeadmin" >"$log" 2>&1 || { cat "$log"; exit 1; }
  rm -f "$log"
fi
runuser -u sgeadmin -- sh -c 'printf "%%s\n" "$1" > "$2"' sh %[2]s "$SGE_ROOT/$SGE_CELL/common/act_qmaster"
systemctl enable --quiet gridengine-master
# A running qmaster is left alone (a rerun must not disturb jobs); a fresh cell starts it. The
# daemon itself is checked: the LSB unit stays "active" after sge_qmaster died at boot.
if [ -n "$fresh" ] || ! pgrep -x sge_qmaster >/dev/null || ! qconf -sh >/dev/null 2>&1; then
  systemctl restart gridengine-master 2>/dev/null || /etc/init.d/gridengine-master restart
fi
for try in 1 2; do
  for i in $(seq 60); do qconf -sh >/dev/null 2>&1 && exit 0; sleep 1; done
  # One more start: a qmaster racing the network at boot can die before it answers.
  systemctl restart gridengine-master 2>/dev/null || /etc/init.d/gridengine-master restart
done
echo "sge_qmaster did not answer within 120 s; see /var/spool/gridengine/qmaster/messages" >&2; exit 1`, envLine, remote.Quote(master))
}

// execHostScript registers the host it runs on as an exec host with its capacity (its own
// exec host object, so that a thousand hosts register in parallel rather than one after another
// on the master), then enables the execution daemon and starts it unless it runs already. The
// host is an admin host by then (masterConfig adds it).
func execHostScript(h hostFacts) string {
	return fmt.Sprintf(`set -e
%s
t=$(mktemp -d)
trap 'rm -rf $t' EXIT
cat > $t/host <<'EOF'
%sEOF
if qconf -se %[3]s >/dev/null 2>&1; then qconf -Me $t/host >/dev/null; else qconf -Ae $t/host >/dev/null; fi
systemctl enable --quiet gridengine-exec
pgrep -x sge_execd >/dev/null || systemctl restart gridengine-exec 2>/dev/null || /etc/init.d/gridengine-exec restart`,
		envLine, execHostFile(h), h.Name)
}

// masterConfig is one run of configuration on the master for a set of exec hosts.
type masterConfig struct {
	Exec   []hostFacts
	Submit []string
	// Full also creates the cluster-wide objects (complex, parallel environments, queue);
	// adding hosts later skips them.
	Full bool
	// MinUID and MinGID let a cluster user below 1000 (an explicit CLUSTER_USER = sgeadmin)
	// run jobs.
	MinUID, MinGID int
}

// script renders the master's configuration in one script, each change idempotent. Its qconf
// calls do not grow with the hosts: the host lists, the host group and the queue's slots each
// change in one call for all of them, and each exec host registers its own capacity
// (execHostScript). A thousand hosts cost the master a few seconds, not a qconf call each.
func (m masterConfig) script() string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\nt=$(mktemp -d)\ntrap 'rm -rf $t' EXIT\n", envLine)
	b.WriteString(`# obj TYPE NAME FILE: add the object from FILE, or modify it when it exists
obj() { if qconf -s$1 "$2" >/dev/null 2>&1; then qconf -M$1 "$3" >/dev/null; else qconf -A$1 "$3" >/dev/null; fi; }
`)
	hosts := make([]string, 0, len(m.Exec))
	for _, h := range m.Exec {
		hosts = append(hosts, h.Name)
	}
	all := append(append([]string{}, hosts...), m.Submit...)
	all = uniq(all)
	if len(all) > 0 {
		// Adding a host that is on the list already succeeds (with a message).
		fmt.Fprintf(&b, "qconf -ah %s >/dev/null\nqconf -as %s >/dev/null\n", strings.Join(all, ","), strings.Join(all, ","))
	}
	if m.Full {
		b.WriteString(`qconf -sc > $t/complex
grep -q '^mem_requested ' $t/complex || { echo 'mem_requested mem_req MEMORY <= YES YES 0 0' >> $t/complex; qconf -Mc $t/complex >/dev/null; }
`)
		// Schedule every few seconds (jobs start promptly) and explain pending jobs in qstat -j.
		b.WriteString(`qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:4/' -e 's/^schedd_job_info .*/schedd_job_info true/' -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' > $t/sconf
qconf -Msconf $t/sconf >/dev/null
`)
		// Finished jobs reach the accounting file at once (the default buffers them for 15 s,
		// which a qmaster that dies takes along): the balancer and repair count on it.
		global := `-e 's/ accounting_flush_time=[0-9:]*//' -e 's/flush_time=\([0-9:]*\)/flush_time=\1 accounting_flush_time=00:00:00/'`
		if m.MinUID > 0 && m.MinUID < 1000 {
			global += fmt.Sprintf(" -e 's/^min_uid .*/min_uid %d/' -e 's/^min_gid .*/min_gid %d/'", m.MinUID, m.MinGID)
		}
		fmt.Fprintf(&b, "qconf -sconf global | sed %s > $t/global\nqconf -Mconf $t/global >/dev/null\n", global)
		for _, pe := range parallelEnvironments() {
			fmt.Fprintf(&b, "cat > $t/pe <<'EOF'\n%sEOF\nobj p %s $t/pe\n", pe.file(), pe.name)
		}
	}
	if m.Full || len(hosts) > 0 {
		b.WriteString(`qconf -shgrp @allhosts > $t/hg 2>/dev/null || printf 'group_name @allhosts\nhostlist NONE\n' > $t/hg
`)
		fmt.Fprintf(&b, "cur=$(awk '$1 == \"hostlist\" { $1 = \"\"; print }' $t/hg | tr -d '\\\\' | tr ' ' '\\n' | awk 'NF && $0 != \"NONE\"')\n")
		fmt.Fprintf(&b, "new=$(printf '%%s\\n' $cur %s | sort -u | tr '\\n' ' ')\n", strings.Join(hosts, " "))
		b.WriteString(`[ -n "$new" ] || new=NONE
printf 'group_name @allhosts\nhostlist %s\n' "$new" > $t/hg
obj hgrp @allhosts $t/hg
if ! qconf -sq all.q >/dev/null 2>&1; then EDITOR=true qconf -aq all.q >/dev/null; fi
qconf -mattr queue hostlist @allhosts all.q >/dev/null
qconf -mattr queue shell /bin/bash all.q >/dev/null
qconf -mattr queue shell_start_mode unix_behavior all.q >/dev/null
# Jobs are rerunnable by default: those on a node that vanished (a spot interruption) run again
# elsewhere when clusterctl reschedules them.
qconf -mattr queue rerun TRUE all.q >/dev/null
qconf -mattr queue pe_list "make smp mpi orte" all.q >/dev/null
# Nodes see the whole machine's load (containers share it, EC2 hosts run other work): a load
# threshold would stop jobs on a busy but healthy host.
qconf -rattr queue load_thresholds NONE all.q >/dev/null
`)
	}
	if len(m.Exec) > 0 {
		b.WriteString("q=$(qconf -sq all.q | tr -d ' \\\\\\n')\n")
	}
	if len(m.Exec) > 0 {
		// Only missing or different slot counts are changed, all in one call (a host's entry
		// replaces its old one, the others stay), so a rerun changes nothing.
		b.WriteString("s=\n")
	}
	for _, h := range m.Exec {
		fmt.Fprintf(&b, "case \"$q\" in *'[%[1]s=%[2]d]'*) ;; *) s=\"$s,[%[1]s=%[2]d]\" ;; esac\n", h.Name, h.Slots)
	}
	if len(m.Exec) > 0 {
		b.WriteString("[ -z \"$s\" ] || qconf -mattr queue slots \"${s#,}\" all.q >/dev/null\n")
	}
	if len(hosts) > 0 {
		fmt.Fprintf(&b, "qmod -e %s >/dev/null\n", queueInstances(hosts))
	}
	return b.String()
}

// removeScript disables, then removes hosts from the queue, @allhosts and the host lists. Every
// command is checked: a host is removed from a list only when it is on it (so a rerun after a
// partial removal converges), and a removal Grid Engine refuses fails the script with Grid
// Engine's own message. Before any change it checks that no host still has a slot in use: a
// job that started after the drain was seen idle stops the removal instead of being killed.
func removeScript(hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\n", envLine)
	b.WriteString(`# qmaster must answer, so that the lists below are the truth and not an error
qstat -u '*' >/dev/null
`)
	fmt.Fprintf(&b, "busy=$(%s)\n", busyHostsCommand(hosts))
	b.WriteString(`if [ -n "$busy" ]; then echo "Grid Engine still runs jobs on:" $busy >&2; exit 1; fi
# on LIST NAME: is NAME a line of LIST (the output of qconf -s...)
on() { printf '%s\n' "$1" | grep -qx "$2"; }
# list OPTION: a qconf host list, empty when qconf reports there is none
list() { out=$(qconf "$1" 2>&1) && printf '%s\n' "$out" && return 0; case "$out" in *"no "*" defined"*) return 0 ;; esac; echo "qconf $1: $out" >&2; return 1; }
execs=$(list -sel); submits=$(list -ss); admins=$(list -sh)
allhosts=$(qconf -shgrp_resolved @allhosts | tr ' ' '\n')
slots=$(qconf -sq all.q | tr -d ' \\\n')
`)
	for _, h := range hosts {
		fmt.Fprintf(&b, "if on \"$allhosts\" %[1]s; then qmod -d all.q@%[1]s >/dev/null; fi\n", h)
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, `if on "$allhosts" %[1]s; then qconf -dattr hostgroup hostlist %[1]s @allhosts >/dev/null; fi
case "$slots" in *'[%[1]s='*) qconf -purge queue slots all.q@%[1]s >/dev/null ;; esac
if on "$execs" %[1]s; then qconf -de %[1]s >/dev/null; fi
if on "$submits" %[1]s; then qconf -ds %[1]s >/dev/null; fi
if on "$admins" %[1]s; then qconf -dh %[1]s >/dev/null; fi
`, h)
	}
	return b.String()
}

// busyHostsCommand prints the hosts among hosts that have a slot of all.q in use, from
// `qhost -q` (a host line, then a line per queue with "reserved/used/total" slots).
func busyHostsCommand(hosts []string) string {
	return fmt.Sprintf(`qhost -q -h %s | awk '$1 == "all.q" { split($3, s, "/"); if (s[2] > 0) print host; next } NF >= 8 { host = $1 }'`, strings.Join(hosts, ","))
}

// queueStateScript disables (-d) or enables (-e) the hosts' queue instances, those that
// exist: a host already out of @allhosts has none.
func queueStateScript(op string, hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\nallhosts=$(qconf -shgrp_resolved @allhosts | tr ' ' '\\n')\n", envLine)
	for _, h := range hosts {
		fmt.Fprintf(&b, "if printf '%%s\\n' \"$allhosts\" | grep -qx %[1]s; then qmod %[2]s all.q@%[1]s >/dev/null; fi\n", h, op)
	}
	return b.String()
}

// runningScript prints qhost's XML for the hosts, whose all.q slots_used Running reads.
func runningScript(hosts []string) string {
	return fmt.Sprintf("set -e\n%s\nqhost -q -xml -h %s", envLine, strings.Join(hosts, ","))
}

// killScript deletes (qdel -f) every job task running on the hosts, for a forced removal, and
// waits until their slots are free.
func killScript(hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\n", envLine)
	for _, h := range hosts {
		// With -g t every task has a line: job-ID prior name user state date time queue
		// master [ja-task-ID].
		fmt.Fprintf(&b, `qstat -u '*' -s rs -g t -q all.q@%s 2>/dev/null | awk 'NR > 2 { if (NF >= 10) print $1, "-t", $10; else print $1 }' | sort -u |
while read -r job rest; do qdel -f "$job" $rest >/dev/null; done
`, h)
	}
	b.WriteString(waitFreeScript(hosts, "jobs deleted with qdel -f"))
	return b.String()
}

// requeueScript is the forced removal of hosts whose machine is gone: their queue instances
// take no more jobs, and the jobs Grid Engine still counts there are rescheduled (forced: no
// execd answers), so they run again on another host, all.q's jobs being rerunnable. It waits
// until no slot is in use there any more.
func requeueScript(hosts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\nallhosts=$(qconf -shgrp_resolved @allhosts | tr ' ' '\\n')\n", envLine)
	for _, h := range hosts {
		fmt.Fprintf(&b, `if printf '%%s\n' "$allhosts" | grep -qx %[1]s; then
  qmod -d all.q@%[1]s >/dev/null
  qmod -f -rq all.q@%[1]s >/dev/null 2>&1 || true
fi
`, h)
	}
	b.WriteString(waitFreeScript(hosts, "jobs rescheduled away from vanished hosts"))
	return b.String()
}

// waitFreeScript waits up to 60 s until no slot of all.q is in use on hosts, else fails
// saying that what still hold slots there.
func waitFreeScript(hosts []string, what string) string {
	return fmt.Sprintf(`for i in $(seq 60); do
  busy=$(%s)
  [ -z "$busy" ] && exit 0
  sleep 1
done
echo "%s still hold slots on:" $busy >&2
exit 1
`, busyHostsCommand(hosts), what)
}

func queueInstances(hosts []string) string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = "all.q@" + h
	}
	return strings.Join(out, ",")
}

// execHostFile is an exec host's configuration with its memory as mem_requested capacity.
func execHostFile(h hostFacts) string {
	return fmt.Sprintf(`hostname              %s
load_scaling          NONE
complex_values        mem_requested=%dK
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
`, h.Name, h.MemoryKB)
}

// pe is a parallel environment.
type pe struct {
	name, rule             string
	controlSlaves, isFirst bool
}

// parallelEnvironments are orte (StarCluster's, filling hosts in turn), smp (all slots on one
// host), and make and mpi, which the default queue template refers to.
func parallelEnvironments() []pe {
	return []pe{
		{name: "orte", rule: "$fill_up", controlSlaves: true},
		{name: "smp", rule: "$pe_slots", isFirst: true},
		{name: "mpi", rule: "$round_robin", controlSlaves: true},
		{name: "make", rule: "$round_robin", controlSlaves: true},
	}
}

func (p pe) file() string {
	tf := func(b bool) string {
		if b {
			return "TRUE"
		}
		return "FALSE"
	}
	return fmt.Sprintf(`pe_name            %s
slots              99999
user_lists         NONE
xuser_lists        NONE
start_proc_args    /bin/true
stop_proc_args     /bin/true
allocation_rule    %s
control_slaves     %s
job_is_first_task  %s
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
`, p.name, p.rule, tf(p.controlSlaves), tf(p.isFirst))
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// waitReportingScript waits until every exec host reports to the qmaster (qhost shows its CPU
// count instead of "-"), so jobs submitted right after setup can start.
func waitReportingScript(hosts []string) string {
	return fmt.Sprintf(`%s
for i in $(seq 90); do
  missing=$(qhost -h %s | awk 'NR > 3 && $3 == "-" { print $1 }')
  [ -z "$missing" ] && exit 0
  sleep 1
done
echo "exec hosts not reporting to the qmaster after 90 s:" $missing >&2
exit 1`, envLine, strings.Join(hosts, ","))
}
