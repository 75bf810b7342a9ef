package main

import (
	"fmt"
	"io/ioutil"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

var dsPathRe = regexp.MustCompile(`^\[([^\]]+)\]\s*(.*)$`)

// localPath maps "[ds] dir/x.vmx", "/vmfs/volumes/<ds|uuid>/dir/x.vmx" to the local file; other paths are kept.
func localPath(st *State, p string) (string, *DSState) {
	if m := dsPathRe.FindStringSubmatch(p); m != nil {
		for i := range st.Datastores {
			if st.Datastores[i].Name == m[1] {
				return filepath.Join(st.Datastores[i].LocalDir, m[2]), &st.Datastores[i]
			}
		}
		return p, nil
	}
	if strings.HasPrefix(p, "/vmfs/volumes/") {
		rest := strings.TrimPrefix(p, "/vmfs/volumes/")
		parts := strings.SplitN(rest, "/", 2)
		for i := range st.Datastores {
			d := &st.Datastores[i]
			if d.Name == parts[0] || d.UUID == parts[0] {
				if len(parts) == 1 {
					return d.LocalDir, d
				}
				return filepath.Join(d.LocalDir, parts[1]), d
			}
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		for i := range st.Datastores {
			if strings.HasPrefix(abs, st.Datastores[i].LocalDir+"/") {
				return abs, &st.Datastores[i]
			}
		}
		return abs, nil
	}
	return p, nil
}

// dsPath maps a local file back to "[ds] rel".
func dsPath(st *State, local string) string {
	for _, d := range st.Datastores {
		if strings.HasPrefix(local, d.LocalDir+"/") {
			return "[" + d.Name + "] " + strings.TrimPrefix(local, d.LocalDir+"/")
		}
	}
	return local
}

// vmxGuestOS maps a guestId to the .vmx guestOS value (ubuntu64Guest -> ubuntu-64, debian10_64Guest -> debian10-64).
func vmxGuestOS(id string) string {
	s := strings.ToLower(strings.TrimSuffix(id, "Guest"))
	if strings.HasSuffix(s, "_64") {
		s = strings.TrimSuffix(s, "_64") + "-64"
	} else if strings.HasSuffix(s, "64") && !strings.HasSuffix(s, "-64") {
		s = strings.TrimSuffix(s, "64") + "-64"
	}
	return s
}

// guestIDFromVmx is the inverse of vmxGuestOS, matched against vcsim's list of guest ids (case is lost in the .vmx).
func guestIDFromVmx(g string) string {
	norm := func(s string) string {
		return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSuffix(s, "Guest")))
	}
	want := norm(g)
	for _, id := range simulator.GuestID {
		if norm(string(id)) == want {
			return string(id)
		}
	}
	return strings.ReplaceAll(g, "-", "") + "Guest"
}

func vmxEsc(s string) string {
	r := strings.NewReplacer("|", "|7C", "\n", "|0A", "\r", "|0D", "\"", "|22", "\t", "|09")
	return r.Replace(s)
}

func vmxUnesc(s string) string {
	re := regexp.MustCompile(`\|([0-9A-Fa-f]{2})`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		var b byte
		fmt.Sscanf(m[1:], "%02x", &b)
		return string([]byte{b})
	})
}

func uuidBios(u string) string {
	h := strings.ReplaceAll(u, "-", "")
	if len(h) != 32 {
		return ""
	}
	var p []string
	for i := 0; i < 32; i += 2 {
		p = append(p, h[i:i+2])
	}
	return strings.Join(p[:8], " ") + "-" + strings.Join(p[8:], " ")
}

