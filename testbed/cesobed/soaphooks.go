package main

import (
	"context"
	"fmt"
	"io/ioutil"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// SOAP behaviour of a real standalone host that vcsim lacks (see SPEC.md "Strictness on top of vcsim"):
// sessions, RegisterVM_Task reading the .vmx, the .vmx following CreateVM/ReconfigVM, virtual disks with real bytes.

// Methods a real host answers without a session; everything else faults NotAuthenticated.
var anonymous = map[string]bool{"RetrieveServiceContent": true, "Login": true, "LoginByToken": true,
	"LoginExtensionByCertificate": true, "LoginExtensionBySubjectName": true, "CloneSession": true,
	"SessionIsActive": true, "CurrentTime": true}

var thisRe = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?_this[^>]*\btype="([^"]+)"[^>]*>([^<]*)<`)

const envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`
const envelopeEnd = `</soapenv:Body></soapenv:Envelope>`

func soapOK(w http.ResponseWriter, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, envelopeStart+inner+envelopeEnd)
}

// notAuthenticated answers a call without a valid session as hostd does: NotAuthenticated with the called object.
// CurrentTime is answered (hostd allows it anonymously; vcsim would fault). Returns false when the call may proceed.
func (f *Front) notAuthenticated(w http.ResponseWriter, r *http.Request, method string, body []byte) bool {
	if f.validCookie(r) {
		return false
	}
	if method == "CurrentTime" {
		soapOK(w, `<CurrentTimeResponse xmlns="urn:vim25"><returnval>`+time.Now().UTC().Format("2006-01-02T15:04:05.999999Z")+`</returnval></CurrentTimeResponse>`)
		return true
	}
	if anonymous[method] {
		return false
	}
	obj := ""
	if m := thisRe.FindSubmatch(body); m != nil {
		obj = fmt.Sprintf(`<object type="%s">%s</object>`, xmlEsc(string(m[1])), xmlEsc(string(m[2])))
	}
	soapFault(w, "The session is not authenticated.", "NotAuthenticated", obj+`<privilegeId>System.View</privilegeId>`)
	return true
}

// forgetSessions drops the validity cache after Logout (that cookie) or TerminateSession (all).
func (f *Front) forgetSessions(r *http.Request, all bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if all {
		f.valid = nil
		return
	}
	if ck, err := r.Cookie("vmware_soap_session"); err == nil {
		delete(f.valid, ck.Value)
	}
}

// hookClient: the in-process client the tools use (internal calls, logged as such).
func hookClient(ctx context.Context) *vim25.Client {
	if sharedClient == nil {
		return nil
	}
	return sharedClient.get(ctx, nil)
}

var returnvalRe = regexp.MustCompile(`<returnval type="Task">([^<]+)</returnval>`)

// finishedTask reads a vcsim task answered in a response body (vcsim runs tasks synchronously).
func finishedTask(out []byte) *simulator.Task {
	m := returnvalRe.FindSubmatch(out)
	if m == nil {
		return nil
	}
	t, _ := simulator.Map.Get(types.ManagedObjectReference{Type: "Task", Value: string(m[1])}).(*simulator.Task)
	if t == nil {
		return nil
	}
	for i := 0; i < 500; i++ { // vcsim 0.24 runs them synchronously; wait anyway in case a later vcsim does not
		var st types.TaskInfoState
		simulator.Map.WithLock(t, func() { st = t.Info.State })
		if st == types.TaskInfoStateSuccess || st == types.TaskInfoStateError {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return t
}

var pathElemRe = regexp.MustCompile(`</((?:[A-Za-z0-9_]+:)?)path>`)
var nameElemRe = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?name[ >]`)

// beforeRegister: what `vim-cmd solo/registervm` does before registering — a missing name is the .vmx displayName
// (as on a real host; vcsim would take the directory name) and the .nvram/vmware.log vcsim insists on are created.
// Returns the (possibly rewritten) request body.
func (f *Front) beforeRegister(body []byte) []byte {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return body
	}
	req, ok := m.Body.(*types.RegisterVM_Task)
	if !ok {
		return body
	}
	local, ds := localPath(f.St, req.Path)
	if ds == nil {
		return body
	}
	b, err := ioutil.ReadFile(local)
	if err != nil {
		return body
	}
	name := req.Name
	if name == "" {
		name = parseVmx(b)["displayname"]
		if name != "" && !nameElemRe.Match(body) {
			if loc := pathElemRe.FindIndex(body); loc != nil {
				pfx := pathElemRe.FindSubmatch(body)[1]
				ins := fmt.Sprintf("<%sname>%s</%sname>", pfx, xmlEsc(name), pfx)
				body = append(append(append([]byte{}, body[:loc[1]]...), ins...), body[loc[1]:]...)
			}
		}
	}
	if name != "" {
		dir := filepath.Dir(local)
		for _, fn := range []string{name + ".nvram", "vmware.log"} {
			if _, err := os.Stat(filepath.Join(dir, fn)); os.IsNotExist(err) {
				_ = ioutil.WriteFile(filepath.Join(dir, fn), nil, 0644)
			}
		}
	}
	return body
}

