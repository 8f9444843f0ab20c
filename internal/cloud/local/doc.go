// Package local implements cloud.Provider with systemd-nspawn containers on this machine: the
// way to run clusterctl without an AWS account, and the testbed for end-to-end tests with real
// Grid Engine clusters.
//
// Each cluster gets a /24 of 10.213.0.0/16 on a bridge of its own; each instance is a Debian
// container booted with systemd from an overlay over a cached image (built once with
// debootstrap from the definition in imagedef.go), with its host name, static address, SSH host
// key, login keys and user data scripts written into its upper layer before first boot, as
// cloud-init does on EC2. /home and volume mount paths are host directories bound into every
// node, since this kernel has no NFS.
//
// The state directory is the only record (the equivalent of EC2's tags): every call reads it
// back, checks each container's process, and so a later clusterctl process lists, reaches,
// stops and terminates what an earlier one started. The provider needs root.
package local
