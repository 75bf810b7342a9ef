package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Snapshot deltas on disk, as ESXi 7/8 make them on VMFS-6 (see SPEC.md "Disks of running VMs"): taking a snapshot
// gives every disk of the VM a delta next to the VM's .vmx — descriptor <base>-00000N.vmdk (createType "seSparse",
// parentFileNameHint = the disk it was current before) and extent <base>-00000N-sesparse.vmdk — the VM's config
// (backing.fileName, with backing.parent = the previous backing) and its .vmx (scsiX:Y.fileName) point at the delta,
// and the guest writes into it. Removing a snapshot consolidates: the delta the snapshot created is merged into its
// parent (the base -flat.vmdk or an older delta) and its two files are deleted.
//
// The extent is not VMware's SEsparse format (no public spec to write it from; qemu-img cannot read it): it is an
// append-only log, a 4 KiB header then records "CSRC" + 4 zero bytes + offset (8 bytes, big-endian) + length (8 bytes,
// big-endian) + the data, in write order. Its size grows with what the guest writes, as a real delta's does, and
// consolidation applies exactly the written ranges.

const deltaMagic = "CESOBED-SESPARSE 1\n"
const deltaHeader = 4096
const recMagic = "CSRC"

// diskMu serializes what touches the disk chains of running VMs: guest writes, snapshot create/remove (delta files,
// backing changes) and the lock table. Held across a snapshot method, so no guest write lands between vcsim's
// snapshot and its delta.
var diskMu sync.Mutex

// snapDelta: the deltas a snapshot created, by disk key (descriptor paths, local).
var snapDeltas = map[string]map[int32]string{}

var cidRe = regexp.MustCompile(`(?m)^CID=([0-9a-fA-F]+)`)
var parentHintRe = regexp.MustCompile(`(?m)^parentFileNameHint="([^"]+)"`)
var deltaNameRe = regexp.MustCompile(`-\d{6}$`)

// extentOf parses a descriptor: its extent file (local), the extent type (VMFS, SESPARSE, …) and the capacity.
func extentOf(vmdk string) (string, string, int64, error) {
	b, err := ioutil.ReadFile(vmdk)
	if err != nil {
		return "", "", 0, err
	}
	m := extentRe.FindStringSubmatch(string(b))
	if m == nil {
		return "", "", 0, fmt.Errorf("not a VMDK descriptor")
	}
	var sec int64
	fmt.Sscan(m[2], &sec)
	return filepath.Join(filepath.Dir(vmdk), m[4]), m[3], sec * 512, nil
}

// parentOf: the descriptor a delta descriptor names as its parent ("" for a base disk).
func parentOf(vmdk string) string {
	b, err := ioutil.ReadFile(vmdk)
	if err != nil {
		return ""
	}
	m := parentHintRe.FindStringSubmatch(string(b))
	if m == nil {
		return ""
	}
	if strings.HasPrefix(m[1], "/") {
		return m[1]
	}
	return filepath.Join(filepath.Dir(vmdk), m[1])
}

// chainFiles: descriptor paths from vmdk down to its base (vmdk first), by parentFileNameHint.
func chainFiles(st *State, vmdk string) []string {
	var out []string
	for p := vmdk; p != "" && len(out) < 64; {
		out = append(out, p)
		n := parentOf(p)
		if strings.HasPrefix(n, "/vmfs/volumes/") {
			n, _ = localPath(st, n)
		}
		p = n
	}
	return out
}

func isDelta(kind string) bool { return kind == "SESPARSE" || kind == "VMFSSPARSE" }

// deltaName: the next free <base>-00000N.vmdk in dir for a disk whose base descriptor is base.
func deltaName(dir, base string) string {
	stem := deltaNameRe.ReplaceAllString(strings.TrimSuffix(filepath.Base(base), ".vmdk"), "")
	for n := 1; ; n++ {
		p := filepath.Join(dir, fmt.Sprintf("%s-%06d.vmdk", stem, n))
		if _, err := os.Stat(p); os.IsNotExist(err) {
			return p
		}
	}
}

