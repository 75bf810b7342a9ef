package main

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// setupInventory creates the datastores (VMFS-looking, moref = VMFS uuid) and the initial VMs with real files.
func setupInventory(ctx context.Context, st *State, nvm int, autostart bool) error {
	t := &Tool{St: st}
	return t.do(func(ctx context.Context, c *vim25.Client) error {
		host := object.NewHostSystem(c, esx.HostSystem.Reference())
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return err
		}
		for i := range st.Datastores {
			d := &st.Datastores[i]
			ds, err := dss.CreateLocalDatastore(ctx, d.Name, d.LocalDir)
			if err != nil {
				return fmt.Errorf("datastore %s: %v", d.Name, err)
			}
			d.MoRef = vmfsLook(ds.Reference(), d)
		}
		// A second VM portgroup (tagged VLAN 20) so that NIC moves between portgroups can be tested; on a real host
		// "Management Network" is a VMkernel portgroup that VMs cannot use.
		ns, err := host.ConfigManager().NetworkSystem(ctx)
		if err != nil {
			return err
		}
		if err := ns.AddPortGroup(ctx, types.HostPortGroupSpec{Name: "Lab Network", VlanId: 20, VswitchName: "vSwitch0",
			Policy: types.HostNetworkPolicy{}}); err != nil {
			return fmt.Errorf("portgroup Lab Network: %v", err)
		}
		// vcsim records the new portgroup on the HostNetworkSystem only; the host's config.network shows it too on
		// a real host (and that is what the API and esxcli read).
		if hs, ok := simulator.Map.Get(esx.HostSystem.Reference()).(*simulator.HostSystem); ok {
			simulator.Map.WithLock(hs, func() {
				hs.Config.Network.Portgroup = append(hs.Config.Network.Portgroup, types.HostPortGroup{
					Key: "key-vim.host.PortGroup-Lab Network", Spec: types.HostPortGroupSpec{Name: "Lab Network", VlanId: 20, VswitchName: "vSwitch0"}})
			})
		}
		folders, err := object.NewDatacenter(c, esx.Datacenter.Reference()).Folders(ctx)
		if err != nil {
			return err
		}
		pool, err := host.ResourcePool(ctx)
		if err != nil {
			return err
		}
		for i := 1; i <= nvm; i++ {
			if err := createInitialVM(ctx, c, st, folders.VmFolder, pool, host, i, autostart); err != nil {
				return err
			}
		}
		return nil
	})
}

// vmfsLook renames the datastore moref to its VMFS uuid (as on a standalone host) and makes it type VMFS.
func vmfsLook(old types.ManagedObjectReference, d *DSState) string {
	ds := simulator.Map.Get(old).(*simulator.Datastore)
	nr := types.ManagedObjectReference{Type: "Datastore", Value: d.UUID}
	fix := func(refs []types.ManagedObjectReference) {
		for i := range refs {
			if refs[i] == old {
				refs[i] = nr
			}
		}
	}
	simulator.Map.Remove(old)
	ds.Self = nr
	ds.Summary.Datastore = &nr
	ds.Summary.Type = "VMFS"
	info := ds.Info.GetDatastoreInfo()
	ds.Info = &types.VmfsDatastoreInfo{DatastoreInfo: *info, MaxPhysicalRDMFileSize: 68169720922112, MaxVirtualRDMFileSize: 68169720922112,
		Vmfs: &types.HostVmfsVolume{HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: d.Name, Capacity: ds.Summary.Capacity},
			BlockSizeMb: 1, BlockSize: 1024, MaxBlocks: 63963136, MajorVersion: 6, Version: "6.82", Uuid: d.UUID, Local: types.NewBool(true),
			Ssd: types.NewBool(true)}}
	simulator.Map.Put(ds)
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		fix(h.Datastore)
		if h.ConfigManager.DatastoreSystem != nil {
			if s, ok := simulator.Map.Get(*h.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem); ok {
				fix(s.Datastore)
			}
		}
	}
	for _, e := range simulator.Map.All("ComputeResource") {
		if cr, ok := e.(*mo.ComputeResource); ok {
			fix(cr.Datastore)
		}
	}
	for _, e := range simulator.Map.All("Datacenter") {
		fix(e.(*simulator.Datacenter).Datastore)
	}
	for _, e := range simulator.Map.All("Folder") {
		fix(e.(*simulator.Folder).ChildEntity)
	}
	if b, ok := simulator.Map.Get(ds.Browser).(*simulator.HostDatastoreBrowser); ok {
		fix(b.Datastore)
	}
	return nr.Value
}

func createInitialVM(ctx context.Context, c *vim25.Client, st *State, folder *object.Folder, pool *object.ResourcePool,
	host *object.HostSystem, i int, autostart bool) error {
	name := fmt.Sprintf("vm%02d", i)
	ds := st.Datastores[(i-1)%len(st.Datastores)]
	var devices object.VirtualDeviceList
	scsi, _ := devices.CreateSCSIController("pvscsi")
	devices = append(devices, scsi)
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{Type: "Datastore", Value: ds.MoRef},
		fmt.Sprintf("[%s] %s/%s.vmdk", ds.Name, name, name))
	disk.CapacityInKB = 1 << 20 // 1 GiB, sparse on disk
	disk.CapacityInBytes = 1 << 30
	disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo).ThinProvisioned = types.NewBool(true)
	devices = append(devices, disk)
	nic, err := object.EthernetCardTypes().CreateEthernetCard("vmxnet3", esx.EthernetCard.Backing)
	if err != nil {
		return err
	}
	nic.GetVirtualDevice().Key = 4000
	nic.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard().AddressType = string(types.VirtualEthernetCardMacTypeGenerated)
	devices = append(devices, nic)
	spec := types.VirtualMachineConfigSpec{
		Name: name, GuestId: "ubuntu64Guest", NumCPUs: 2, MemoryMB: 1024, Version: "vmx-19",
		Annotation: fmt.Sprintf("cesobed initial VM %d", i), Firmware: "efi",
		Files:       &types.VirtualMachineFileInfo{VmPathName: "[" + ds.Name + "]"},
		ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: "guestinfo.cesobed.index", Value: fmt.Sprint(i)}},
	}
	spec.DeviceChange, _ = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	task, err := folder.CreateVM(ctx, spec, pool, host)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return fmt.Errorf("CreateVM %s: %v", name, err)
	}
	vm := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference))
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, vm.Reference(), []string{"config"}, &mvm); err != nil {
		return err
	}
	if err := writeVMFiles(st, mvm.Config, true); err != nil {
		return fmt.Errorf("files of %s: %v", name, err)
	}
	if autostart {
		if t, err := vm.PowerOn(ctx); err == nil {
			_ = t.Wait(ctx)
		}
	}
	return nil
}
