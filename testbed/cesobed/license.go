package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The free license a standalone host shows once "restricted=on" (vSphere Hypervisor, the free edition).
var freeLicense = types.LicenseManagerLicenseInfo{
	LicenseKey: "00000-00000-00000-00000-00000",
	EditionKey: "esx.vsphereHypervisor.cpuPackage",
	Name:       "VMware vSphere 7 Hypervisor",
	CostUnit:   "cpuPackage",
	Properties: []types.KeyAnyValue{{Key: "ProductName", Value: "VMware ESX Server"}, {Key: "ProductVersion", Value: "7.0"}},
}

var licenseMu sync.Mutex

// syncLicense keeps vcsim's LicenseManager in step with the restricted fault, so the API and
// `vim-cmd vimsvc/license --show` report the same license (one truth).
func syncLicense(restricted bool) {
	licenseMu.Lock()
	defer licenseMu.Unlock()
	ref := types.ManagedObjectReference{Type: "LicenseManager", Value: "ha-license-manager"}
	lm, ok := simulator.Map.Get(ref).(*simulator.LicenseManager)
	if !ok {
		return
	}
	want := simulator.EvalLicense
	if restricted {
		want = freeLicense
	}
	if len(lm.Licenses) != 1 || lm.Licenses[0].Name != want.Name {
		simulator.Map.WithLock(lm, func() { lm.Licenses = []types.LicenseManagerLicenseInfo{want} })
	}
}

// license prints `vim-cmd vimsvc/license --show` from the host's LicenseManager.
// Format: "[200] Sending request for installed licenses...[200] Complete, result is:" then "serial:", "vmodl key:",
// "name:", "total:", "used:", "unit:", "Properties:" and one "[key] = value" line per property. The "[key] = value"
// lines are confirmed by https://github.com/vmware/pyvmomi-community-samples/issues/351 (a script greps
// `vim-cmd vimsvc/license --show` for "[expirationDate] = "); no full public sample was found, the rest is unverified.
func (t *Tool) license(a []string) error {
	syncLicense(t.Faults.Restricted) // the SOAP front does this per request; in-process tool calls bypass it
	return t.do(func(ctx context.Context, c *vim25.Client) error {
		var lm mo.LicenseManager
		if err := t.pc().RetrieveOne(ctx, *c.ServiceContent.LicenseManager, []string{"licenses"}, &lm); err != nil {
			return err
		}
		fmt.Fprint(t.out, "[200] Sending request for installed licenses...[200] Complete, result is:\n")
		for _, l := range lm.Licenses {
			fmt.Fprintf(t.out, "   serial: %s\n   vmodl key: %s\n   name: %s\n   total: %d\n   used:  %d\n   unit: %s\n   Properties:\n",
				l.LicenseKey, l.EditionKey, l.Name, l.Total, l.Used, l.CostUnit)
			for _, p := range l.Properties {
				v := p.Value
				if kv, ok := v.(types.KeyValue); ok { // feature properties: key and label
					v = fmt.Sprintf("%s (%s)", kv.Key, kv.Value)
				}
				fmt.Fprintf(t.out, "     [%s] = %v\n", p.Key, v)
			}
		}
		return nil
	})
}