// createDelta writes an empty delta (descriptor + extent) on top of parent (a descriptor).
func createDelta(parent, desc string, capacity int64) error {
	pb, err := ioutil.ReadFile(parent)
	if err != nil {
		return err
	}
	pcid := "ffffffff"
	if m := cidRe.FindSubmatch(pb); m != nil {
		pcid = string(m[1])
	}
	hint := filepath.Base(parent)
	if filepath.Dir(parent) != filepath.Dir(desc) {
		hint = parent
	}
	ext := strings.TrimSuffix(desc, ".vmdk") + "-sesparse.vmdk"
	hdr := make([]byte, deltaHeader)
	copy(hdr, deltaMagic+fmt.Sprintf("capacity=%d\n", capacity))
	if err := ioutil.WriteFile(ext, hdr, 0600); err != nil {
		return err
	}
	// An ESXi 7/8 SEsparse snapshot descriptor (createType "seSparse", extent type SESPARSE, the parent's CID and name).
	d := fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%s
parentCID=%s
createType="seSparse"
parentFileNameHint="%s"
# Extent description
RW %d SESPARSE "%s"

# The Disk Data Base
#DDB

ddb.grain = "8"
ddb.longContentID = "%s"
ddb.sectorsPerGrain = "8"
`, randHex(4), pcid, hint, capacity/512, filepath.Base(ext), randHex(16))
	if err := ioutil.WriteFile(desc, []byte(d), 0600); err != nil {
		_ = os.Remove(ext)
		return err
	}
	return nil
}

// appendDelta appends one written range to a delta extent.
func appendDelta(ext string, off int64, data []byte) error {
	f, err := os.OpenFile(ext, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	rec := make([]byte, 24+len(data))
	copy(rec, recMagic)
	binary.BigEndian.PutUint64(rec[8:], uint64(off))
	binary.BigEndian.PutUint64(rec[16:], uint64(len(data)))
	copy(rec[24:], data)
	_, err = f.Write(rec)
	return err
}

// eachRecord calls fn for every written range of a delta extent, in write order.
func eachRecord(ext string, fn func(off int64, data []byte) error) error {
	f, err := os.Open(ext)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(deltaHeader, io.SeekStart); err != nil {
		return err
	}
	var h [24]byte
	for {
		if _, err := io.ReadFull(f, h[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: truncated record: %v", ext, err)
		}
		if string(h[:4]) != recMagic {
			return fmt.Errorf("%s: bad record", ext)
		}
		off, n := int64(binary.BigEndian.Uint64(h[8:])), int64(binary.BigEndian.Uint64(h[16:]))
		data := make([]byte, n)
		if _, err := io.ReadFull(f, data); err != nil {
			return fmt.Errorf("%s: truncated record: %v", ext, err)
		}
		if err := fn(off, data); err != nil {
			return err
		}
	}
}

// writeDisk writes data at off into a disk (descriptor): into its flat extent, or appended to its delta.
func writeDisk(vmdk string, off int64, data []byte) error {
	ext, kind, _, err := extentOf(vmdk)
	if err != nil {
		return err
	}
	if isDelta(kind) {
		return appendDelta(ext, off, data)
	}
	f, err := os.OpenFile(ext, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(data, off)
	return err
}

// mergeDelta consolidates delta (descriptor) into parent (descriptor) and deletes the delta's two files.
func mergeDelta(delta, parent string) error {
	ext, _, _, err := extentOf(delta)
	if err != nil {
		return err
	}
	if err := eachRecord(ext, func(off int64, data []byte) error { return writeDisk(parent, off, data) }); err != nil {
		return err
	}
	_ = os.Remove(ext)
	return os.Remove(delta)
}

// materialize writes the disk vmdk as its guest sees it (its base flat with every delta of its chain applied) to the
// flat file dst: what vmkfstools -i / CopyVirtualDisk_Task of a snapshot disk copy.
func materialize(st *State, vmdk, dst string, mbps int, progress func(int)) error {
	chain := chainFiles(st, vmdk)
	base := chain[len(chain)-1]
	bflat, kind, size, err := extentOf(base)
	if err != nil {
		return err
	}
	if isDelta(kind) {
		return fmt.Errorf("%s: the base disk of the chain is missing", vmdk)
	}
	if err := sparseCopy(bflat, dst, size, mbps, progress); err != nil {
		return err
	}
	if len(chain) == 1 {
		return nil
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := len(chain) - 2; i >= 0; i-- {
		ext, _, _, err := extentOf(chain[i])
		if err != nil {
			return err
		}
		if err := eachRecord(ext, func(off int64, data []byte) error { _, err := f.WriteAt(data, off); return err }); err != nil {
			return err
		}
	}
	return f.Sync()
}

// snapshotsOf: the snapshot morefs of a VM in vcsim's tree (any order).
func snapshotsOf(vm *simulator.VirtualMachine) []string {
	var out []string
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(l []types.VirtualMachineSnapshotTree) {
		for _, s := range l {
			out = append(out, s.Snapshot.Value)
			walk(s.ChildSnapshotList)
		}
	}
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot != nil {
			walk(vm.Snapshot.RootSnapshotList)
		}
	})
	return out
}

// snapshotID: vcsim's numeric id of a snapshot (creation order).
func snapshotIDs(vm *simulator.VirtualMachine) map[string]int32 {
	ids := map[string]int32{}
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(l []types.VirtualMachineSnapshotTree) {
		for _, s := range l {
			ids[s.Snapshot.Value] = s.Id
			walk(s.ChildSnapshotList)
		}
	}
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot != nil {
			walk(vm.Snapshot.RootSnapshotList)
		}
	})
	return ids
}

// vmDisk is a disk of a VM as the disk layer sees it.
type vmDisk struct {
	Key     int32
	Leaf    string // local descriptor the VM writes into (the backing's fileName)
	Backing *types.VirtualDiskFlatVer2BackingInfo
}

func disksOf(st *State, vm *simulator.VirtualMachine) (disks []vmDisk, vmxLocal string, on bool) {
	simulator.Map.WithLock(vm, func() {
		if vm.Config == nil {
			return
		}
		on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
		vmxLocal, _ = localPath(st, vm.Config.Files.VmPathName)
		for _, d := range vm.Config.Hardware.Device {
			disk, ok := d.(*types.VirtualDisk)
			if !ok {
				continue
			}
			b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok {
				continue
			}
			local, ds := localPath(st, b.FileName)
			if ds == nil {
				continue
			}
			disks = append(disks, vmDisk{Key: disk.Key, Leaf: local, Backing: b})
		}
	})
	return
}

// setLeaf points a disk of the VM at a new current file: backing.fileName = leaf, backing.parent = parent (nil for a
// base disk). The device object is replaced, not changed in place: vcsim's snapshots share the config's devices.
func setLeaf(st *State, vm *simulator.VirtualMachine, key int32, leaf string, parent *types.VirtualDiskFlatVer2BackingInfo) {
	simulator.Map.WithLock(vm, func() {
		devs := make([]types.BaseVirtualDevice, len(vm.Config.Hardware.Device))
		copy(devs, vm.Config.Hardware.Device)
		for i, d := range devs {
			disk, ok := d.(*types.VirtualDisk)
			if !ok || disk.Key != key {
				continue
			}
			old, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok {
				continue
			}
			nb := *old
			nb.FileName = dsPath(st, leaf)
			nb.Parent = parent
			nb.DeltaDiskFormat = ""
			if _, kind, _, err := extentOf(leaf); err == nil && isDelta(kind) {
				nb.DeltaDiskFormat = string(types.VirtualDiskDeltaDiskFormatSeSparseFormat)
			}
			nd := *disk
			nd.Backing = &nb
			devs[i] = &nd
		}
		vm.Config.Hardware.Device = devs
	})
}

var vmxFileNameRe = regexp.MustCompile(`(?mi)^((?:scsi|sata|nvme|ide)\d+:\d+\.fileName\s*=\s*")([^"]*)(")`)

// rewriteVmxDisk replaces a disk's fileName in the .vmx (old -> new, both local), as hostd does on snapshot
// create/remove: a file beside the .vmx is named relative, others by their /vmfs/volumes path.
func rewriteVmxDisk(st *State, vmxLocal, old, nw string) {
	b, err := ioutil.ReadFile(vmxLocal)
	if err != nil {
		return
	}
	dir := filepath.Dir(vmxLocal)
	rel := nw
	if filepath.Dir(nw) == dir {
		rel = filepath.Base(nw)
	} else {
		rel = vmfsPathOf(st, nw)
	}
	out := vmxFileNameRe.ReplaceAllStringFunc(string(b), func(m string) string {
		p := vmxFileNameRe.FindStringSubmatch(m)
		f := p[2]
		if !strings.HasPrefix(f, "/") {
			f = filepath.Join(dir, f)
		} else if l, ds := localPath(st, f); ds != nil {
			f = l
		}
		if f != old {
			return m
		}
		return p[1] + rel + p[3]
	})
	if out != string(b) {
		_ = ioutil.WriteFile(vmxLocal, []byte(out), 0644)
	}
}

// afterSnapshotCreate gives every disk of the VM a delta for the snapshot that was just made (created = new morefs).
func afterSnapshotCreate(st *State, vm *simulator.VirtualMachine, created []string) {
	if len(created) == 0 {
		return
	}
	snap := created[0]
	disks, vmxLocal, _ := disksOf(st, vm)
	deltas := map[int32]string{}
	for _, d := range disks {
		_, _, size, err := extentOf(d.Leaf)
		if err != nil {
			continue // not a disk with real files (e.g. vcsim's empty placeholder)
		}
		chain := chainFiles(st, d.Leaf)
		desc := deltaName(filepath.Dir(vmxLocal), chain[len(chain)-1])
		if err := createDelta(d.Leaf, desc, size); err != nil {
			logf("snapshot delta %s: %v", desc, err)
			continue
		}
		setLeaf(st, vm, d.Key, desc, d.Backing)
		rewriteVmxDisk(st, vmxLocal, d.Leaf, desc)
		deltas[d.Key] = desc
	}
	snapDeltas[snap] = deltas
}

// snapVmsn: the snapshot state file (.vmsn) vcsim made for a snapshot, deleted with it (vcsim deletes by stale
// layoutEx keys, which snapguard undoes for everything but .vmsn; a real host deletes exactly the snapshot's).
var snapVmsn = map[string]string{}

func vmsnFiles(vmxLocal string) []string {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(vmxLocal), "*.vmsn"))
	return m
}

