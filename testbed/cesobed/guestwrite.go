package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// A running guest that writes (SPEC.md "Disks of running VMs"): a write goes into the VM's CURRENT disk — its base
// -flat.vmdk without a snapshot, the newest delta with one — under diskMu, so it never lands between vcsim's snapshot
// and its delta. Every write is recorded in STATEDIR/guestwrites.jsonl. Two ways to drive it:
//   cesobed guest-write -state DIR [-disk N] [-data TEXT | -bytes N] VM OFFSET   one write, now (prints its record)
//   cesobed fault -state DIR guestWrites=vm=NAME,offset=N,bytes=N,everyMs=N[,disk=N]|off   a writer that keeps writing

// GuestWrites is the background writer of faults.json.
type GuestWrites struct {
	VM      string `json:"vm"`
	Disk    int    `json:"disk,omitempty"`
	Offset  int64  `json:"offset"`
	Bytes   int64  `json:"bytes"`
	EveryMs int    `json:"everyMs"`
}

// GuestWrite is one line of STATEDIR/guestwrites.jsonl.
type GuestWrite struct {
	T      string `json:"t"`
	VM     string `json:"vm"`
	Disk   int    `json:"disk"`
	File   string `json:"file"`   // the extent written (local path)
	Target string `json:"target"` // base | delta
	Offset int64  `json:"offset"`
	Length int    `json:"length"`
	Seq    int64  `json:"seq"`
	Source string `json:"source"` // once | writer
}

var guestSeq int64

// guestData: the bytes a write puts there when none are given: "GUEST <vm> seq=<n> off=<offset>\n" repeated.
func guestData(vm string, seq, off, n int64) []byte {
	line := fmt.Sprintf("GUEST %s seq=%d off=%d\n", vm, seq, off)
	b := []byte(strings.Repeat(line, int(n)/len(line)+1))
	return b[:n]
}

func findVM(sel string) *simulator.VirtualMachine {
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		var name string
		simulator.Map.WithLock(vm, func() {
			if vm.Config != nil {
				name = vm.Config.Name
			}
		})
		if name == sel || vm.Self.Value == sel || vm.Self.Value == "vm-"+sel {
			return vm
		}
	}
	return nil
}

