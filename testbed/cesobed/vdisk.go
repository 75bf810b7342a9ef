package main

import (
	"fmt"
	"io/ioutil"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// VirtualDiskManager with real bytes (vcsim creates empty files and has no ExtendVirtualDisk_Task): the disks are the
// same monolithic-flat descriptor + sparse -flat pairs vmkfstools writes. Each method answers a task that is already
// complete (success or error), as vcsim answers its own tasks.

// vdiskMethods are answered here instead of by vcsim.
var vdiskMethods = map[string]bool{"CreateVirtualDisk_Task": true, "CopyVirtualDisk_Task": true,
	"DeleteVirtualDisk_Task": true, "ExtendVirtualDisk_Task": true, "MoveVirtualDisk_Task": true}

type taskFault struct {
	fault types.BaseMethodFault
	msg   string
}

// runTask creates a vcsim task on obj and completes it with fn's outcome (the message is a real host's text).
func runTask(obj types.ManagedObjectReference, name string, fn func() (types.AnyType, *taskFault)) types.ManagedObjectReference {
	t := simulator.CreateTask(obj, name, nil)
	simulator.Map.Update(t, []types.PropertyChange{{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning}})
	res, tf := fn()
	state := types.TaskInfoStateSuccess
	var fault interface{}
	if tf != nil {
		state = types.TaskInfoStateError
		fault = types.LocalizedMethodFault{Fault: tf.fault, LocalizedMessage: tf.msg}
	}
	simulator.Map.Update(t, []types.PropertyChange{{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state}, {Name: "info.result", Val: res}, {Name: "info.error", Val: fault}})
	return t.Self
}

func fileFault(f types.BaseMethodFault, file string) *taskFault {
	switch f.(type) {
	case *types.FileAlreadyExists:
		return &taskFault{&types.FileAlreadyExists{FileFault: types.FileFault{File: file}},
			fmt.Sprintf("Cannot complete the operation because the file or folder %s already exists", file)}
	case *types.FileNotFound:
		return &taskFault{&types.FileNotFound{FileFault: types.FileFault{File: file}}, fmt.Sprintf("File %s was not found", file)}
	case *types.InvalidDatastorePath:
		return &taskFault{&types.InvalidDatastorePath{DatastorePath: file}, fmt.Sprintf("Invalid datastore path '%s'.", file)}
	}
	return &taskFault{f, "A general system error occurred."}
}

// ioFault maps a file error: ENOSPC -> NoDiskSpace, missing -> FileNotFound, else CannotCreateFile.
func ioFault(err error, file string, ds *DSState) *taskFault {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	if err == syscall.ENOSPC {
		name := ""
		if ds != nil {
			name = ds.Name
		}
		return &taskFault{&types.NoDiskSpace{Datastore: name}, "There is not enough space on the file system for the selected operation."}
	}
	if os.IsNotExist(err) {
		return fileFault(new(types.FileNotFound), file)
	}
	return &taskFault{&types.CannotCreateFile{FileFault: types.FileFault{File: file}}, fmt.Sprintf("Cannot create file %s: %v", file, err)}
}

func diskKind(spec types.BaseVirtualDiskSpec, def string) string {
	if spec == nil {
		return def
	}
	switch types.VirtualDiskType(spec.GetVirtualDiskSpec().DiskType) {
	case types.VirtualDiskTypeThin:
		return "thin"
	case types.VirtualDiskTypeEagerZeroedThick:
		return "eagerzeroedthick"
	case "":
		return def
	}
	return "zeroedthick"
}

// serveVdisk answers one VirtualDiskManager method; false if the body is not one.
func (f *Front) serveVdisk(w http.ResponseWriter, method string, body []byte, faults Faults) (fault string, handled bool) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return "", false
	}
	var this types.ManagedObjectReference
	var name string
	var fn func() (types.AnyType, *taskFault)
	switch req := m.Body.(type) {
	case *types.CreateVirtualDisk_Task:
		this, name = req.This, "createVirtualDisk"
		fn = func() (types.AnyType, *taskFault) {
			local, ds := localPath(f.St, req.Name)
			if ds == nil || !strings.HasSuffix(local, ".vmdk") {
				return nil, fileFault(new(types.InvalidDatastorePath), req.Name)
			}
			var kb int64
			if fs, ok := req.Spec.(*types.FileBackedVirtualDiskSpec); ok {
				kb = fs.CapacityKb
			}
			if kb <= 0 {
				return nil, &taskFault{&types.InvalidArgument{InvalidProperty: "spec.capacityKb"}, "A specified parameter was not correct: spec.capacityKb"}
			}
			if _, err := os.Stat(local); err == nil {
				return nil, fileFault(new(types.FileAlreadyExists), req.Name)
			}
			if _, err := os.Stat(filepath.Dir(local)); err != nil {
				return nil, fileFault(new(types.FileNotFound), req.Name)
			}
			if faults.dsFull(ds.Name) {
				return nil, ioFault(syscall.ENOSPC, req.Name, ds)
			}
			if err := createDisk(local, kb*1024, diskKind(req.Spec, "zeroedthick"), false); err != nil {
				_ = os.Remove(local)
				_ = os.Remove(strings.TrimSuffix(local, ".vmdk") + "-flat.vmdk")
				return nil, ioFault(err, req.Name, ds)
			}
			return req.Name, nil
		}
	case *types.CopyVirtualDisk_Task:
		this, name = req.This, "copyVirtualDisk"
		fn = func() (types.AnyType, *taskFault) {
			src, sds := localPath(f.St, req.SourceName)
			dst, dds := localPath(f.St, req.DestName)
			if sds == nil {
				return nil, fileFault(new(types.InvalidDatastorePath), req.SourceName)
			}
			if dds == nil || !strings.HasSuffix(dst, ".vmdk") {
				return nil, fileFault(new(types.InvalidDatastorePath), req.DestName)
			}
			sflat, size, err := flatOf(src)
			if err != nil {
				return nil, fileFault(new(types.FileNotFound), req.SourceName)
			}
			if diskLocked(f.St, src, false) {
				return nil, lockedFault(req.SourceName)
			}
			_ = sflat
			if _, err := os.Stat(dst); err == nil && (req.Force == nil || !*req.Force) {
				return nil, fileFault(new(types.FileAlreadyExists), req.DestName)
			}
			if _, err := os.Stat(filepath.Dir(dst)); err != nil {
				return nil, fileFault(new(types.FileNotFound), req.DestName)
			}
			if faults.dsFull(dds.Name) {
				return nil, ioFault(syscall.ENOSPC, req.DestName, dds)
			}
			def := "zeroedthick"
			if b, _ := ioutil.ReadFile(src); strings.Contains(string(b), `ddb.thinProvisioned = "1"`) {
				def = "thin"
			}
			dflat := strings.TrimSuffix(dst, ".vmdk") + "-flat.vmdk"
			if err := materialize(f.St, src, dflat, faults.DiskCopyMBps, func(int) {}); err != nil {
				_ = os.Remove(dflat)
				return nil, ioFault(err, req.DestName, dds)
			}
			if err := ioutil.WriteFile(dst, []byte(descriptor(filepath.Base(dflat), size, diskKind(req.DestSpec, def))), 0600); err != nil {
				_ = os.Remove(dflat)
				return nil, ioFault(err, req.DestName, dds)
			}
			return nil, nil
		}
	case *types.DeleteVirtualDisk_Task:
		this, name = req.This, "deleteVirtualDisk"
		fn = func() (types.AnyType, *taskFault) {
			local, ds := localPath(f.St, req.Name)
			if ds == nil {
				return nil, fileFault(new(types.InvalidDatastorePath), req.Name)
			}
			flat, _, err := flatOf(local)
			if err != nil {
				return nil, fileFault(new(types.FileNotFound), req.Name)
			}
			if diskLocked(f.St, local, true) {
				return nil, lockedFault(req.Name)
			}
			_ = os.Remove(flat)
			if err := os.Remove(local); err != nil {
				return nil, ioFault(err, req.Name, ds)
			}
			return nil, nil
		}
	case *types.MoveVirtualDisk_Task:
		this, name = req.This, "moveVirtualDisk"
		fn = func() (types.AnyType, *taskFault) {
			src, sds := localPath(f.St, req.SourceName)
			dst, dds := localPath(f.St, req.DestName)
			if sds == nil {
				return nil, fileFault(new(types.InvalidDatastorePath), req.SourceName)
			}
			if dds == nil || !strings.HasSuffix(dst, ".vmdk") {
				return nil, fileFault(new(types.InvalidDatastorePath), req.DestName)
			}
			if _, _, err := flatOf(src); err != nil {
				return nil, fileFault(new(types.FileNotFound), req.SourceName)
			}
			if diskLocked(f.St, src, true) {
				return nil, lockedFault(req.SourceName)
			}
			if _, err := os.Stat(dst); err == nil {
				return nil, fileFault(new(types.FileAlreadyExists), req.DestName)
			}
			if err := moveDisk(src, dst); err != nil {
				return nil, ioFault(err, req.DestName, dds)
			}
			return nil, nil
		}
	case *types.ExtendVirtualDisk_Task:
		this, name = req.This, "extendVirtualDisk"
		fn = func() (types.AnyType, *taskFault) {
			local, ds := localPath(f.St, req.Name)
			if ds == nil {
				return nil, fileFault(new(types.InvalidDatastorePath), req.Name)
			}
			_, cur, err := flatOf(local)
			if err != nil {
				return nil, fileFault(new(types.FileNotFound), req.Name)
			}
			if diskLocked(f.St, local, true) {
				return nil, lockedFault(req.Name)
			}
			n := req.NewCapacityKb * 1024
			if n < cur {
				return nil, &taskFault{&types.InvalidArgument{InvalidProperty: "newCapacityKb"}, "A specified parameter was not correct: newCapacityKb"}
			}
			if faults.dsFull(ds.Name) {
				return nil, ioFault(syscall.ENOSPC, req.Name, ds)
			}
			if err := extendDisk(local, n); err != nil {
				return nil, ioFault(err, req.Name, ds)
			}
			return nil, nil
		}
	default:
		return "", false
	}
	obj := simulator.Map.Get(this)
	if _, ok := obj.(mo.Reference); !ok || this.Type != "VirtualDiskManager" {
		soapFault(w, fmt.Sprintf("managed object not found: %s", this), "ManagedObjectNotFound",
			fmt.Sprintf(`<obj type="%s">%s</obj>`, xmlEsc(this.Type), xmlEsc(this.Value)))
		return "ManagedObjectNotFound", true
	}
	ref := runTask(this, name, fn)
	soapOK(w, fmt.Sprintf(`<%sResponse xmlns="urn:vim25"><returnval type="Task">%s</returnval></%sResponse>`, method, ref.Value, method))
	return "", true
}

