package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// The VMODL dump format vim-cmd prints (e.g. `vim-cmd vmsvc/get.config`), produced by reflection over govmomi types.
// Public samples this copies:
//   - https://github.com/josenk/terraform-provider-esxi/issues/101 — a real `vim-cmd vmsvc/get.guest` dump (ESXi 6.x):
//     "Guest information:" + blank line before the object, 3-space indent, `name = value`, no comma after the last
//     item of an object/array, string arrays as `ipAddress = (string) [` one quoted string a line `]`, an unset data
//     object as `toolsUpdateStatus = (vim.vm.GuestInfo.ToolsUpdateStatus) null`, an unset array/primitive as `<unset>`,
//     empty strings as `""`, enums as quoted strings.
//   - https://github.com/apache/vcl/blob/master/managementnode/lib/VCL/Module/Provisioning/VMware/VIM_SSH.pm — comments
//     quoting real ESXi 4/5 output: "Listsummary:" before `(vim.vm.Summary) {`, dateTimes as
//     `bootTime = "2010-06-08T14:26:48.658743Z"`, refs `'vim.HostSystem:ha-host'`, `(vim.vm.QuestionInfo) null`,
//     `(ManagedObjectReference) []` for an empty array, and faults whose msg is printed WITHOUT escaping inner quotes:
//     `msg = "Unable to find a VM corresponding to "/vmfs/volumes/…vmx""`. (ESXi 4/5 also printed `dynamicType = <unset>`
//     and a comma after the last item; 6.x+ does not, see the get.guest dump above.)
//   - "Configuration:" before `(vim.vm.ConfigInfo) {` for get.config: seen only in a public ESXi 5.0 cheat sheet whose
//     URL we could not pin down; modelled on the same "<Title>:" + blank line pattern as get.guest/get.summary.
// vim-cmd does not escape anything inside strings: quotes, backslashes and newlines are printed as they are.

var vmodlNames = map[string]string{
	"VirtualMachineConfigInfo": "vim.vm.ConfigInfo", "VirtualMachineSummary": "vim.vm.Summary", "GuestInfo": "vim.vm.GuestInfo",
	"VirtualMachineSnapshotInfo": "vim.vm.SnapshotInfo", "VirtualMachineSnapshotTree": "vim.vm.SnapshotTree",
	"HostListSummary": "vim.host.Summary", "VirtualHardware": "vim.vm.VirtualHardware", "OptionValue": "vim.option.OptionValue",
	"Description": "vim.Description", "ToolsConfigInfo": "vim.vm.ToolsConfigInfo", "ResourceAllocationInfo": "vim.ResourceAllocationInfo",
	"SharesInfo": "vim.SharesInfo", "VirtualMachineConfigSummary": "vim.vm.Summary.ConfigSummary",
	"VirtualMachineGuestSummary": "vim.vm.Summary.GuestSummary", "VirtualMachineStorageSummary": "vim.vm.Summary.StorageSummary",
	"VirtualMachineQuickStats": "vim.vm.Summary.QuickStats", "GuestNicInfo": "vim.vm.GuestInfo.NicInfo",
	"GuestDiskInfo": "vim.vm.GuestInfo.DiskInfo", "GuestStackInfo": "vim.vm.GuestInfo.StackInfo",
	"GuestScreenInfo": "vim.vm.GuestInfo.ScreenInfo", "HostHardwareSummary": "vim.host.Summary.HardwareSummary",
	"HostListSummaryQuickStats": "vim.host.Summary.QuickStats", "HostConfigSummary": "vim.host.Summary.ConfigSummary",
	"HostRuntimeInfo": "vim.host.RuntimeInfo", "AboutInfo": "vim.AboutInfo", "LatencySensitivity": "vim.LatencySensitivity",
	"VirtualDeviceConnectInfo": "vim.vm.device.VirtualDevice.ConnectInfo", "VirtualDevicePciBusSlotInfo": "vim.vm.device.VirtualDevice.PciBusSlotInfo",
	"ManagedByInfo": "vim.ext.ManagedByInfo", "KeyValue": "vim.KeyValue", "LocalizableMessage": "vmodl.LocalizableMessage",
	"MethodFault": "vmodl.MethodFault", "VirtualMachineFileLayout": "vim.vm.FileLayout", "VirtualMachineFileInfo": "vim.vm.FileInfo",
	// names as printed in the get.guest dump of https://github.com/josenk/terraform-provider-esxi/issues/101
	"NetDnsConfigInfo": "vim.net.DnsConfigInfo", "NetIpConfigInfo": "vim.net.IpConfigInfo",
	"NetIpConfigInfoIpAddress": "vim.net.IpConfigInfo.IpAddress", "GuestInfoToolsUpdateStatus": "vim.vm.GuestInfo.ToolsUpdateStatus",
	"NetBIOSConfigInfo": "vim.net.NetBIOSConfigInfo", "NetIpStackInfo": "vim.net.IpStackInfo", "NetDhcpConfigInfo": "vim.net.DhcpConfigInfo",
	"GuestStackInfo2": "vim.vm.GuestInfo.StackInfo", "VirtualMachineRuntimeInfoDasProtectionState": "vim.vm.RuntimeInfo.DasProtectionState",
	"VirtualMachineRuntimeInfo": "vim.vm.RuntimeInfo", "VirtualMachineQuestionInfo": "vim.vm.QuestionInfo",
}

