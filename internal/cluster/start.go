package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clusterctl/clusterctl/internal/cloud"
	"github.com/clusterctl/clusterctl/internal/config"
	"github.com/clusterctl/clusterctl/internal/remote"
	"github.com/clusterctl/clusterctl/internal/ui"
)

// StartOptions says how to start a cluster.
type StartOptions struct {
	Tag string
	// Template is the resolved template; unused with NoCreate (the cluster's record is used).
	Template *config.Template
	// NoCreate resumes an existing cluster: start stopped instances, launch the planned ones
	// that are missing, then continue (start -x).
	NoCreate bool
	// ValidateOnly stops after the pre-flight checks (start -v).
	ValidateOnly bool
	// DryRun stops after the checks and returns the plan without creating anything.
	DryRun bool
	// ProviderName is recorded with the cluster.
	ProviderName string
	// CreateOnly launches without setting the cluster up (start -o).
	CreateOnly bool
	// Description is recorded with the cluster (start -d) and shown by listclusters.
	Description string
	// Setup carries what cluster setup needs.
	Setup SetupOptions
}

// Result is what a start produced.
type Result struct {
	Cluster   cloud.Cluster
	Plan      Plan
	Instances []cloud.Instance
}

// Start launches a new cluster from a template, or resumes one (NoCreate). Nothing is created
// before every check passed. A failure after creation returns a *PartialError that lists what
// exists and how to resume or clean up.
func (e *Engine) Start(ctx context.Context, o StartOptions) (*Result, error) {
	if o.NoCreate {
		return e.resume(ctx, o)
	}
	t := o.Template
	if err := CheckTag(o.Tag, t.DNSPrefix); err != nil {
		return nil, err
	}
	if _, err := e.Provider.GetCluster(ctx, o.Tag); err == nil {
		return nil, e.existsError(ctx, o.Tag)
	} else if !errors.Is(err, cloud.ErrNotFound) {
		return nil, err
	}
	var cidrs []string
	var err error
	if !e.Provider.Capabilities().HostOnlyNetwork {
		if cidrs, err = e.sshCIDR(ctx, t.SSHCIDR); err != nil {
			return nil, err
		}
	}
	rec := NewRecord(t, o.ProviderName, cidrs, e.now(), e.Secret)
	rec.Description = o.Description
	plan := NewPlan(o.Tag, rec)
	if t.KeyName == "" {
		if err := e.ensureClusterKey(o.Tag); err != nil {
			return nil, err
		}
	}
	boot, err := bootConfig(t, ClusterKeyPath(e.StateDir, o.Tag))
	if err != nil {
		return nil, err
	}
	for _, s := range boot.Scripts {
		rec.BootScripts = append(rec.BootScripts, RecordScript{Name: s.Name, Content: string(s.Content)})
	}
	if err := checkRecordSize(rec); err != nil {
		return nil, err
	}
	if err := rec.checkCopyDevices(); err != nil {
		return nil, err
	}
	// The host keys exist before pre-flight, so it measures the user data that will be sent.
	keys, err := NewHostKeys(plan.Aliases())
	if err != nil {
		return nil, err
	}
	boot.HostKeys = privateKeys(keys)
	if err := e.step(ctx, "pre-flight checks", func(ctx context.Context, _ *ui.Step) error {
		return e.Provider.Preflight(ctx, cloudPlan(plan, boot, keyFile(t)))
	}); err != nil {
		return nil, err
	}
	if rec.LoginUser == "" {
		if rec.LoginUser, err = e.guessLoginUser(ctx, plan); err != nil {
			return nil, err
		}
		plan.Record.LoginUser = rec.LoginUser
	}
	if o.DryRun || o.ValidateOnly {
		return &Result{Plan: plan}, nil
	}
	var cl cloud.Cluster
	what := "security group " + cloud.GroupPrefix + o.Tag
	if e.Provider.Capabilities().HostOnlyNetwork {
		what = "network for " + o.Tag
	}
	if err := e.step(ctx, "create "+what, func(ctx context.Context, _ *ui.Step) error {
		cl, err = e.Provider.CreateCluster(ctx, cloud.GroupSpec{Tag: o.Tag, Rules: rec.Rules, Recorded: rec.Encode(), Mounts: mounts(rec)})
		return err
	}); err != nil {
		return nil, err
	}
	unlock, err := e.lock(ctx, o.Tag, cloud.LockCluster)
	if err != nil {
		return nil, e.partial(ctx, o.Tag, err)
	}
	defer unlock()
	res, err := e.launch(ctx, cl, plan, plan.Groups, boot, keys)
	if err != nil {
		return nil, e.partial(ctx, o.Tag, err)
	}
	if !o.CreateOnly {
		if err := e.Setup(ctx, o.Tag, o.Setup); err != nil {
			return nil, e.partial(ctx, o.Tag, err)
		}
	}
	return res, nil
}

