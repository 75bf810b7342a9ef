package main

import (
	"context"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (t *Tool) vmLifecycle(ctx context.Context, c *vim25.Client, cmd, id string) error {
	vm := object.NewVirtualMachine(c, vmRef(id))
	switch cmd {
	case "vmsvc/unregister":
		return vm.Unregister(ctx)
	case "vmsvc/destroy":
		tk, err := vm.Destroy(ctx)
		if err != nil {
			return err
		}
		return tk.Wait(ctx)
	case "vmsvc/reload": // re-read the .vmx (a real host reloads it)
		var mvm mo.VirtualMachine
		if err := vm.Properties(ctx, vm.Reference(), []string{"config.files.vmPathName"}, &mvm); err != nil {
			return err
		}
		return syncFromVmx(ctx, c, t.St, vm, mvm.Config.Files.VmPathName)
	}
	return nil
}

// registerVM: vim-cmd solo/registervm /vmfs/volumes/ds/dir/x.vmx [name] -> prints the new vmid.
func (t *Tool) registerVM(ctx context.Context, c *vim25.Client, a []string) error {
	local, ds := t.path(a[0])
	if ds == nil {
		return fmt.Errorf("Invalid datastore path '%s'.", a[0])
	}
	b, err := ioutil.ReadFile(local)
	if err != nil {
		return fmt.Errorf("File %s was not found", a[0])
	}
	vmx := parseVmx(b)
	name := vmx["displayname"]
	if len(a) > 1 {
		name = a[1]
	}
	dir := filepath.Dir(local)
	for _, f := range []string{name + ".nvram", "vmware.log"} { // vcsim insists on these
		if _, err := os.Stat(filepath.Join(dir, f)); os.IsNotExist(err) {
			_ = ioutil.WriteFile(filepath.Join(dir, f), nil, 0644)
		}
	}
	folder := object.NewFolder(c, types.ManagedObjectReference{Type: "Folder", Value: "ha-folder-vm"})
	host := object.NewHostSystem(c, esx.HostSystem.Reference())
	pool, err := host.ResourcePool(ctx)
	if err != nil {
		return err
	}
	tk, err := folder.RegisterVM(ctx, dsPath(t.St, local), name, false, pool, host)
	if err != nil {
		return err
	}
	info, err := tk.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	ref := info.Result.(types.ManagedObjectReference)
	if err := syncFromVmx(ctx, c, t.St, object.NewVirtualMachine(c, ref), dsPath(t.St, local)); err != nil {
		return err
	}
	fmt.Fprintln(t.out, vmid(ref.Value))
	return nil
}

// vcsimNetwork: vcsim has a Network object of that name (a VM portgroup).
// Outside serve (cesobed run as a tool itself) there is no in-process vcsim: nothing to check.
func vcsimNetwork(name string) bool {
	all := simulator.Map.All("Network")
	if len(all) == 0 {
		return true
	}
	for _, e := range all {
		if n, ok := e.(*mo.Network); ok && n.Name == name {
			return true
		}
	}
	return false
}

var diskKeyRe = regexp.MustCompile(`^(scsi|sata|nvme|ide)(\d+):(\d+)\.filename$`)
var nicKeyRe = regexp.MustCompile(`^ethernet(\d+)\.present$`)

// syncFromVmx makes vcsim's VM what the .vmx says: CPUs, memory, firmware, annotation, extraConfig, disks, NICs.
func syncFromVmx(ctx context.Context, c *vim25.Client, st *State, vm *object.VirtualMachine, vmxPath string) error {
	local, ds := localPath(st, vmxPath)
	b, err := ioutil.ReadFile(local)
	if err != nil {
		return err
	}
	vmx, keyCase := parseVmx(b), vmxKeyCase(b)
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"config"}, &mvm); err != nil {
		return err
	}
	spec := types.VirtualMachineConfigSpec{Annotation: vmx["annotation"], Firmware: vmx["firmware"]}
	if n, err := strconv.Atoi(vmx["numvcpus"]); err == nil {
		spec.NumCPUs = int32(n)
	}
	if n, err := strconv.Atoi(vmx["memsize"]); err == nil {
		spec.MemoryMB = int64(n)
	}
	if g := vmx["guestos"]; g != "" {
		spec.GuestId = guestIDFromVmx(g)
	}
	if u := strings.ReplaceAll(strings.ReplaceAll(vmx["uuid.bios"], " ", ""), "-", ""); len(u) == 32 {
		spec.Uuid = u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32]
	}
	var keys []string
	for k := range vmx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "guestinfo.") || strings.HasPrefix(k, "disk.") || strings.HasPrefix(k, "svga.") {
			spec.ExtraConfig = append(spec.ExtraConfig, &types.OptionValue{Key: keyCase[k], Value: vmx[k]})
		}
	}
	devs := object.VirtualDeviceList(mvm.Config.Hardware.Device)
	for _, d := range devs.SelectByType((*types.VirtualDisk)(nil)) {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: d})
	}
	for _, d := range devs.SelectByType((*types.VirtualEthernetCard)(nil)) {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: d})
	}
	scsi, _ := devs.CreateSCSIController(map[bool]string{true: vmx["scsi0.virtualdev"], false: "pvscsi"}[vmx["scsi0.virtualdev"] != ""])
	scsi.GetVirtualDevice().Key = -100
	var add []types.BaseVirtualDevice
	if devs.PickController((*types.VirtualSCSIController)(nil)) == nil {
		add = append(add, scsi)
	}
	ctrlKey := int32(-100)
	if pc := devs.PickController((*types.VirtualSCSIController)(nil)); pc != nil {
		ctrlKey = pc.GetVirtualController().Key
	}
	unit := int32(0)
	var deltas [][2]string // base, delta (local) of disks whose .vmx fileName is a snapshot delta
	for _, k := range keys {
		m := diskKeyRe.FindStringSubmatch(k)
		if m == nil || strings.ToUpper(vmx[m[1]+m[2]+":"+m[3]+".present"]) == "FALSE" {
			continue
		}
		f := vmx[k]
		if !strings.HasPrefix(f, "/") {
			f = filepath.Join(filepath.Dir(local), f)
		}
		dl, dds := localPath(st, f)
		if dds == nil || !strings.HasSuffix(f, ".vmdk") {
			continue
		}
		_, size, _ := flatOf(dl)
		u := unit
		unit++
		if u == 7 {
			u, unit = 8, 9
		}
		disk := &types.VirtualDisk{CapacityInKB: size / 1024, CapacityInBytes: size}
		disk.Key = -200 - u
		disk.ControllerKey = ctrlKey
		disk.UnitNumber = &u
		disk.Backing = &types.VirtualDiskFlatVer2BackingInfo{DiskMode: "persistent", ThinProvisioned: types.NewBool(true),
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: dsPath(st, dl),
				Datastore: &types.ManagedObjectReference{Type: "Datastore", Value: dds.UUID}}}
		if chain := chainFiles(st, dl); len(chain) > 1 {
			// A snapshot delta: vcsim refuses a disk whose "-flat" twin is missing, so the disk is added as its base
			// and pointed at the delta (with the backing chain) once vcsim has it.
			base := chain[len(chain)-1]
			disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo).FileName = dsPath(st, base)
			deltas = append(deltas, [2]string{base, dl})
		}
		add = append(add, disk)
	}
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("ethernet%d", i)
		if strings.ToUpper(vmx[p+".present"]) != "TRUE" {
			continue
		}
		kind := vmx[p+".virtualdev"]
		if kind == "" {
			kind = "e1000"
		}
		net := vmx[p+".networkname"]
		if net == "" {
			net = "VM Network"
		}
		if !vcsimNetwork(net) {
			// vcsim panics on a NIC whose network it has no object for (e.g. "Management Network", a VMkernel-only
			// portgroup here); a real host would register the VM with the NIC disconnected. Say so plainly.
			return fmt.Errorf("Network '%s' (ethernet%d.networkName) is not a VM portgroup of this test bed host", net, i)
		}
		nic, err := object.EthernetCardTypes().CreateEthernetCard(kind, &types.VirtualEthernetCardNetworkBackingInfo{
			VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: net}})
		if err != nil {
			continue
		}
		e := nic.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		e.Key = int32(-400 - i)
		if mac := vmx[p+".address"]; mac != "" {
			e.AddressType, e.MacAddress = "manual", mac
		} else if mac := vmx[p+".generatedaddress"]; mac != "" {
			e.AddressType, e.MacAddress = "generated", mac
		}
		add = append(add, nic)
	}
	for _, d := range add {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: d})
	}
	_ = ds
	tk, err := vm.Reconfigure(ctx, spec)
	if err != nil {
		return err
	}
	if err := tk.Wait(ctx); err != nil {
		return err
	}
	if svm, ok := simulator.Map.Get(vm.Reference()).(*simulator.VirtualMachine); ok && len(deltas) > 0 {
		disks, _, _ := disksOf(st, svm)
		for _, bd := range deltas {
			for _, d := range disks {
				if d.Leaf == bd[0] {
					setLeaf(st, svm, d.Key, bd[1], backingChain(st, chainFiles(st, bd[1])[1:], d.Backing))
				}
			}
		}
		refreshLocks(st)
	}
	// A reconfigure spec cannot say "no annotation" (an empty string means "unchanged"), but a .vmx without notes
	// means none: clear them in vcsim directly, as hostd does when it reloads such a file.
	if vmx["annotation"] == "" {
		if svm, ok := simulator.Map.Get(vm.Reference()).(*simulator.VirtualMachine); ok {
			simulator.Map.WithLock(svm, func() {
				svm.Config.Annotation = ""
				svm.Summary.Config.Annotation = ""
			})
		}
	}
	return nil
}