var devicePrefixes = []string{"VirtualEthernetCard", "VirtualDisk", "VirtualCdrom", "VirtualFloppy", "VirtualSerialPort",
	"VirtualParallelPort", "VirtualSCSIPassthrough", "VirtualUSB", "VirtualSoundCard", "VirtualPCIPassthrough", "VirtualDevice",
	"VirtualSriovEthernetCard", "VirtualController"}

var baseDevice = reflect.TypeOf((*types.BaseVirtualDevice)(nil)).Elem()

// vmodlName maps a Go type to the VMODL name vim-cmd prints.
func vmodlName(t reflect.Type) string {
	for t.Kind() == reflect.Ptr || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	n := t.Name()
	if t.Kind() == reflect.Interface && strings.HasPrefix(n, "Base") {
		n = strings.TrimPrefix(n, "Base")
	}
	if v, ok := vmodlNames[n]; ok {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int32, reflect.Int:
		return "int"
	case reflect.Int64:
		return "long"
	case reflect.Int16:
		return "short"
	case reflect.Int8, reflect.Uint8:
		return "byte"
	case reflect.Float32:
		return "float"
	case reflect.Float64:
		return "double"
	case reflect.Bool:
		return "boolean"
	}
	if t.Kind() == reflect.Struct && reflect.PtrTo(t).Implements(baseDevice) || n == "VirtualDevice" {
		return "vim.vm.device." + n
	}
	if strings.HasSuffix(n, "Info") || strings.HasSuffix(n, "Option") {
		for _, p := range devicePrefixes {
			if strings.HasPrefix(n, p) && len(n) > len(p) {
				return "vim.vm.device." + p + "." + strings.TrimPrefix(n, p)
			}
		}
	}
	switch {
	case strings.HasPrefix(n, "Net") && len(n) > 3 && n[3] >= 'A' && n[3] <= 'Z':
		return "vim.net." + strings.TrimPrefix(n, "Net")
	case strings.HasPrefix(n, "VirtualMachine"):
		return "vim.vm." + strings.TrimPrefix(n, "VirtualMachine")
	case strings.HasPrefix(n, "Host"):
		return "vim.host." + strings.TrimPrefix(n, "Host")
	case strings.HasPrefix(n, "Virtual"):
		return "vim.vm.device." + n
	}
	return "vim." + n
}

// vmodlQuote quotes a string the way vim-cmd does: between double quotes, nothing escaped (see the fault msg samples above).
func vmodlQuote(s string) string {
	return "\"" + s + "\""
}

