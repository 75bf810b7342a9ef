package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/types"
)

// Persona is the ESXi release the test bed presents as, the same on every transport: SOAP about/config.product,
// `esxcli system version get`, `vim-cmd hostsvc/hostsummary` (see SPEC.md "Personas").
//
// Figures are the published ones: ESXi 7.0 Update 3n = build 21930508 (2023-07-06), full version string
// 7.0.3-0.95.21930508; ESXi 8.0 Update 3 (GA) = build 24022510 (2024-06-25), 8.0.3-0.0.24022510. The version string
// layout <major>.<minor>.<update>-<quarter>.<patch>.<build> is Broadcom's (KB 395110,
// https://knowledge.broadcom.com/external/article/395110), and esxcli's Update/Patch lines are its <update> and
// <patch> fields: real hosts print "Version: 7.0.3 / Build: Releasebuild-19193900 / Update: 3 / Patch: 20" for
// 7.0.3-0.20.19193900 and "Version: 8.0.3 / Build: Releasebuild-24677879 / Update: 3 / Patch: 70" (public host
// notes found through the code index, no stable address).
type Persona struct {
	Key        string // 7.0u3 | 8.0u3
	Version    string // about.version
	Build      string // about.build
	APIVersion string // about.apiVersion
	Update     int
	Patch      int
	License    string // about.licenseProductVersion
	// System volumes ESXi 7+ lists in `esxcli storage filesystem list` besides the datastores (OSDATA, bootbanks).
	// Upgraded 7.0 hosts often keep a vfat row with an empty Volume Name.
	UnnamedVfat bool
}

var personas = map[string]Persona{
	"7.0u3": {Key: "7.0u3", Version: "7.0.3", Build: "21930508", APIVersion: "7.0.3.0", Update: 3, Patch: 95, License: "7.0", UnnamedVfat: true},
	"8.0u3": {Key: "8.0u3", Version: "8.0.3", Build: "24022510", APIVersion: "8.0.3.0", Update: 3, Patch: 0, License: "8.0"},
}

const defaultPersona = "8.0u3"

func personaNames() string {
	var n []string
	for k := range personas {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, "|")
}

func lookupPersona(key string) (Persona, bool) {
	if key == "" {
		key = defaultPersona
	}
	p, ok := personas[strings.ToLower(key)]
	return p, ok
}

// FullName as hostd prints it: "VMware ESXi 8.0.3 build-24022510".
func (p Persona) FullName() string { return fmt.Sprintf("VMware ESXi %s build-%s", p.Version, p.Build) }

// applyPersona sets vcsim's ESX templates before the model is created, so that ServiceContent.about, the host's
// config.product and summary.config.product (the same AboutInfo in vcsim's template) all say the persona.
func applyPersona(p Persona) {
	for _, a := range []*types.AboutInfo{&esx.ServiceContent.About, &esx.HostConfigInfo.Product} {
		a.Version, a.Build, a.ApiVersion, a.FullName = p.Version, p.Build, p.APIVersion, p.FullName()
		a.LicenseProductVersion = p.License
	}
}

// systemVolumes: what a freshly installed host of the persona shows next to its datastores. Sizes as on a host
// installed on a 128 GB boot device: OSDATA (VMFS-L, shown as type VMFSOS) takes what is left up to 128 GB; each
// bootbank is a 4 GB FAT16 partition (ESXi 7.0/8.0 installation guides, "ESXi System Storage": boot-bank 0/1 and
// ESX-OSData, https://docs.vmware.com/en/VMware-vSphere/8.0/vsphere-esxi-installation/GUID-474D003B-C6FB-465D-BC1B-5FD30F8E2209.html).
func systemVolumes(p Persona) []SysVolume {
	osdata := vmfsUUID()
	v := []SysVolume{
		{Name: "OSDATA-" + osdata, UUID: osdata, Type: "VMFSOS", Size: 128580583424, Free: 125236477952},
		{Name: "BOOTBANK1", UUID: vmfsUUID(), Type: "vfat", Size: 4293591040, Free: 4022337536},
		{Name: "BOOTBANK2", UUID: vmfsUUID(), Type: "vfat", Size: 4293591040, Free: 4293525504},
	}
	if p.UnnamedVfat {
		v = append(v, SysVolume{UUID: vmfsUUID(), Type: "vfat", Size: 299712512, Free: 99147776})
	}
	return v
}
