package main

import (
	"bytes"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Output formats, from real vmkfstools runs quoted in public sources:
//   - https://github.com/lamw/ghettoVCB/issues/202 (ESXi 7) — `vmkfstools -i SRC -d thin DST`: "Destination disk format:
//     VMFS thin-provisioned", "Cloning disk '<src as given>'...", progress "Clone: 19% done." repainted in place, and a
//     failure appended right after the last progress text with no newline: "Clone: 100% done.Failed to clone disk: …".
//   - https://github.com/lamw/ghettoVCB/issues/139 — "Clone: 9% done.Failed to clone disk: The file specified is not a
//     virtual disk (15)." (same no-newline join).
//   - https://github.com/lamw/ghettoVCB/blob/master/README.md (restore sample) — "Destination disk format: VMFS
//     zeroedthick", "Clone: 100% done." then a newline on success, and the ENOSPC text
//     "Failed to clone disk: There is not enough space on the file system for the selected operation (13)."
//   - `-c` / `-X` / `-U` / `-q` ("Disk X is a Non-rdm disk.") and "Create: 100% done." for eagerzeroedthick: no public
//     sample found; modelled on the clone messages above ("Failed to create virtual disk: <DiskLib text> (<code>).").

// lockText: what vmkfstools says about a disk a running VM holds (ghettoVCB issue 226, cited at cloneDisk).
const lockText = "Failed to lock the file (16392)."

const enospcText = "There is not enough space on the file system for the selected operation (13)."

var cylRe = regexp.MustCompile(`ddb\.geometry\.cylinders = "\d+"`)

var extentRe = regexp.MustCompile(`(?m)^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(VMFS|FLAT|VMFSSPARSE|SESPARSE|SPARSE)\s+"([^"]+)"`)

func descriptor(flatName string, sizeBytes int64, kind string) string {
	sectors := sizeBytes / 512
	cyl := sectors / (255 * 63)
	if cyl < 1 {
		cyl = 1
	}
	thin := ""
	if kind == "thin" {
		thin = "ddb.thinProvisioned = \"1\"\n"
	}
	u := randHex(16)
	var sp []string
	for i := 0; i < 32; i += 2 {
		sp = append(sp, u[i:i+2])
	}
	// ESXi's own descriptor layout for a flat disk on VMFS (createType "vmfs", extent type VMFS, ddb.thinProvisioned for
	// thin). No public ESXi-written descriptor was found with the search tools; modelled on the VMDK format (VMware's
	// "Virtual Disk Format 5.0" spec) and on descriptors from ESXi hosts; qemu-img reads it as monolithicFlat-like.
	return fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%s
parentCID=ffffffff
createType="vmfs"

# Extent description
RW %d VMFS "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
ddb.longContentID = "%s"
%sddb.uuid = "%s-%s"
ddb.virtualHWVersion = "19"
`, randHex(4), sectors, flatName, cyl, randHex(16), thin, strings.Join(sp[:8], " "), strings.Join(sp[8:], " "))
}

// createDisk writes descriptor + sparse flat file; with marks, known bytes at known offsets (see SPEC.md).
func createDisk(vmdk string, size int64, kind string, marks bool) error {
	flat := strings.TrimSuffix(vmdk, ".vmdk") + "-flat.vmdk"
	if err := os.MkdirAll(filepath.Dir(vmdk), 0755); err != nil {
		return err
	}
	f, err := os.OpenFile(flat, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	if marks {
		for _, off := range markOffsets(size) {
			if _, err := f.WriteAt([]byte(fmt.Sprintf("CESOBED %s @%d\n", filepath.Base(vmdk), off)), off); err != nil {
				return err
			}
		}
	}
	return ioutil.WriteFile(vmdk, []byte(descriptor(filepath.Base(flat), size, kind)), 0600)
}

// markOffsets: where initial disks carry known bytes ("CESOBED <name.vmdk> @<offset>\n").
func markOffsets(size int64) []int64 {
	offs := []int64{0}
	for _, o := range []int64{1 << 20, size / 2 &^ 4095, size - 4096} {
		if o > offs[len(offs)-1] && o+64 <= size {
			offs = append(offs, o)
		}
	}
	return offs
}

func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	case "t":
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

func flatOf(vmdk string) (string, int64, error) {
	b, err := ioutil.ReadFile(vmdk)
	if err != nil {
		return "", 0, err
	}
	m := extentRe.FindStringSubmatch(string(b))
	if m == nil {
		return "", 0, fmt.Errorf("not a flat VMDK descriptor")
	}
	sec, _ := strconv.ParseInt(m[2], 10, 64)
	return filepath.Join(filepath.Dir(vmdk), m[4]), sec * 512, nil
}

func (t *Tool) vmkfstools(args []string) int {
	var op, size, kind, src string
	kind = "zeroedthick"
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch a {
		case "-c", "--createvirtualdisk":
			op, size = "c", next()
		case "-d", "--diskformat":
			kind = next()
		case "-i", "--clonevirtualdisk":
			op, src = "i", next()
		case "-X", "--extendvirtualdisk":
			op, size = "X", next()
		case "-U", "--deletevirtualdisk":
			op = "U"
		case "-E", "--renamevirtualdisk":
			op, src = "E", next()
		case "-q", "--queryrdm":
			op = "q"
		case "-a", "--adaptertype":
			next()
		default:
			rest = append(rest, a)
		}
	}
	if op == "" || len(rest) != 1 {
		fmt.Fprintln(t.errw, "vmkfstools: unsupported arguments (test bed supports -c/-i/-X/-U/-E/-q)")
		return 1
	}
	target, ds := t.path(rest[0])
	full := ds != nil && t.Faults.dsFull(ds.Name)
	switch op {
	case "c":
		if _, err := os.Stat(target); err == nil && diskLocked(t.St, target, true) {
			fmt.Fprintf(t.errw, "Failed to create virtual disk: %s\n", lockText)
			return 1
		}
		n, err := parseSize(size)
		if err != nil || n <= 0 {
			fmt.Fprintln(t.errw, "Failed to create virtual disk: The value of a parameter was invalid (1).")
			return 1
		}
		if _, err := os.Stat(target); err == nil {
			fmt.Fprintln(t.errw, "Failed to create virtual disk: The file already exists (39).")
			return 1
		}
		if full {
			fmt.Fprintln(t.out, "Failed to create virtual disk: "+enospcText)
			return 1
		}
		if kind == "eagerzeroedthick" {
			fmt.Fprintf(t.out, "Creating disk '%s' and zeroing it out...\nCreate: 100%% done.\n", rest[0])
		}
		if err := createDisk(target, n, kind, false); err != nil {
			return t.diskErr("Failed to create virtual disk", err)
		}
	case "i":
		return t.cloneDisk(src, rest[0], target, kind, full)
	case "X":
		if diskLocked(t.St, target, true) {
			fmt.Fprintf(t.errw, "Failed to open '%s': %s\n", rest[0], lockText)
			return 1
		}
		n, err := parseSize(size)
		_, cur, ferr := flatOf(target)
		if err != nil || ferr != nil {
			fmt.Fprintf(t.errw, "Failed to extend disk: %v\n", firstErr(err, ferr))
			return 1
		}
		if n < cur {
			fmt.Fprintln(t.errw, "Failed to extend disk: One of the parameters supplied is invalid (1).")
			return 1
		}
		if full {
			fmt.Fprintln(t.out, "Failed to extend disk: "+enospcText)
			return 1
		}
		if err := extendDisk(target, n); err != nil {
			return t.diskErr("Failed to extend disk", err)
		}
	case "E":
		from, _ := t.path(src)
		if _, _, err := flatOf(from); err != nil {
			fmt.Fprintf(t.errw, "Failed to rename virtual disk: Failed to open '%s': Could not find the file (33).\n", src)
			return 1
		}
		if diskLocked(t.St, from, true) {
			fmt.Fprintf(t.errw, "Failed to rename virtual disk: %s\n", lockText)
			return 1
		}
		if _, err := os.Stat(target); err == nil {
			fmt.Fprintln(t.errw, "Failed to rename virtual disk: The file already exists (39).")
			return 1
		}
		if err := moveDisk(from, target); err != nil {
			return t.diskErr("Failed to rename virtual disk", err)
		}
	case "U":
		if diskLocked(t.St, target, true) {
			fmt.Fprintf(t.errw, "Failed to delete virtual disk: %s\n", lockText)
			return 1
		}
		flat, _, err := flatOf(target)
		if err != nil {
			fmt.Fprintf(t.errw, "Failed to delete virtual disk: %v\n", err)
			return 1
		}
		_ = os.Remove(flat)
		_ = os.Remove(target)
	case "q":
		if _, _, err := flatOf(target); err != nil {
			fmt.Fprintf(t.errw, "Failed to open '%s': %v\n", rest[0], err)
			return 1
		}
		fmt.Fprintf(t.out, "Disk %s is a Non-rdm disk.\n", rest[0])
	}
	return 0
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (t *Tool) diskErr(prefix string, err error) int { return diskErrTo(t.out, t.errw, prefix, err) }

// diskErrTo prints a disk error: ENOSPC with the real host text on out (where the progress text is), anything else on errw.
func diskErrTo(out, errw io.Writer, prefix string, err error) int {
	if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.ENOSPC {
		fmt.Fprintln(out, prefix+": "+enospcText)
	} else {
		fmt.Fprintf(errw, "%s: %v\n", prefix, err)
	}
	return 1
}

func (t *Tool) cloneDisk(srcArg, dstArg, dst, kind string, full bool) int {
	// Over a session without a terminal vmkfstools may hold back all of its stdout (the "Clone: N% done." repaints)
	// until it ends, and it reports failures on stderr (fault vmkfstoolsBuffered; a progress meter that is only
	// repainted when stdout is a terminal is the common pattern, cf. squashfs-tools issue 113 "irregular progress
	// display if stdout is not a terminal", https://github.com/plougher/squashfs-tools/issues/113; no public capture of
	// vmkfstools itself over ssh without a tty was found).
	out, errw := t.out, t.errw
	var held bytes.Buffer
	if t.Faults.VmkfstoolsBuffered {
		out = &held
		defer func() { _, _ = t.out.Write(held.Bytes()) }()
	} else {
		errw = out // the failure text follows the last progress text on the same line (ghettoVCB issues 139/202)
	}
	src, _ := t.path(srcArg)
	sflat, size, err := flatOf(src)
	if err != nil {
		fmt.Fprintf(t.errw, "Failed to open '%s': Could not find the file (33).\n", srcArg)
		return 1
	}
	if diskLocked(t.St, src, false) {
		// A running VM's current disk (ghettoVCB issue 226, ESXi 7.0U1c: "Failed to open
		// '/vmfs/volumes/datastore1/XXXX.vmdk': Failed to lock the file (16392).")
		fmt.Fprintf(t.errw, "Failed to open '%s': %s\n", srcArg, lockText)
		return 1
	}
	if _, err := os.Stat(dst); err == nil {
		fmt.Fprintln(t.errw, "Failed to clone disk: The file already exists (39).")
		return 1
	}
	kindText := map[string]string{"thin": "VMFS thin-provisioned", "zeroedthick": "VMFS zeroedthick", "eagerzeroedthick": "VMFS eagerzeroedthick"}[kind]
	fmt.Fprintf(out, "Destination disk format: %s\nCloning disk '%s'...\n", kindText, srcArg)
	if full {
		fmt.Fprintln(errw, "Failed to clone disk: "+enospcText)
		return 1
	}
	dflat := strings.TrimSuffix(dst, ".vmdk") + "-flat.vmdk"
	_ = sflat
	if err := materialize(t.St, src, dflat, t.Faults.DiskCopyMBps, func(pct int) { fmt.Fprintf(out, "Clone: %d%% done.\r", pct) }); err != nil {
		_ = os.Remove(dflat)
		return diskErrTo(out, errw, "Failed to clone disk", err)
	}
	fmt.Fprintf(out, "Clone: 100%% done.\n")
	if err := ioutil.WriteFile(dst, []byte(descriptor(filepath.Base(dflat), size, kind)), 0600); err != nil {
		return diskErrTo(out, errw, "Failed to clone disk", err)
	}
	return 0
}

// sparseCopy copies only the data regions (SEEK_DATA/SEEK_HOLE), keeping holes, in 1 MiB chunks; mbps > 0 limits the
// rate (fault diskCopyMBps). Progress is the offset reached, in percent of the disk.
func sparseCopy(src, dst string, size int64, mbps int, progress func(int)) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0600)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := out.Truncate(size); err != nil {
		return err
	}
	const seekData, seekHole, chunk = 3, 4, 1 << 20
	start := time.Now()
	var copied, off int64
	last := -1
	report := func(at int64) {
		if pct := int(at * 100 / size); pct/10 != last/10 && pct < 100 {
			progress(pct)
			last = pct
		}
	}
	for off < size {
		d, err := in.Seek(off, seekData)
		if err != nil { // ENXIO: no more data
			break
		}
		h, err := in.Seek(d, seekHole)
		if err != nil {
			h = size
		}
		for p := d; p < h; {
			n := h - p
			if n > chunk {
				n = chunk
			}
			if _, err := in.Seek(p, io.SeekStart); err != nil {
				return err
			}
			if _, err := out.Seek(p, io.SeekStart); err != nil {
				return err
			}
			if _, err := io.CopyN(out, in, n); err != nil && err != io.EOF {
				return err
			}
			p += n
			copied += n
			if mbps > 0 {
				if ahead := time.Duration(float64(copied)/float64(mbps<<20)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
			report(p)
		}
		off = h
		report(off)
	}
	return out.Sync()
}