// resume continues a cluster that exists: stopped instances are started and planned instances
// that are missing (a start that stopped half way) are launched.
func (e *Engine) resume(ctx context.Context, o StartOptions) (*Result, error) {
	tag := o.Tag
	cl, rec, err := e.loadCluster(ctx, tag)
	if err != nil {
		return nil, err
	}
	unlock, err := e.lockExisting(ctx, tag)
	if err != nil {
		return nil, err
	}
	defer unlock()
	plan := NewPlan(tag, rec)
	insts, err := e.instances(ctx, tag, &cl)
	if err != nil {
		return nil, err
	}
	// Instances of the cluster whose tags fail their checks were left out above; resuming
	// would take their aliases for missing and launch replacements beside them.
	if launched, err := e.launchedInstances(ctx, tag, &cl); err == nil && len(launched) > len(insts) {
		return nil, fmt.Errorf("cluster %s has %d instances whose tags fail their checks (see the warnings above); "+
			"correct or terminate them before resuming", tag, len(launched)-len(insts))
	}
	var stopped, vanished, unnamed []string
	for _, in := range insts {
		switch {
		case in.Alias == "" && in.Alive():
			// Launched, but the launch was interrupted before it named them (EC2 names
			// instances after RunInstances): never set up, they are launched again.
			unnamed = append(unnamed, in.ID)
		case in.State == cloud.StateStopped || in.State == cloud.StateStopping:
			stopped = append(stopped, in.ID)
		case in.Role == cloud.RoleMaster && in.State == cloud.StateDead:
			// A master whose container died boots again on its own disk.
			stopped = append(stopped, in.ID)
		}
	}
	for _, v := range vanishedNodes(insts, e.gone(ctx, tag)) {
		switch {
		case v.Instance.Role != cloud.RoleMaster:
			vanished = append(vanished, v.Alias)
		case v.Instance.State != cloud.StateDead:
			return nil, fmt.Errorf("cluster %s cannot be resumed: its master %s vanished (%s); `clusterctl terminate %s` removes the rest",
				tag, v.Instance.ID, v.Why, tag)
		}
	}
	if len(unnamed) > 0 {
		if err := e.step(ctx, fmt.Sprintf("terminate %s an interrupted launch left unnamed", plural(len(unnamed), "instance")), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Terminate(ctx, unnamed)
		}); err != nil {
			return nil, e.partial(ctx, tag, err)
		}
	}
	if len(stopped) > 0 {
		if err := e.step(ctx, fmt.Sprintf("start %d stopped instances", len(stopped)), func(ctx context.Context, _ *ui.Step) error {
			return e.Provider.Start(ctx, stopped)
		}); err != nil {
			return nil, e.partial(ctx, tag, err)
		}
	}
	if len(vanished) > 0 {
		// Vanished workers are planned nodes: they leave the cluster (their jobs requeued)
		// and are launched again under their aliases below.
		if err := e.replaceVanished(ctx, tag, vanished, o.Setup); err != nil {
			return nil, e.partial(ctx, tag, err)
		}
		if insts, err = e.instances(ctx, tag, &cl); err != nil {
			return nil, err
		}
	}
	existing := map[string]bool{}
	for _, in := range insts {
		if in.State != cloud.StateTerminated && in.State != cloud.StateShuttingDown {
			existing[in.Alias] = true
		}
	}
	var keys []string
	if kf := o.Setup.keyFile(rec.KeyName); kf != "" {
		if pub, err := AuthorizedKey(kf); err == nil && pub != "" {
			keys = []string{pub}
		}
	} else if pub, err := AuthorizedKey(ClusterKeyPath(e.StateDir, tag)); err == nil && pub != "" {
		keys = []string{pub}
	}
	res, err := e.launch(ctx, cl, plan, plan.Missing(existing), rec.bootConfig(keys), nil)
	if err != nil {
		return nil, e.partial(ctx, tag, err)
	}
	if !o.CreateOnly {
		if err := e.Setup(ctx, tag, o.Setup); err != nil {
			return nil, e.partial(ctx, tag, err)
		}
	}
	return res, nil
}