// guestWrite writes data at off into the current disk #disk of the running VM sel (name or vmid).
func guestWrite(st *State, sel string, disk int, off int64, data []byte, source string) (*GuestWrite, error) {
	diskMu.Lock()
	defer diskMu.Unlock()
	vm := findVM(sel)
	if vm == nil {
		return nil, fmt.Errorf("no VM %q", sel)
	}
	disks, _, on := disksOf(st, vm)
	if !on {
		return nil, fmt.Errorf("VM %q is not powered on: its guest cannot write", sel)
	}
	if disk < 0 || disk >= len(disks) {
		return nil, fmt.Errorf("VM %q has no disk %d", sel, disk)
	}
	ext, kind, size, err := extentOf(disks[disk].Leaf)
	if err != nil {
		return nil, err
	}
	if off < 0 || off+int64(len(data)) > size {
		return nil, fmt.Errorf("offset %d + %d bytes is outside the %d-byte disk", off, len(data), size)
	}
	if err := writeDisk(disks[disk].Leaf, off, data); err != nil {
		return nil, err
	}
	guestSeq++
	rec := &GuestWrite{T: time.Now().UTC().Format(time.RFC3339Nano), VM: sel, Disk: disk, File: ext, Target: "base",
		Offset: off, Length: len(data), Seq: guestSeq, Source: source}
	if isDelta(kind) {
		rec.Target = "delta"
	}
	if b, err := json.Marshal(rec); err == nil {
		if f, err := os.OpenFile(filepath.Join(st.Dir, "guestwrites.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644); err == nil {
			_, _ = f.Write(append(b, '\n'))
			f.Close()
		}
	}
	return rec, nil
}

// guestWriterLoop runs the faults.json writer (guestWrites) inside serve.
func guestWriterLoop(st *State) {
	var last time.Time
	for range time.Tick(10 * time.Millisecond) {
		g := readFaults(st.Dir).GuestWrites
		if g == nil || g.Bytes <= 0 {
			continue
		}
		every := time.Duration(g.EveryMs) * time.Millisecond
		if every < 10*time.Millisecond {
			every = 10 * time.Millisecond
		}
		if time.Since(last) < every {
			continue
		}
		last = time.Now()
		_, _ = guestWrite(st, g.VM, g.Disk, g.Offset, guestData(g.VM, guestSeq+1, g.Offset, g.Bytes), "writer")
	}
}

func parseGuestWrites(v string) (*GuestWrites, error) {
	if v == "off" || v == "" {
		return nil, nil
	}
	g := &GuestWrites{EveryMs: 100}
	for _, kv := range strings.Split(v, ",") {
		p := strings.SplitN(kv, "=", 2)
		if len(p) != 2 {
			return nil, fmt.Errorf("want vm=NAME,offset=N,bytes=N,everyMs=N[,disk=N]")
		}
		var err error
		switch p[0] {
		case "vm":
			g.VM = p[1]
		case "offset":
			g.Offset, err = strconv.ParseInt(p[1], 10, 64)
		case "bytes":
			g.Bytes, err = strconv.ParseInt(p[1], 10, 64)
		case "everyMs":
			g.EveryMs, err = strconv.Atoi(p[1])
		case "disk":
			g.Disk, err = strconv.Atoi(p[1])
		default:
			err = fmt.Errorf("unknown field %q", p[0])
		}
		if err != nil {
			return nil, err
		}
	}
	if g.VM == "" || g.Bytes <= 0 {
		return nil, fmt.Errorf("vm and bytes > 0 are required")
	}
	return g, nil
}

// guestWriteTool: the serve side of `cesobed guest-write` (argv after the tool name).
func (t *Tool) guestWriteTool(args []string) int {
	fs := flag.NewFlagSet("guest-write", flag.ContinueOnError)
	fs.SetOutput(t.errw)
	disk := fs.Int("disk", 0, "disk index")
	data := fs.String("data", "", "bytes to write")
	n := fs.Int64("bytes", 0, "write N bytes of the GUEST pattern")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		fmt.Fprintln(t.errw, "usage: cesobed guest-write -state DIR [-disk N] [-data TEXT | -bytes N] VM OFFSET")
		return 2
	}
	off, err := strconv.ParseInt(fs.Arg(1), 10, 64)
	if err != nil {
		fmt.Fprintln(t.errw, "guest-write: bad offset")
		return 2
	}
	b := []byte(*data)
	if len(b) == 0 {
		if *n <= 0 {
			*n = 512
		}
		b = guestData(fs.Arg(0), guestSeq+1, off, *n)
	}
	rec, err := guestWrite(t.St, fs.Arg(0), *disk, off, b, "once")
	if err != nil {
		fmt.Fprintln(t.errw, "guest-write:", err)
		return 1
	}
	j, _ := json.Marshal(rec)
	fmt.Fprintln(t.out, string(j))
	return 0
}

// guestWriteCmd: `cesobed guest-write -state DIR …` hands the write to serve over STATEDIR/tool.sock.
func guestWriteCmd(args []string) int {
	dir := ""
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-state" && i+1 < len(args) {
			dir = args[i+1]
			i++
		} else {
			rest = append(rest, args[i])
		}
	}
	if dir == "" {
		dir = stateDir()
	}
	return callServe(dir, append([]string{"cesobed-guest-write"}, rest...))
}

// callServe runs argv inside serve over tool.sock (the esxtool protocol, toolserver.go), relaying output and exit code.
func callServe(dir string, argv []string) int {
	c, err := net.Dial("unix", filepath.Join(dir, toolSock))
	if err != nil {
		fmt.Fprintf(os.Stderr, "cesobed: serve is not reachable: %v\n", err)
		return 1
	}
	defer c.Close()
	cwd, _ := os.Getwd()
	p := cwd + "\x00" + strconv.Itoa(len(argv)) + "\x00" + strings.Join(argv, "\x00")
	send := func(typ byte, b []byte) {
		var h [5]byte
		h[0] = typ
		binary.BigEndian.PutUint32(h[1:], uint32(len(b)))
		_, _ = c.Write(append(h[:], b...))
	}
	send('R', []byte(p))
	r := bufio.NewReader(c)
	for {
		typ, b, err := readFrame(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cesobed: serve closed the connection")
			return 1
		}
		switch typ {
		case 'o':
			os.Stdout.Write(b)
		case 'e':
			os.Stderr.Write(b)
		case 'i':
			send('z', nil)
		case 'x':
			return int(int32(binary.BigEndian.Uint32(b)))
		}
	}
}

var _ = types.ManagedObjectReference{}