// extendDisk grows a flat disk: the -flat file (sparse) and the descriptor's extent size and geometry.
func extendDisk(vmdk string, n int64) error {
	flat, _, err := flatOf(vmdk)
	if err != nil {
		return err
	}
	if err := os.Truncate(flat, n); err != nil {
		return err
	}
	b, err := ioutil.ReadFile(vmdk)
	if err != nil {
		return err
	}
	nd := extentRe.ReplaceAllStringFunc(string(b), func(m string) string {
		p := extentRe.FindStringSubmatch(m)
		return fmt.Sprintf("%s %d %s \"%s\"", p[1], n/512, p[3], p[4])
	})
	cyl := n / 512 / (255 * 63)
	if cyl < 1 {
		cyl = 1
	}
	nd = cylRe.ReplaceAllString(nd, fmt.Sprintf(`ddb.geometry.cylinders = "%d"`, cyl))
	return ioutil.WriteFile(vmdk, []byte(nd), 0600)
}

// lockedFault: the fault hostd answers for a disk a running VM holds, FileLocked "Unable to access file <f> since it
// is locked" (the text quoted from ESXi 8.0.3 in https://github.com/apache/cloudstack/issues/12035).
func lockedFault(file string) *taskFault {
	return &taskFault{&types.FileLocked{FileFault: types.FileFault{File: file}}, fmt.Sprintf("Unable to access file %s since it is locked", file)}
}

// moveDisk renames a flat disk as ESXi does (vmkfstools -E, MoveVirtualDisk_Task): the extent becomes NEW-flat.vmdk,
// the descriptor NEW.vmdk with its extent line rewritten; the descriptor is written last, so a failure leaves the source.
func moveDisk(src, dst string) error {
	sflat, _, err := flatOf(src)
	if err != nil {
		return err
	}
	b, err := ioutil.ReadFile(src)
	if err != nil {
		return err
	}
	dflat := strings.TrimSuffix(dst, ".vmdk") + "-flat.vmdk"
	text := strings.Replace(string(b), `"`+filepath.Base(sflat)+`"`, `"`+filepath.Base(dflat)+`"`, 1)
	if err := os.Rename(sflat, dflat); err != nil {
		return err
	}
	if err := ioutil.WriteFile(dst, []byte(text), 0600); err != nil {
		_ = os.Rename(dflat, sflat)
		return err
	}
	return os.Remove(src)
}