// mounts are the paths every node shares: /home and the volumes' mount paths.
func mounts(r Record) []cloud.Mount {
	out := []cloud.Mount{{Path: "/home"}}
	for _, v := range r.Volumes {
		out = append(out, cloud.Mount{Path: v.MountPath, VolumeID: v.ID})
	}
	return out
}

// launch creates the given groups (the master's first, so the workers can follow it into its
// zone), waits until every instance of the cluster runs, pins host keys and attaches volumes.
// keys are the host keys of the groups' aliases; nil generates them. The provider splits a
// group into as many calls as it needs (EC2: by the size of the user data).
func (e *Engine) launch(ctx context.Context, cl cloud.Cluster, plan Plan, groups []Group, boot cloud.BootConfig, keys map[string]HostKey) (*Result, error) {
	if keys == nil {
		var aliases []string
		for _, g := range groups {
			aliases = append(aliases, g.Aliases...)
		}
		var err error
		if keys, err = NewHostKeys(aliases); err != nil {
			return nil, err
		}
	}
	boot.HostKeys = privateKeys(keys)
	zone := plan.Record.Zone
	if zone == "" {
		zone = e.volumeZone(ctx, plan.Record)
	}
	if zone == "" {
		if m := e.masterZone(ctx, cl); m != "" {
			zone = m
		}
	}
	copies, err := e.launchCopies(ctx, plan.Tag, plan.Record, len(groups))
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		req := cloudRequest(plan, g, boot)
		req.GroupID, req.Zone, req.Volumes = cl.GroupID, zone, copies
		got, err := e.launchGroup(ctx, req, plan, g)
		if err != nil {
			return nil, err
		}
		if zone == "" && len(got) > 0 {
			zone = got[0].Zone
		}
	}
	insts, err := e.waitRunning(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := e.pinHostKeys(plan.Tag, insts, keys); err != nil {
		return nil, err
	}
	if err := e.attachVolumes(ctx, plan, insts); err != nil {
		return nil, err
	}
	return &Result{Cluster: cl, Plan: plan, Instances: insts}, nil
}

// masterZone is the zone of the cluster's running master, for workers launched later.
func (e *Engine) masterZone(ctx context.Context, cl cloud.Cluster) string {
	insts, err := e.instances(ctx, cl.Tag, &cl)
	if err != nil {
		return ""
	}
	for _, in := range insts {
		if in.Role == cloud.RoleMaster {
			return in.Zone
		}
	}
	return ""
}

// volumeZone is the zone of the template's volumes: the cluster must launch where they are.
func (e *Engine) volumeZone(ctx context.Context, r Record) string {
	if len(r.Volumes) == 0 {
		return ""
	}
	ids := make([]string, len(r.Volumes))
	for i, v := range r.Volumes {
		ids[i] = v.ID
	}
	vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{IDs: ids})
	if err != nil || len(vols) == 0 {
		return ""
	}
	return vols[0].Zone
}

