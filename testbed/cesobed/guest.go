package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Simulated guests (SPEC.md "Simulated guests"). A VM whose first disk's extent is an ext4 filesystem (the images of
// testbed/guest/make-image.sh: the files of Debian's real cloud-init, open-vm-tools and busybox-static packages)
// boots, once per power-on: its filesystem is extracted with debugfs (no loop device, no FUSE), what cloud-init would
// do on it is decided from the image's own files (is cloud-init installed, which datasource_list its config files
// set, whether open-vm-tools' vmware-rpctool is there for the VMware datasource to read guestinfo with) and done
// (hostname, network config, authorized_keys, /run/cloud-init/*.json), then the user-data's runcmd runs in a chroot
// of the tree (private mount, UTS, network and PID namespaces) with /dev/ttyS0 bound to the VM's serial-port file on
// the datastore. A runcmd that calls poweroff powers the VM off. Every boot is a line of STATEDIR/guests.jsonl.
// The guest's changes are not written back into the disk image (the tree is a temporary copy).

const guestRunLimit = 2 * time.Minute

// guestBootLoop runs inside serve: it notices power-ons (SOAP or vim-cmd alike) and boots ext4 guests.
func guestBootLoop(st *State) {
	booted := map[string]bool{}
	for range time.Tick(200 * time.Millisecond) {
		for _, e := range simulator.Map.All("VirtualMachine") {
			vm, ok := e.(*simulator.VirtualMachine)
			if !ok {
				continue
			}
			// the power state first (one short lock), the disks only for a VM that has just come on
			on := false
			simulator.Map.WithLock(vm, func() { on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn })
			id := vm.Self.Value
			if !on {
				delete(booted, id)
				continue
			}
			if booted[id] {
				continue
			}
			booted[id] = true
			disks, vmxLocal, _ := disksOf(st, vm)
			if len(disks) == 0 {
				continue
			}
			ext, kind, _, err := extentOf(disks[0].Leaf)
			if err != nil || isDelta(kind) || !isExt4(ext) {
				continue
			}
			go bootGuest(st, vm, ext, vmxLocal)
		}
	}
}

// isExt4: the ext2/3/4 superblock magic 0xEF53 at byte 1080 (superblock at 1024, s_magic at offset 56).
func isExt4(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 2)
	if _, err := f.ReadAt(b, 1080); err != nil {
		return false
	}
	return binary.LittleEndian.Uint16(b) == 0xEF53
}

// GuestBoot is one line of STATEDIR/guests.jsonl.
type GuestBoot struct {
	T          string   `json:"t"`
	VM         string   `json:"vm"`
	Event      string   `json:"event"` // booted | hang | failed
	CloudInit  bool     `json:"cloudInit"`
	Datasource string   `json:"datasource,omitempty"`
	DsList     []string `json:"datasourceList,omitempty"`
	Serial     string   `json:"serial,omitempty"`
	Runcmds    int      `json:"runcmds"`
	PowerOff   bool     `json:"poweroff"`
	Detail     string   `json:"detail,omitempty"`
}

