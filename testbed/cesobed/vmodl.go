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
// Format as shown in public outputs, e.g. https://kb.vmware.com/s/article/1006160 and
// https://github.com/vmware/open-vm-tools/issues/ (vim-cmd vmsvc/get.guest dumps) and
// https://communities.vmware.com/t5/ESXi-Discussions/vim-cmd-vmsvc-get-config/td-p/ (get.config dumps):
// 3-space indent, `name = value`, `(vim.Type) {`, arrays `(vim.Type) [`, refs 'vim.Type:id', <unset>,
// a comma after every item but the last of its object/array.

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
	case reflect.Int32, reflect.Int64, reflect.Int, reflect.Int16, reflect.Int8:
		return strings.Replace(t.Kind().String(), "int32", "int", 1)
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
	case strings.HasPrefix(n, "VirtualMachine"):
		return "vim.vm." + strings.TrimPrefix(n, "VirtualMachine")
	case strings.HasPrefix(n, "Host"):
		return "vim.host." + strings.TrimPrefix(n, "Host")
	case strings.HasPrefix(n, "Virtual"):
		return "vim.vm.device." + n
	}
	return "vim." + n
}

func vmodlQuote(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "\"", "\\\"", "\n", "\\n", "\t", "\\t", "\r", "\\r")
	return "\"" + r.Replace(s) + "\""
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
			b.WriteString("<unset>")
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
		if strings.Contains(tag, "omitempty") && fv.IsZero() && fv.Kind() != reflect.Slice && fv.Kind() != reflect.Bool {
			b.WriteString("<unset>")
		} else {
			dumpValue(&b, fv, lvl+1)
		}
		*out = append(*out, name+" = "+b.String())
	}
}

// faultDump prints a vim fault the way vim-cmd does: (vim.fault.NotFound) { msg = "..." }.
func faultDump(typ, msg string) string {
	return fmt.Sprintf("(vim.fault.%s) {\n   faultCause = (vmodl.MethodFault) null,\n   faultMessage = (vmodl.LocalizableMessage) [],\n   msg = %s\n}", typ, vmodlQuote(msg))
}