// waitRunning waits until every instance of the cluster that is starting or running runs, and
// returns them. Vanished and stopped instances are not waited for: the warnings about them
// say what to do.
func (e *Engine) waitRunning(ctx context.Context, cl cloud.Cluster) ([]cloud.Instance, error) {
	tag := cl.Tag
	insts, err := e.instances(ctx, tag, &cl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(insts))
	for _, in := range insts {
		if in.State == cloud.StatePending || in.State == cloud.StateRunning {
			ids = append(ids, in.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var running []cloud.Instance
	err = e.step(ctx, fmt.Sprintf("wait for %d instances to run", len(ids)), func(ctx context.Context, st *ui.Step) error {
		ctx, cancel := context.WithTimeout(ctx, e.waitTimeout())
		defer cancel()
		if st != nil {
			ctx = cloud.WithWaitReporter(ctx, func(s cloud.WaitStatus) {
				st.Count(s.Ready, s.Total)
				if len(s.Pending) > 0 {
					st.Report("not ready: " + s.String())
				}
			})
		}
		running, err = e.Provider.Wait(ctx, tag, ids, cloud.StateRunning)
		if st != nil {
			st.Count(len(running), len(ids))
		}
		return err
	})
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, e.cancelUnfulfilledSpot(ctx, cl, err)
	}
	return running, err
}

// cancelUnfulfilledSpot ends spot instances that did not start running in time (EC2 had no
// capacity at the bid), so their requests do not linger and start later unobserved, and says so.
func (e *Engine) cancelUnfulfilledSpot(ctx context.Context, cl cloud.Cluster, waitErr error) error {
	insts, err := e.instances(ctx, cl.Tag, &cl)
	if err != nil {
		return waitErr
	}
	var ids, names []string
	for _, in := range insts {
		if in.Lifecycle == cloud.Spot && in.State == cloud.StatePending {
			ids, names = append(ids, in.ID), append(names, in.Alias)
		}
	}
	if len(ids) == 0 {
		return waitErr
	}
	if err := e.Provider.Terminate(ctx, ids); err != nil {
		return fmt.Errorf("%w; cancelling the unfulfilled spot instances %s also failed: %v", waitErr, strings.Join(names, ", "), err)
	}
	return fmt.Errorf("spot capacity for %s was not fulfilled within %s, so their spot requests were cancelled (start -x retries them): %w",
		strings.Join(names, ", "), e.waitTimeout(), waitErr)
}

// pinHostKeys records each instance's host key under its alias and addresses in the cluster's
// known_hosts (one rewrite, none when nothing changed), so the first connection is verified.
// Keys come from this run's generation, else from what the provider stored with the instance;
// a stored key that differs from the alias's pin is an alarm (remote.PinConflictError), never
// a silent re-pin: the tag holding it can be rewritten by anyone allowed to tag instances.
func (e *Engine) pinHostKeys(tag string, insts []cloud.Instance, fresh map[string]HostKey) error {
	var pins []remote.HostPin
	for _, in := range insts {
		pubText := in.HostKey
		k, isFresh := fresh[in.Alias]
		if isFresh {
			pubText = k.Public
		}
		if pubText == "" {
			e.log().Warn("no host key known for instance; its first connection cannot be verified", "alias", in.Alias, "id", in.ID)
			continue
		}
		pub, err := ParseHostKey(pubText)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Alias, err)
		}
		names := []string{in.Alias}
		for _, a := range []string{in.PrivateIP, in.PublicIP} {
			if a != "" {
				names = append(names, a)
			}
		}
		pins = append(pins, remote.HostPin{Hostnames: names, Key: pub, Strict: !isFresh && in.Alias != "",
			Source: fmt.Sprintf("tag %s of instance %s", cloud.TagHostKey, in.ID)})
	}
	if len(pins) == 0 {
		return nil
	}
	return e.KnownHosts(tag).PinAll(pins)
}

// attachVolumes attaches the template's volumes to the master (those not attached yet), on
// the configured device or the next free one from /dev/sdz downwards, as StarCluster did.
func (e *Engine) attachVolumes(ctx context.Context, plan Plan, insts []cloud.Instance) error {
	if len(plan.Record.Volumes) == 0 {
		return nil
	}
	var master *cloud.Instance
	for i := range insts {
		if insts[i].Role == cloud.RoleMaster {
			master = &insts[i]
		}
	}
	if master == nil {
		return fmt.Errorf("attach volumes: the cluster has no running master")
	}
	return e.step(ctx, fmt.Sprintf("attach %d volumes to %s", len(plan.Record.Volumes), master.Alias), func(ctx context.Context, st *ui.Step) error {
		for i, v := range plan.Record.Volumes {
			vols, err := e.Provider.Volumes(ctx, cloud.VolumeFilter{IDs: []string{v.ID}})
			if err != nil {
				return err
			}
			if len(vols) == 1 && vols[0].AttachedTo == master.ID {
				continue
			}
			if err := e.Provider.AttachVolume(ctx, v.ID, master.ID, VolumeDevice(plan.Record.Volumes, i)); err != nil {
				return fmt.Errorf("attach volume %s (%s): %w", v.Name, v.ID, err)
			}
			if st != nil {
				st.Count(i+1, len(plan.Record.Volumes))
				st.SetUnit("volumes")
			}
		}
		return nil
	})
}

