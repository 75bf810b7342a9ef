package main

import (
	"bytes"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Disk locks of running VMs (SPEC.md "Disks of running VMs"). A powered-on VM holds, for every disk, an exclusive
// lock on the extent it writes (the base -flat.vmdk, or the newest snapshot delta) and a shared read-only lock on the
// extents below it in the chain. Power off (and suspend) releases them. The lock table STATEDIR/locks is rewritten
// after every vcsim method that may change it; the SSH session's programs honour it through cesolock.so
// (LD_PRELOAD), vmkfstools and the datastore HTTP/VirtualDiskManager paths through fileLocked.

const locksFile = "locks"

var locksMu sync.Mutex
var lastLocks []byte

type lockEntry struct {
	Path      string
	Exclusive bool
}

func computeLocks(st *State) []lockEntry {
	var out []lockEntry
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		disks, _, on := disksOf(st, vm)
		if !on {
			continue
		}
		for _, d := range disks {
			for i, desc := range chainFiles(st, d.Leaf) {
				ext, _, _, err := extentOf(desc)
				if err != nil {
					continue
				}
				out = append(out, lockEntry{Path: ext, Exclusive: i == 0})
			}
		}
	}
	return out
}

// refreshLocks rewrites STATEDIR/locks from vcsim's power state and the disk chains ("<dev> <ino> <X|S> <path>").
func refreshLocks(st *State) {
	if st == nil || simulator.Map == nil {
		return
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	var b bytes.Buffer
	for _, l := range computeLocks(st) {
		fi, err := os.Stat(l.Path)
		if err != nil {
			continue
		}
		s := fi.Sys().(*syscall.Stat_t)
		mode := "S"
		if l.Exclusive {
			mode = "X"
		}
		fmt.Fprintf(&b, "%d %d %s %s\n", uint64(s.Dev), s.Ino, mode, l.Path)
	}
	if lastLocks != nil && bytes.Equal(b.Bytes(), lastLocks) {
		return
	}
	tmp := filepath.Join(st.Dir, ".locks.tmp")
	if ioutil.WriteFile(tmp, b.Bytes(), 0644) == nil && os.Rename(tmp, filepath.Join(st.Dir, locksFile)) == nil {
		lastLocks = append([]byte{}, b.Bytes()...)
	}
}

// fileLocked: a running VM's lock forbids this access to the file (exclusive: any; shared: writing).
func fileLocked(dir, path string, writing bool) bool {
	b, err := ioutil.ReadFile(filepath.Join(dir, locksFile))
	if err != nil || len(b) == 0 {
		return false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	s := fi.Sys().(*syscall.Stat_t)
	for _, l := range strings.Split(string(b), "\n") {
		var dev, ino uint64
		var mode string
		if n, _ := fmt.Sscanf(l, "%d %d %s", &dev, &ino, &mode); n == 3 && dev == uint64(s.Dev) && ino == s.Ino {
			return mode == "X" || writing
		}
	}
	return false
}

// diskLocked: the disk (descriptor) cannot be opened so: any extent of its chain that the access would need is
// locked (reading: its own extent exclusive-locked; writing/deleting: its own extent locked at all).
func diskLocked(st *State, vmdk string, writing bool) bool {
	ext, _, _, err := extentOf(vmdk)
	if err != nil {
		return false
	}
	if fileLocked(st.Dir, ext, writing) {
		return true
	}
	if writing {
		return false
	}
	for _, p := range chainFiles(st, vmdk)[1:] {
		if e, _, _, err := extentOf(p); err == nil && fileLocked(st.Dir, e, false) {
			return true
		}
	}
	return false
}

// diskHook runs around every vcsim method (SOAP front and the tools' in-process calls): snapshot create/remove get
// their deltas made or consolidated (under diskMu, with vcsim's snapshot-removal deletions undone first), and any
// write method refreshes the lock table. Returns what to run once the method has returned.
func diskHook(st *State, method string, this types.ManagedObjectReference) func() {
	if st == nil || readOnly[method] {
		return func() {}
	}
	switch method {
	case "CreateSnapshot_Task", "RemoveSnapshot_Task", "RemoveAllSnapshots_Task":
	default:
		return func() { refreshLocks(st) }
	}
	var vm *simulator.VirtualMachine
	if this.Type == "VirtualMachineSnapshot" {
		if s, ok := simulator.Map.Get(this).(*simulator.VirtualMachineSnapshot); ok {
			vm, _ = simulator.Map.Get(s.Vm).(*simulator.VirtualMachine)
		}
	} else {
		vm, _ = simulator.Map.Get(this).(*simulator.VirtualMachine)
	}
	if vm == nil {
		return func() { refreshLocks(st) }
	}
	diskMu.Lock()
	before := snapshotsOf(vm)
	ids := snapshotIDs(vm)
	_, vmxLocal, _ := disksOf(st, vm)
	vmsnBefore := vmsnFiles(vmxLocal)
	var restore func()
	if method != "CreateSnapshot_Task" {
		// vcsim deletes files by stale layoutEx keys on removal (snapguard.go): undo that, then consolidate.
		restore = guardSnapshotRemoval(st)
	}
	return func() {
		defer diskMu.Unlock()
		if restore != nil {
			restore()
		}
		after := snapshotsOf(vm)
		if method == "CreateSnapshot_Task" {
			created := minus(after, before)
			if n := minus(vmsnFiles(vmxLocal), vmsnBefore); len(created) == 1 && len(n) == 1 {
				snapVmsn[created[0]] = n[0]
			}
			afterSnapshotCreate(st, vm, created)
		} else {
			afterSnapshotRemove(st, vm, minus(before, after), ids)
		}
		refreshLocks(st)
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// thisOf: the _this of an in-process request body (methods.XBody{Req: *types.X{This: …}}).
func thisOf(req interface{}) (string, types.ManagedObjectReference) {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Ptr || v.IsNil() {
		return "", types.ManagedObjectReference{}
	}
	r := v.Elem().FieldByName("Req")
	if !r.IsValid() || r.IsNil() {
		return "", types.ManagedObjectReference{}
	}
	method := r.Elem().Type().Name()
	if t := r.Elem().FieldByName("This"); t.IsValid() {
		if ref, ok := t.Interface().(types.ManagedObjectReference); ok {
			return method, ref
		}
	}
	return method, types.ManagedObjectReference{}
}