var timeType = reflect.TypeOf(time.Time{})
var morefType = reflect.TypeOf(types.ManagedObjectReference{})

// vmodlDump renders v (a govmomi data object) at indentation level lvl.
func vmodlDump(v interface{}) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value, lvl int) {
	for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
		if v.IsNil() {
			// An unset data object prints as "(vim.Type) null", an unset primitive as <unset>.
			if isDataObject(v.Type()) {
				fmt.Fprintf(b, "(%s) null", vmodlName(v.Type()))
			} else {
				b.WriteString("<unset>")
			}
			return
		}
		v = v.Elem()
	}
	ind := strings.Repeat("   ", lvl+1)
	switch v.Kind() {
	case reflect.String:
		b.WriteString(vmodlQuote(v.String()))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Slice:
		name := vmodlName(v.Type().Elem())
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b.WriteString(vmodlQuote(string(v.Bytes())))
			return
		}
		if v.IsNil() { // an unset array (nothing on the wire)
			b.WriteString("<unset>")
			return
		}
		if v.Len() == 0 {
			fmt.Fprintf(b, "(%s) []", name)
			return
		}
		fmt.Fprintf(b, "(%s) [\n", name)
		for i := 0; i < v.Len(); i++ {
			b.WriteString(ind)
			dumpValue(b, v.Index(i), lvl+1)
			if i < v.Len()-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat("   ", lvl) + "]")
	case reflect.Struct:
		switch v.Type() {
		case morefType:
			r := v.Interface().(types.ManagedObjectReference)
			if r.Type == "VirtualMachine" {
				r.Value = vmid(r.Value) // hostd's plain vmid (vmids.go)
			}
			fmt.Fprintf(b, "'vim.%s:%s'", r.Type, r.Value)
			return
		case timeType:
			b.WriteString(vmodlQuote(v.Interface().(time.Time).UTC().Format("2006-01-02T15:04:05.999999Z")))
			return
		}
		var fields []string
		collectFields(v, lvl, &fields)
		fmt.Fprintf(b, "(%s) {\n", vmodlName(v.Type()))
		for i, f := range fields {
			b.WriteString(ind + f)
			if i < len(fields)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat("   ", lvl) + "}")
	default:
		b.WriteString("<unset>")
	}
}

// isDataObject: a pointer to a struct (not a dateTime or a moref) or an interface holding data objects.
func isDataObject(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return true
	}
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != timeType && t != morefType
}

func collectFields(v reflect.Value, lvl int, out *[]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		fv := v.Field(i)
		if sf.Anonymous && fv.Kind() == reflect.Struct {
			collectFields(fv, lvl, out)
			continue
		}
		if sf.PkgPath != "" {
			continue
		}
		tag := sf.Tag.Get("xml")
		name := strings.Split(tag, ",")[0]
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name[:1]) + sf.Name[1:]
		}
		var b strings.Builder
		k := fv.Kind()
		if strings.Contains(tag, "omitempty") && fv.IsZero() && k != reflect.Slice && k != reflect.Bool && k != reflect.Ptr && k != reflect.Interface {
			b.WriteString("<unset>")
		} else {
			dumpValue(&b, fv, lvl+1)
		}
		*out = append(*out, name+" = "+b.String())
	}
}

// faultDump prints a vim fault the way vim-cmd does (msg not escaped, see the VIM_SSH.pm samples cited above):
//
//	(vim.fault.NotFound) {
//	   faultCause = (vmodl.MethodFault) null,
//	   faultMessage = <unset>,
//	   msg = "Unable to find a VM corresponding to "16""
//	}
func faultDump(typ, msg string) string {
	return fmt.Sprintf("(vim.fault.%s) {\n   faultCause = (vmodl.MethodFault) null,\n   faultMessage = <unset>,\n   msg = %s\n}", typ, vmodlQuote(msg))
}
