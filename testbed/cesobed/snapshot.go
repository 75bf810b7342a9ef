package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (t *Tool) snapshot(ctx context.Context, c *vim25.Client, cmd string, a []string) error {
	vm := object.NewVirtualMachine(c, vmRef(a[0]))
	switch cmd {
	case "vmsvc/snapshot.create":
		if t.Faults.SnapshotFailure {
			return fmt.Errorf("An error occurred while taking a snapshot: Operation failed.")
		}
		name, desc := "snapshot", ""
		mem, q := false, false
		if len(a) > 1 {
			name = a[1]
		}
		if len(a) > 2 {
			desc = a[2]
		}
		if len(a) > 3 {
			mem, _ = strconv.ParseBool(a[3])
		}
		if len(a) > 4 {
			q, _ = strconv.ParseBool(a[4])
		}
		fmt.Fprintln(t.out, "Create Snapshot:")
		tk, err := vm.CreateSnapshot(ctx, name, desc, mem, q)
		if err != nil {
			return err
		}
		return tk.Wait(ctx)
	case "vmsvc/snapshot.removeall":
		fmt.Fprintln(t.out, "Remove All Snapshots:")
		tk, err := vm.RemoveAllSnapshot(ctx, nil)
		if err != nil {
			return err
		}
		return tk.Wait(ctx)
	case "vmsvc/snapshot.remove", "vmsvc/snapshot.revert":
		if len(a) < 2 {
			return fmt.Errorf("Insufficient arguments.")
		}
		ref, err := t.snapRef(ctx, vm, a[1])
		if err != nil {
			return err
		}
		if cmd == "vmsvc/snapshot.revert" {
			fmt.Fprintln(t.out, "Revert Snapshot:")
			res, err := methods.RevertToSnapshot_Task(ctx, c, &types.RevertToSnapshot_Task{This: ref})
			if err != nil {
				return err
			}
			return object.NewTask(c, res.Returnval).Wait(ctx)
		}
		fmt.Fprintln(t.out, "Remove Snapshot:")
		tk, err := vm.RemoveSnapshot(ctx, ref.Value, false, nil)
		if err != nil {
			return err
		}
		return tk.Wait(ctx)
	case "vmsvc/snapshot.get":
		var mvm mo.VirtualMachine
		if err := vm.Properties(ctx, vm.Reference(), []string{"snapshot"}, &mvm); err != nil {
			return err
		}
		// Format (including vim-cmd's "Desciption" typo): see printSnapTree.
		fmt.Fprintln(t.out, "Get Snapshot:")
		if mvm.Snapshot != nil {
			t.printSnapTree(mvm.Snapshot.RootSnapshotList, 1)
		}
	}
	return nil
}

// printSnapTree prints `vim-cmd vmsvc/snapshot.get`'s tree. Real layout (ESXi 6.x-8.x):
//
//	Get Snapshot:
//	|-ROOT
//	--Snapshot Name        : snap01
//	--Snapshot Id        : 1
//	--Snapshot Desciption  : snap01 description
//	--Snapshot Created On  : 2/23/2015 18:12:50
//	--Snapshot State       : powered on
//	--|-CHILD
//	----Snapshot Name        : snap02
//	...
//
// i.e. a child's "|-CHILD" line carries its parent's dashes and its fields two more dashes per level.
// No citable URL: this layout (with "--|-CHILD" / "----Snapshot Name") was seen in several public blog posts and
// READMEs through a code index that did not give their addresses, so none is given here. The date is
// month/day/year, month and day not zero-padded (e.g. "6/22/2017 16:18:14"); no sample with a single-digit
// hour/minute/second was found, those are printed unpadded (unverified).
func (t *Tool) printSnapTree(l []types.VirtualMachineSnapshotTree, depth int) {
	for _, s := range l {
		d := strings.Repeat("-", 2*depth)
		label := "|-ROOT"
		if depth > 1 {
			label = strings.Repeat("-", 2*(depth-1)) + "|-CHILD"
		}
		fmt.Fprintln(t.out, label)
		fmt.Fprintf(t.out, "%sSnapshot Name        : %s\n%sSnapshot Id        : %d\n%sSnapshot Desciption  : %s\n%sSnapshot Created On  : %s\n%sSnapshot State       : %s\n",
			d, s.Name, d, s.Id, d, s.Description, d, s.CreateTime.Format("1/2/2006 15:4:5"), d, map[types.VirtualMachinePowerState]string{
				"poweredOn": "powered on", "poweredOff": "powered off", "suspended": "suspended"}[s.State])
		t.printSnapTree(s.ChildSnapshotList, depth+1)
	}
}

// snapRef finds a snapshot by its numeric id (vim-cmd's snapshotId) or name.
func (t *Tool) snapRef(ctx context.Context, vm *object.VirtualMachine, id string) (types.ManagedObjectReference, error) {
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"snapshot"}, &mvm); err != nil {
		return types.ManagedObjectReference{}, err
	}
	var found *types.ManagedObjectReference
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(l []types.VirtualMachineSnapshotTree) {
		for _, s := range l {
			if strconv.Itoa(int(s.Id)) == id || s.Name == id || s.Snapshot.Value == id {
				r := s.Snapshot
				found = &r
			}
			walk(s.ChildSnapshotList)
		}
	}
	if mvm.Snapshot != nil {
		walk(mvm.Snapshot.RootSnapshotList)
	}
	if found == nil {
		return types.ManagedObjectReference{}, fmt.Errorf("Snapshot %s not found", id)
	}
	return *found, nil
}