// writeVMFiles writes the real .vmx of a VM from vcsim's config (and, with disks, real disk files).
func writeVMFiles(st *State, cfg *types.VirtualMachineConfigInfo, disks bool) error {
	vmxLocal, _ := localPath(st, cfg.Files.VmPathName)
	dir := filepath.Dir(vmxLocal)
	kv := [][2]string{{".encoding", "UTF-8"}, {"config.version", "8"},
		{"virtualHW.version", strings.TrimPrefix(cfg.Version, "vmx-")}, {"displayName", cfg.Name},
		{"guestOS", vmxGuestOS(cfg.GuestId)}, {"numvcpus", fmt.Sprint(cfg.Hardware.NumCPU)},
		{"memSize", fmt.Sprint(cfg.Hardware.MemoryMB)}, {"nvram", cfg.Name + ".nvram"}}
	if cfg.Firmware != "" {
		kv = append(kv, [2]string{"firmware", cfg.Firmware})
	}
	if ub := uuidBios(cfg.Uuid); ub != "" {
		kv = append(kv, [2]string{"uuid.bios", ub})
	}
	if cfg.Annotation != "" {
		kv = append(kv, [2]string{"annotation", cfg.Annotation})
	}
	ctrl := map[int32]string{}
	for _, d := range cfg.Hardware.Device {
		switch c := d.(type) {
		case *types.ParaVirtualSCSIController:
			ctrl[c.Key] = fmt.Sprintf("scsi%d", c.BusNumber)
			kv = append(kv, [2]string{ctrl[c.Key] + ".present", "TRUE"}, [2]string{ctrl[c.Key] + ".virtualDev", "pvscsi"})
		case *types.VirtualLsiLogicController:
			ctrl[c.Key] = fmt.Sprintf("scsi%d", c.BusNumber)
			kv = append(kv, [2]string{ctrl[c.Key] + ".present", "TRUE"}, [2]string{ctrl[c.Key] + ".virtualDev", "lsilogic"})
		case *types.VirtualLsiLogicSASController:
			ctrl[c.Key] = fmt.Sprintf("scsi%d", c.BusNumber)
			kv = append(kv, [2]string{ctrl[c.Key] + ".present", "TRUE"}, [2]string{ctrl[c.Key] + ".virtualDev", "lsisas1068"})
		case *types.VirtualNVMEController:
			ctrl[c.Key] = fmt.Sprintf("nvme%d", c.BusNumber)
			kv = append(kv, [2]string{ctrl[c.Key] + ".present", "TRUE"})
		case *types.VirtualSATAController, *types.VirtualAHCIController:
			b := d.(types.BaseVirtualController).GetVirtualController()
			ctrl[b.Key] = fmt.Sprintf("sata%d", b.BusNumber)
			kv = append(kv, [2]string{ctrl[b.Key] + ".present", "TRUE"})
		}
	}
	nic := 0
	for _, d := range cfg.Hardware.Device {
		switch dev := d.(type) {
		case *types.VirtualDisk:
			b, ok := dev.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok || dev.UnitNumber == nil {
				continue
			}
			pre := fmt.Sprintf("%s:%d", ctrl[dev.ControllerKey], *dev.UnitNumber)
			local, _ := localPath(st, b.FileName)
			rel := b.FileName
			if filepath.Dir(local) == dir {
				rel = filepath.Base(local)
			} else if strings.HasPrefix(local, "/") {
				rel = vmfsPathOf(st, local)
			}
			kv = append(kv, [2]string{pre + ".present", "TRUE"}, [2]string{pre + ".fileName", rel}, [2]string{pre + ".deviceType", "scsi-hardDisk"})
			if disks {
				if err := createDisk(local, dev.CapacityInKB*1024, "thin", true); err != nil {
					return err
				}
			}
		case types.BaseVirtualEthernetCard:
			e := dev.GetVirtualEthernetCard()
			pre := fmt.Sprintf("ethernet%d", nic)
			nic++
			kv = append(kv, [2]string{pre + ".present", "TRUE"}, [2]string{pre + ".virtualDev", nicVirtualDev(d)})
			if nb, ok := e.Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
				kv = append(kv, [2]string{pre + ".networkName", nb.DeviceName})
			}
			if e.AddressType == "manual" {
				kv = append(kv, [2]string{pre + ".addressType", "static"}, [2]string{pre + ".address", e.MacAddress})
			} else {
				kv = append(kv, [2]string{pre + ".addressType", "generated"}, [2]string{pre + ".generatedAddress", e.MacAddress})
			}
		}
	}
	var extra [][2]string
	for _, o := range cfg.ExtraConfig {
		ov := o.GetOptionValue()
		if strings.HasPrefix(ov.Key, "SET.") {
			continue
		}
		extra = append(extra, [2]string{ov.Key, fmt.Sprint(ov.Value)})
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i][0] < extra[j][0] })
	kv = append(kv, extra...)
	var b strings.Builder
	have := map[string]bool{}
	for _, p := range kv {
		fmt.Fprintf(&b, "%s = \"%s\"\n", p[0], vmxEsc(p[1]))
		have[strings.ToLower(p[0])] = true
	}
	// Rewriting an existing .vmx (the API changed the VM) keeps the lines this model does not own, as hostd does
	// (e.g. tools.syncTime, pciBridge0.present, a hand-written comment).
	if old, err := ioutil.ReadFile(vmxLocal); err == nil {
		for _, l := range strings.Split(string(old), "\n") {
			k := strings.ToLower(strings.TrimSpace(strings.SplitN(l, "=", 2)[0]))
			if strings.TrimSpace(l) == "" || have[k] || vmxOwned(k) {
				continue
			}
			b.WriteString(l + "\n")
		}
	}
	if err := os.MkdirAll(dir, 0755); err != nil {
		return err
	}
	for _, f := range []string{cfg.Name + ".nvram", "vmware.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); os.IsNotExist(err) {
			_ = ioutil.WriteFile(filepath.Join(dir, f), nil, 0644)
		}
	}
	return ioutil.WriteFile(vmxLocal, []byte(b.String()), 0644)
}