// afterRegister: bring vcsim's VM in line with the .vmx (the sync `vim-cmd solo/registervm` does).
func (f *Front) afterRegister(out []byte) {
	t := finishedTask(out)
	if t == nil || t.Info.State != types.TaskInfoStateSuccess {
		return
	}
	ref, ok := t.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := hookClient(ctx)
	if c == nil {
		return
	}
	vm := object.NewVirtualMachine(c, ref)
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, ref, []string{"config.files.vmPathName"}, &mvm); err != nil {
		log.Printf("cesobed: RegisterVM_Task sync %s: %v", ref.Value, err)
		return
	}
	if err := syncFromVmx(ctx, c, f.St, vm, mvm.Config.Files.VmPathName); err != nil {
		log.Printf("cesobed: RegisterVM_Task sync %s: %v", ref.Value, err)
	}
}

// afterVMChange: after CreateVM_Task / ReconfigVM_Task (external) the .vmx on disk is rewritten from vcsim's config;
// disks vcsim created (empty files) become real ones (descriptor + sparse -flat), disks whose capacity grew are
// extended; existing disk contents are never touched.
func (f *Front) afterVMChange(method string, body, out []byte, internal bool) {
	t := finishedTask(out)
	if t == nil || t.Info.State != types.TaskInfoStateSuccess {
		return
	}
	var ref types.ManagedObjectReference
	if method == "CreateVM_Task" {
		r, ok := t.Info.Result.(types.ManagedObjectReference)
		if !ok {
			return
		}
		ref = r
	} else {
		m := thisRe.FindSubmatch(body)
		if m == nil {
			return
		}
		ref = types.ManagedObjectReference{Type: "VirtualMachine", Value: string(m[2])}
	}
	fixExtraConfig(ref)
	if internal {
		return // the tools' own reconfigure (sync from the .vmx): the .vmx is the source, not rewritten
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := hookClient(ctx)
	if c == nil {
		return
	}
	var mvm mo.VirtualMachine
	if err := object.NewVirtualMachine(c, ref).Properties(ctx, ref, []string{"config"}, &mvm); err != nil || mvm.Config == nil {
		return
	}
	for _, d := range mvm.Config.Hardware.Device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		if !ok {
			continue
		}
		size := disk.CapacityInBytes
		if kb := disk.CapacityInKB * 1024; kb > size {
			size = kb
		}
		local, ds := localPath(f.St, b.FileName)
		if ds == nil || size <= 0 {
			continue
		}
		kind := "zeroedthick"
		if b.ThinProvisioned != nil && *b.ThinProvisioned {
			kind = "thin"
		} else if b.EagerlyScrub != nil && *b.EagerlyScrub {
			kind = "eagerzeroedthick"
		}
		if fi, err := os.Stat(local); err != nil || fi.Size() == 0 { // new (vcsim's empty placeholder)
			_ = os.Remove(strings.TrimSuffix(local, ".vmdk") + "-flat.vmdk")
			if err := createDisk(local, size, kind, false); err != nil {
				log.Printf("cesobed: disk %s: %v", local, err)
			}
		} else if _, cur, err := flatOf(local); err == nil && size > cur {
			if err := extendDisk(local, size); err != nil {
				log.Printf("cesobed: extend %s: %v", local, err)
			}
		}
	}
	if err := writeVMFiles(f.St, mvm.Config, false); err != nil {
		log.Printf("cesobed: .vmx of %s: %v", ref.Value, err)
	}
}

// fixExtraConfig makes vcsim's extraConfig behave as a real host's after a reconfigure: vcsim appends every
// OptionValue, so setting a key twice gave two entries; here a key set again replaces its value (in place) and a key
// set to "" is removed.
func fixExtraConfig(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var fixed []types.BaseOptionValue
	changed := false
	simulator.Map.WithLock(vm, func() {
		if vm.Config == nil {
			return
		}
		idx := map[string]int{}
		for _, o := range vm.Config.ExtraConfig {
			ov := o.GetOptionValue()
			if i, seen := idx[ov.Key]; seen {
				fixed[i] = o
				changed = true
				continue
			}
			idx[ov.Key] = len(fixed)
			fixed = append(fixed, o)
		}
		out := fixed[:0]
		for _, o := range fixed {
			if s, isStr := o.GetOptionValue().Value.(string); isStr && s == "" {
				changed = true
				continue
			}
			out = append(out, o)
		}
		fixed = out
	})
	if changed {
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.extraConfig", Val: fixed}})
	}
}

// reload answers VirtualMachine.Reload: the VM is brought in line with its .vmx on disk. Returns the fault type, if any.
func (f *Front) reload(w http.ResponseWriter, body []byte) string {
	m := thisRe.FindSubmatch(body)
	if m == nil || string(m[1]) != "VirtualMachine" {
		soapFault(w, "A specified parameter was not correct: _this", "InvalidArgument", "")
		return "InvalidArgument"
	}
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: string(m[2])}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := hookClient(ctx)
	if c == nil {
		soapFault(w, "The test bed is not ready.", "SystemError", "")
		return "SystemError"
	}
	vm := object.NewVirtualMachine(c, ref)
	var mvm mo.VirtualMachine
	if err := vm.Properties(ctx, ref, []string{"config.files.vmPathName"}, &mvm); err != nil {
		soapFault(w, "The object '"+ref.Value+"' has already been deleted or has not been completely created", "ManagedObjectNotFound", "")
		return "ManagedObjectNotFound"
	}
	if err := syncFromVmx(ctx, c, f.St, vm, mvm.Config.Files.VmPathName); err != nil {
		soapFault(w, "Reload failed: "+err.Error(), "InvalidState", "")
		return "InvalidState"
	}
	soapOK(w, `<ReloadResponse xmlns="urn:vim25"></ReloadResponse>`)
	return ""
}