func logGuest(st *State, g GuestBoot) {
	g.T = time.Now().UTC().Format(time.RFC3339Nano)
	if b, err := json.Marshal(g); err == nil {
		if f, err := os.OpenFile(filepath.Join(st.Dir, "guests.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644); err == nil {
			_, _ = f.Write(append(b, '\n'))
			f.Close()
		}
	}
}

func bootGuest(st *State, vm *simulator.VirtualMachine, ext, vmxLocal string) {
	var name string
	extra := map[string]string{}
	simulator.Map.WithLock(vm, func() {
		name = vm.Config.Name
		for _, o := range vm.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov != nil {
				if s, ok := ov.Value.(string); ok {
					extra[strings.ToLower(ov.Key)] = s
				}
			}
		}
	})
	rec := GuestBoot{VM: name, Event: "booted"}
	if readFaults(st.Dir).GuestHang {
		// a guest that never gets as far as cloud-init (a hung boot): nothing is written, the VM stays on
		rec.Event = "hang"
		logGuest(st, rec)
		return
	}
	tmp, err := ioutil.TempDir(st.Dir, "guest-")
	if err != nil {
		rec.Event, rec.Detail = "failed", err.Error()
		logGuest(st, rec)
		return
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	_ = os.Mkdir(root, 0755)
	if out, err := exec.Command("debugfs", "-R", "rdump / "+root, ext).CombinedOutput(); err != nil {
		rec.Event, rec.Detail = "failed", fmt.Sprintf("debugfs rdump: %v: %s", err, out)
		logGuest(st, rec)
		return
	}
	vmx := map[string]string{}
	if b, err := ioutil.ReadFile(vmxLocal); err == nil {
		vmx = parseVmx(b)
	}
	serial := serialFile(st, vmx, vmxLocal)
	if serial != "" {
		// hostd creates a file-backed serial port's file at power-on (appending to an existing one)
		if f, err := os.OpenFile(serial, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644); err == nil {
			f.Close()
		}
		rec.Serial = serial
	}
	md := guestMetadata(extra)
	ud := parseUserData(decodeGuestinfo(extra["guestinfo.userdata"], extra["guestinfo.userdata.encoding"]))
	ci := simulateCloudInit(root, md, ud)
	rec.CloudInit, rec.Datasource, rec.DsList = ci.Installed, ci.Datasource, ci.DsList

	// The simulated init's poweroff: it tells the test bed to power the VM off once the command returns.
	_ = os.MkdirAll(filepath.Join(root, "sbin"), 0755)
	_ = os.Remove(filepath.Join(root, "sbin", "poweroff"))
	_ = ioutil.WriteFile(filepath.Join(root, "sbin", "poweroff"), []byte("#!/bin/sh\n: > /run/.cesobed-poweroff\n"), 0755)
	_ = os.MkdirAll(filepath.Join(root, "dev"), 0755)
	if serial != "" {
		_ = ioutil.WriteFile(filepath.Join(root, "dev", "ttyS0"), nil, 0644)
	}
	var errs []string
	for _, c := range ud.Runcmd {
		rec.Runcmds++
		if out, err := runInGuest(root, serial, c); err != nil {
			errs = append(errs, fmt.Sprintf("runcmd %d: %v: %s", rec.Runcmds, err, bytes.TrimSpace(out)))
		}
		if _, err := os.Stat(filepath.Join(root, "run", ".cesobed-poweroff")); err == nil {
			rec.PowerOff = true
			break
		}
	}
	rec.Detail = strings.Join(errs, "; ")
	logGuest(st, rec)
	if rec.PowerOff {
		ctx := context.Background()
		if c := hookClient(ctx); c != nil {
			if tk, err := object.NewVirtualMachine(c, vm.Self).PowerOff(ctx); err == nil {
				_ = tk.Wait(ctx)
			}
		}
	}
}

// runInGuest runs one runcmd entry as root in a chroot of the guest's tree, in private mount, UTS, network and PID
// namespaces (the guest cannot reach the test bed's processes or network), with the hostname from its /etc/hostname
// (as systemd sets it at boot) and /dev/ttyS0 bound to the serial-port file.
func runInGuest(root, serial, command string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), guestRunLimit)
	defer cancel()
	const boot = `set -e
mount --make-rprivate /
if [ -n "$1" ]; then mount --bind "$1" "$2/dev/ttyS0"; fi
h=$(cat "$2/etc/hostname" 2>/dev/null || true)
hostname "${h:-localhost}"
exec chroot "$2" /bin/sh -c "$3"`
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--uts", "--net", "--pid", "--fork", "--kill-child", "--",
		"/bin/sh", "-c", boot, "guest", serial, root, command)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
	return cmd.CombinedOutput()
}

// serialFile: the local path of the VM's file-backed serial port 0 (serial0.present, fileType "file", fileName
// relative to the VM's folder or a /vmfs/volumes path), "" when it has none.
func serialFile(st *State, vmx map[string]string, vmxLocal string) string {
	if !strings.EqualFold(vmx["serial0.present"], "TRUE") || !strings.EqualFold(vmx["serial0.filetype"], "file") || vmx["serial0.filename"] == "" {
		return ""
	}
	f := vmx["serial0.filename"]
	if strings.HasPrefix(f, "/vmfs/volumes/") {
		l, _ := localPath(st, f)
		return l
	}
	if filepath.IsAbs(f) {
		return "" // not on a datastore: the test bed will not write outside them
	}
	return filepath.Join(filepath.Dir(vmxLocal), f)
}