var ownedVmxRe = regexp.MustCompile(`^(scsi|sata|nvme|ide|ethernet)\d|^(guestinfo|disk|svga)\.|^(\.encoding|config\.version|virtualhw\.version|displayname|guestos|numvcpus|memsize|nvram|firmware|uuid\.bios|annotation)$`)

// vmxOwned: keys writeVMFiles derives from the config (absent from it = removed).
func vmxOwned(k string) bool { return ownedVmxRe.MatchString(k) }

func vmfsPathOf(st *State, local string) string {
	for _, d := range st.Datastores {
		if strings.HasPrefix(local, d.LocalDir+"/") {
			return path.Join("/vmfs/volumes", d.UUID, strings.TrimPrefix(local, d.LocalDir+"/"))
		}
	}
	return local
}

func nicVirtualDev(d types.BaseVirtualDevice) string {
	switch d.(type) {
	case *types.VirtualVmxnet3:
		return "vmxnet3"
	case *types.VirtualE1000e:
		return "e1000e"
	case *types.VirtualE1000:
		return "e1000"
	case *types.VirtualVmxnet2:
		return "vmxnet2"
	case *types.VirtualPCNet32:
		return "vlance"
	}
	return "vmxnet3"
}

// vmxKeyCase maps each lowercased key of a .vmx to its spelling in the file (disk.enableuuid -> disk.EnableUUID).
func vmxKeyCase(b []byte) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if p := strings.SplitN(l, "=", 2); len(p) == 2 {
			k := strings.TrimSpace(p[0])
			m[strings.ToLower(k)] = k
		}
	}
	return m
}

// parseVmx reads key = "value" lines (keys lowercased, values unescaped).
func parseVmx(b []byte) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p := strings.SplitN(l, "=", 2)
		if len(p) != 2 {
			continue
		}
		v := strings.TrimSpace(p[1])
		v = strings.TrimSuffix(strings.TrimPrefix(v, "\""), "\"")
		m[strings.ToLower(strings.TrimSpace(p[0]))] = vmxUnesc(v)
	}
	return m
}