// VolumeDevice is the device volume i attaches as: its DEVICE, else the next name counting down
// from /dev/sdz that no volume claims, as StarCluster did.
func VolumeDevice(vols []RecordVolume, i int) string {
	if vols[i].Device != "" {
		return vols[i].Device
	}
	taken := map[string]bool{}
	for _, v := range vols {
		taken[v.Device] = true
	}
	var free []string
	for c := 'z'; c >= 'f'; c-- {
		if dev := "/dev/sd" + string(c); !taken[dev] {
			free = append(free, dev)
		}
	}
	k := 0
	for _, v := range vols[:i] {
		if v.Device == "" {
			k++
		}
	}
	if k < len(free) {
		return free[k]
	}
	return ""
}

// guessLoginUser asks the provider which user the plan's images accept logins for, when the
// template names none (LOGIN_USER). Images that disagree cannot share one login user.
func (e *Engine) guessLoginUser(ctx context.Context, p Plan) (string, error) {
	g, ok := e.Provider.(cloud.LoginGuesser)
	if !ok {
		return "", nil // the provider's default (Capabilities) applies
	}
	users := map[string]string{} // user -> an image that has it
	asked := map[string]bool{}
	for _, grp := range p.Groups {
		if asked[grp.Image] {
			continue
		}
		asked[grp.Image] = true
		u, err := g.GuessLoginUser(ctx, grp.Image)
		if err != nil {
			return "", fmt.Errorf("login user of image %s: %w", grp.Image, err)
		}
		users[u] = grp.Image
	}
	if len(users) > 1 {
		var parts []string
		for u, img := range users {
			parts = append(parts, img+" logs in as "+u)
		}
		sort.Strings(parts)
		return "", fmt.Errorf("the cluster's images have different login users (%s): set LOGIN_USER in the template", strings.Join(parts, ", "))
	}
	for u := range users {
		e.log().Info("login user guessed from the image", "user", u)
		return u, nil
	}
	return "", nil
}

// keyFile is the template's private key path, or "".
func keyFile(t *config.Template) string {
	if t.Key == nil {
		return ""
	}
	return t.Key.Location
}

// bootConfig reads what every instance gets at first boot: the login user, the user's public
// key (the template's key, else the cluster's own key file), and the USERDATA_SCRIPTS. Missing
// files are reported before anything is launched.
func bootConfig(t *config.Template, clusterKey string) (cloud.BootConfig, error) {
	b := cloud.BootConfig{LoginUser: t.LoginUser}
	var errs []error
	kf := keyFile(t)
	if kf == "" {
		kf = clusterKey
	}
	if kf != "" {
		pub, err := AuthorizedKey(kf)
		if err != nil {
			errs = append(errs, err)
		} else if pub != "" {
			b.AuthorizedKeys = []string{pub}
		}
	}
	for _, p := range t.UserdataScripts {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("USERDATA_SCRIPTS: %w", err))
			continue
		}
		b.Scripts = append(b.Scripts, cloud.BootScript{Name: filepath.Base(p), Content: data})
	}
	return b, errors.Join(errs...)
}

func cloudPlan(p Plan, boot cloud.BootConfig, key string) cloud.Plan {
	cp := cloud.Plan{Tag: p.Tag, KeyFile: key}
	for _, g := range p.Groups {
		cp.Requests = append(cp.Requests, cloudRequest(p, g, boot))
	}
	for _, v := range p.Record.Volumes {
		cp.VolumeIDs = append(cp.VolumeIDs, v.ID)
	}
	return cp
}

func cloudRequest(p Plan, g Group, boot cloud.BootConfig) cloud.LaunchRequest {
	r := p.Record
	return cloud.LaunchRequest{Tag: p.Tag, Role: g.Role, Aliases: g.Aliases, InstanceType: g.Type, ImageID: g.Image,
		KeyName: r.KeyName, Zone: r.Zone, SubnetID: r.SubnetID, PublicIP: r.PublicIPs, SpotPrice: p.SpotPrice(g),
		RootVolumeGB: r.RootVolumeSize, IAMProfile: r.IAMProfile, Boot: boot, Volumes: r.launchVolumes(nil)}
}