// afterSnapshotRemove consolidates the deltas of the snapshots that are gone (newest first, as each merges into its
// parent) and deletes them.
func afterSnapshotRemove(st *State, vm *simulator.VirtualMachine, removed []string, ids map[string]int32) {
	sort.Slice(removed, func(i, j int) bool { return ids[removed[i]] > ids[removed[j]] })
	for _, snap := range removed {
		if f := snapVmsn[snap]; f != "" {
			_ = os.Remove(f)
			delete(snapVmsn, snap)
		}
		deltas := snapDeltas[snap]
		delete(snapDeltas, snap)
		for _, delta := range deltas {
			parent := parentOf(delta)
			if parent == "" {
				continue
			}
			if strings.HasPrefix(parent, "/vmfs/volumes/") {
				parent, _ = localPath(st, parent)
			}
			disks, vmxLocal, _ := disksOf(st, vm)
			for _, d := range disks {
				// by chain, not by device key: a reload/registervm re-creates the devices with new keys
				if !contains(chainFiles(st, d.Leaf), delta) {
					continue
				}
				key := d.Key
				if d.Leaf == delta {
					// the VM wrote into this delta: it writes into the parent from now on
					var pp *types.VirtualDiskFlatVer2BackingInfo
					if d.Backing.Parent != nil {
						pp = d.Backing.Parent.Parent
					}
					setLeaf(st, vm, key, parent, pp)
					rewriteVmxDisk(st, vmxLocal, delta, parent)
				} else {
					relinkChild(st, vm, key, delta, parent)
				}
			}
			if err := mergeDelta(delta, parent); err != nil {
				logf("consolidate %s into %s: %v", delta, parent, err)
			}
		}
	}
}

