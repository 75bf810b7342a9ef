package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Faults is STATEDIR/faults.json, read on every call (see SPEC.md "Faults on demand").
type Faults struct {
	DatastoreFull     string `json:"datastoreFull,omitempty"` // ds name | all
	DropSsh           string `json:"dropSsh,omitempty"`
	DropSshAfterBytes int64  `json:"dropSshAfterBytes,omitempty"`
	DelayMs           int    `json:"delayMs,omitempty"`
	SnapshotFailure   bool   `json:"snapshotFailure,omitempty"`
	Restricted        bool   `json:"restricted,omitempty"`
	// vmkfstools over a non-terminal session: stdout (progress) held back until the tool ends, failures on stderr.
	VmkfstoolsBuffered bool `json:"vmkfstoolsBuffered,omitempty"`
	// vmkfstools -i copies at most N MB/s (a slow datastore), so a copy takes time.
	DiskCopyMBps int `json:"diskCopyMBps,omitempty"`
	// vim-cmd vmsvc/power.on answers in plain text, "Powering on VM:" then "Power on failed", with this exit code
	// (-1 = off). The VM stays off.
	PowerOnFailText *int `json:"powerOnFailText,omitempty"`
	// python on the SSH PATH: "" (on), "off" (not found) or "refused" (exec refused, as execInstalledOnly does).
	// Read by the shell wrapper STATEDIR/bin/python, not by Go.
	Python string `json:"python,omitempty"`
	// A running guest that keeps writing into its VM's current disk (guestwrite.go).
	GuestWrites *GuestWrites `json:"guestWrites,omitempty"`
	// Simulated guests (guest.go) hang at boot: nothing runs, nothing is written, the VM stays on.
	GuestHang bool `json:"guestHang,omitempty"`
}

func readFaults(dir string) Faults {
	var f Faults
	if b, err := ioutil.ReadFile(filepath.Join(dir, "faults.json")); err == nil {
		_ = json.Unmarshal(b, &f)
	}
	return f
}

// updateFaults changes faults.json under an exclusive lock (read-modify-write).
func updateFaults(dir string, change func(*Faults)) (Faults, error) {
	lk, err := os.OpenFile(filepath.Join(dir, "faults.lock"), os.O_CREATE|os.O_RDWR, 0644)
	if err != nil {
		return Faults{}, err
	}
	defer lk.Close()
	_ = syscall.Flock(int(lk.Fd()), syscall.LOCK_EX)
	f := readFaults(dir)
	change(&f)
	b, _ := json.MarshalIndent(f, "", "  ")
	tmp := filepath.Join(dir, ".faults.json.tmp")
	if err := ioutil.WriteFile(tmp, append(b, '\n'), 0644); err != nil {
		return f, err
	}
	return f, os.Rename(tmp, filepath.Join(dir, "faults.json"))
}

func (f Faults) dsFull(ds string) bool {
	return f.DatastoreFull != "" && f.DatastoreFull != "off" && (f.DatastoreFull == "all" || f.DatastoreFull == ds)
}

func onOffValue(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no", "":
		return false, nil
	}
	return false, fmt.Errorf("want on/off, got %q", v)
}

// faultCmd: cesobed fault -state STATEDIR KEY=VALUE... | clear
func faultCmd(args []string) int {
	dir := ""
	var kvs []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-state" && i+1 < len(args) {
			dir = args[i+1]
			i++
		} else {
			kvs = append(kvs, args[i])
		}
	}
	if dir == "" {
		dir = stateDir()
	}
	if dir == "" || len(kvs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: cesobed fault -state STATEDIR KEY=VALUE...|clear  (keys: datastoreFull dropSsh dropSshAfterBytes delayMs snapshotFailure restricted vmkfstoolsBuffered diskCopyMBps powerOnFailText python guestWrites)")
		return 2
	}
	var bad error
	f, err := updateFaults(dir, func(f *Faults) {
		for _, kv := range kvs {
			if kv == "clear" {
				*f = Faults{}
				continue
			}
			p := strings.SplitN(kv, "=", 2)
			if len(p) != 2 {
				bad = fmt.Errorf("%q: want KEY=VALUE", kv)
				return
			}
			k, v := p[0], p[1]
			var err error
			switch k {
			case "datastoreFull":
				if v == "off" {
					v = ""
				}
				f.DatastoreFull = v
			case "dropSsh":
				f.DropSsh = v
			case "dropSshAfterBytes":
				f.DropSshAfterBytes, err = strconv.ParseInt(v, 10, 64)
			case "delayMs":
				f.DelayMs, err = strconv.Atoi(v)
			case "snapshotFailure":
				f.SnapshotFailure, err = onOffValue(v)
			case "restricted":
				f.Restricted, err = onOffValue(v)
			case "vmkfstoolsBuffered":
				f.VmkfstoolsBuffered, err = onOffValue(v)
			case "diskCopyMBps":
				f.DiskCopyMBps, err = strconv.Atoi(v)
			case "guestWrites":
				f.GuestWrites, err = parseGuestWrites(v)
			case "guestHang":
				f.GuestHang, err = onOffValue(v)
			case "python":
				switch v {
				case "on", "":
					f.Python = ""
				case "off", "refused":
					f.Python = v
				default:
					err = fmt.Errorf("want on|off|refused")
				}
			case "powerOnFailText":
				// on = exit code 0 (as 6.x-style vim-cmd often does), exitN = exit code N, off
				switch {
				case v == "off" || v == "":
					f.PowerOnFailText = nil
				case v == "on":
					z := 0
					f.PowerOnFailText = &z
				case strings.HasPrefix(v, "exit"):
					var n int
					n, err = strconv.Atoi(strings.TrimPrefix(v, "exit"))
					f.PowerOnFailText = &n
				default:
					err = fmt.Errorf("want on|exitN|off")
				}
			default:
				err = fmt.Errorf("unknown key")
			}
			if err != nil {
				bad = fmt.Errorf("%s: %v", kv, err)
				return
			}
		}
	})
	if bad == nil {
		bad = err
	}
	if bad != nil {
		fmt.Fprintln(os.Stderr, "cesobed fault:", bad)
		return 2
	}
	applyDatastoreFull(dir, f)
	b, _ := json.Marshal(f)
	fmt.Println(string(b))
	return 0
}

func sleepMs(ms int) {
	if ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}