// relinkChild: a delta in the middle of a chain goes; its child names the delta's parent from now on (descriptor and
// backing chain).
func relinkChild(st *State, vm *simulator.VirtualMachine, key int32, gone, parent string) {
	disks, _, _ := disksOf(st, vm)
	for _, d := range disks {
		if d.Key != key {
			continue
		}
		chain := chainFiles(st, d.Leaf)
		for i := 0; i+1 < len(chain); i++ {
			if chain[i+1] != gone {
				continue
			}
			child := chain[i]
			if b, err := ioutil.ReadFile(child); err == nil {
				hint := filepath.Base(parent)
				if filepath.Dir(parent) != filepath.Dir(child) {
					hint = parent
				}
				nb := parentHintRe.ReplaceAllString(string(b), `parentFileNameHint="`+hint+`"`)
				if pb, err := ioutil.ReadFile(parent); err == nil {
					if m := cidRe.FindStringSubmatch(string(pb)); m != nil {
						nb = regexp.MustCompile(`(?m)^parentCID=.*$`).ReplaceAllString(nb, "parentCID="+m[1])
					}
				}
				_ = ioutil.WriteFile(child, []byte(nb), 0600)
			}
		}
		// rebuild the backing chain from the descriptors
		setLeaf(st, vm, key, d.Leaf, backingChain(st, chainFiles(st, d.Leaf)[1:], d.Backing))
	}
}

// backingChain builds backing.parent objects for descriptors (nearest first), modelled on the leaf backing.
func backingChain(st *State, files []string, model *types.VirtualDiskFlatVer2BackingInfo) *types.VirtualDiskFlatVer2BackingInfo {
	if len(files) == 0 {
		return nil
	}
	nb := *model
	nb.FileName = dsPath(st, files[0])
	nb.Parent = backingChain(st, files[1:], model)
	return &nb
}

func logf(format string, a ...interface{}) { fmt.Fprintf(os.Stderr, "cesobed: "+format+"\n", a...) }

func contains(l []string, x string) bool {
	for _, e := range l {
		if e == x {
			return true
		}
	}
	return false
}
