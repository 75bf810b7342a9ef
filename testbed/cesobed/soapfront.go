package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// Front wraps vcsim's handler: call log, faults, strictness of a real standalone host, datastore url rewrite.
type Front struct {
	St    *State
	Mux   http.Handler
	ready bool // false during setup: nothing is logged

	mu    sync.Mutex
	valid map[string]time.Time // session cookies known valid (short cache)
	users map[string]string    // session cookie -> the user that logged in with it (permissions.go)
}

type internalHandler struct{ f *Front }

func (h *internalHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.f.serve(w, r, true) }
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request)           { f.serve(w, r, false) }

// Methods that change nothing (everything else is a write: restricted by a free license, logged write:true).
var readOnly = map[string]bool{}

func init() {
	for _, m := range strings.Fields(`RetrieveServiceContent Login Logout SessionIsActive CurrentTime
		RetrieveProperties RetrievePropertiesEx ContinueRetrievePropertiesEx CancelRetrievePropertiesEx
		CreatePropertyCollector DestroyPropertyCollector CreateFilter DestroyPropertyFilter WaitForUpdates
		WaitForUpdatesEx CheckForUpdates CancelWaitForUpdates CreateContainerView CreateListView DestroyView
		SearchDatastore_Task SearchDatastoreSubFolders_Task QueryVirtualDiskUuid CreateCollectorForEvents
		ReadNextEvents ReadPreviousEvents DestroyCollector ResetCollector RewindCollector SetCollectorPageSize
		QueryEvents FindByUuid FindAllByUuid FindByDatastorePath FindByInventoryPath FindByIp FindByDnsName
		FindChild Fetch QueryOptions QueryAvailablePerfMetric QueryPerf QueryPerfProviderSummary ValidateCredentialsInGuest
		QueryConfigOption QueryConfigOptionDescriptor QueryConfigTarget QueryTargetCapabilities AcquireCloneTicket
		HasPrivilegeOnEntity HasPrivilegeOnEntities FetchUserPrivilegeOnEntities RetrieveUserGroups QueryVirtualDiskInfo_Task`) {
		readOnly[m] = true
	}
}

func soapMethod(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		t, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := t.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

// soapFault writes a SOAP fault the way hostd does (ServerFaultCode, detail element <Type>Fault xsi:type=Type).
func soapFault(w http.ResponseWriter, msg, typ, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" xsi:type="%s">%s</%sFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		xmlEsc(msg), typ, typ, inner, typ)
}

func xmlEsc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var faultTypeRe = regexp.MustCompile(`<detail>\s*<[^>]*xsi:type="([A-Za-z]+)"`)

// allocating methods fail with NoDiskSpace when their datastore is full.
var allocating = map[string]bool{"CreateVM_Task": true, "CreateVirtualDisk_Task": true, "CopyVirtualDisk_Task": true,
	"CopyDatastoreFile_Task": true, "ReconfigVM_Task": true, "ExtendVirtualDisk_Task": true, "RegisterVM_Task": false, "MoveVirtualDisk_Task": false}

func (f *Front) fullDatastore(faults Faults, body []byte, method string) string {
	if !allocating[method] {
		return ""
	}
	if method == "ReconfigVM_Task" && !bytes.Contains(body, []byte("<fileOperation>create</fileOperation>")) {
		return ""
	}
	for _, d := range f.St.Datastores {
		if faults.dsFull(d.Name) && (faults.DatastoreFull == "all" || bytes.Contains(body, []byte("["+d.Name+"]"))) {
			return d.Name
		}
	}
	return ""
}

func (f *Front) serve(w http.ResponseWriter, r *http.Request, internal bool) {
	dir := f.St.Dir
	faults := readFaults(dir)
	syncLicense(faults.Restricted)
	if strings.HasPrefix(r.URL.Path, "/folder") {
		f.serveFolder(w, r, internal, faults)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/sdk") || r.Method != http.MethodPost {
		f.Mux.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// VM ids at the edge: clients see hostd's plain numbers, vcsim inside keeps its vm-N (vmids.go).
	body = vmidsIn(body)
	r.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	f.serveSOAP(rec, r, body, internal, faults)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(vmidsOut(rec.Body.Bytes()))
}

// serveSOAP answers one SOAP request (body already read; VM ids in vcsim's form).
func (f *Front) serveSOAP(w http.ResponseWriter, r *http.Request, body []byte, internal bool, faults Faults) {
	dir := f.St.Dir
	method := soapMethod(body)
	c := Call{Channel: "soap", Kind: "method", Name: method, Write: !readOnly[method], Internal: internal}
	logIt := func(fault string) {
		if f.ready {
			c.Fault = fault
			logCall(dir, c)
		}
	}
	if !internal {
		sleepMs(faults.DelayMs)
		if f.ready && f.notAuthenticated(w, r, method, body) {
			if method == "CurrentTime" {
				logIt("")
			} else {
				logIt("NotAuthenticated")
			}
			return
		}
		c.User = f.sessionUser(r)
	}
	loginUser := ""
	if method == "Login" && !internal && f.ready {
		user, nb := f.login(w, r, body)
		if nb == nil {
			if user != "" {
				c.User = user
				logIt("InvalidLogin")
				return
			}
		} else {
			loginUser, body = user, nb
			r.ContentLength = int64(len(body))
		}
	}
	// A user other than root may write only what its role on the entity allows (permissions.go).
	if !internal && f.ready && c.User != "" && c.User != f.St.Username && c.Write {
		var this types.ManagedObjectReference
		if m := thisRe.FindSubmatch(body); m != nil {
			this = types.ManagedObjectReference{Type: string(m[1]), Value: string(m[2])}
		}
		entity := permissionEntity(f.St, this, body)
		if priv := denied(c.User, method, entity); priv != "" {
			noPermission(w, entity, priv)
			logIt("NoPermission")
			return
		}
	}
	if method == "SetEntityPermissions" && f.ready {
		logIt(setEntityPermissions(w, body))
		return
	}
	switch {
	case method == "CloneVM_Task":
		// A standalone host (hostd) has no clone: "The operation is not supported on the object."
		soapFault(w, "The operation is not supported on the object.", "NotSupported", "")
		logIt("NotSupported")
		return
	case !internal && faults.Restricted && c.Write:
		soapFault(w, "Current license or ESXi version prohibits execution of the requested operation.", "RestrictedVersion", "")
		logIt("RestrictedVersion")
		return
	case method == "CreateSnapshot_Task" && faults.SnapshotFailure:
		f.failedSnapshotTask(w, body)
		logIt("")
		return
	}
	if ds := f.fullDatastore(faults, body, method); ds != "" {
		soapFault(w, fmt.Sprintf("There is not enough space on the file system for the selected operation."), "NoDiskSpace",
			"<datastore>"+xmlEsc(ds)+"</datastore>")
		logIt("NoDiskSpace")
		return
	}
	if vdiskMethods[method] {
		if fault, ok := f.serveVdisk(w, method, body, faults); ok {
			logIt(fault)
			return
		}
	}
	if method == "UpdateRuleset" && f.ready {
		// vcsim has no HostFirewallSystem.UpdateRuleset (firewall.go)
		logIt(f.serveUpdateRuleset(w, body))
		return
	}
	if method == "Reload" && f.ready {
		// vcsim has no VirtualMachine.Reload; hostd re-reads the .vmx (as vim-cmd vmsvc/reload does).
		fault := f.reload(w, body)
		logIt(fault)
		return
	}
	if method == "RegisterVM_Task" && f.ready {
		body = f.beforeRegister(body)
		r.ContentLength = int64(len(body))
	}
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	if f.ready {
		// snapshot deltas, consolidation (with snapguard) and the lock table (disklocks.go)
		var this types.ManagedObjectReference
		if m := thisRe.FindSubmatch(body); m != nil {
			this = types.ManagedObjectReference{Type: string(m[1]), Value: string(m[2])}
		}
		func() {
			defer diskHook(f.St, method, this)()
			f.Mux.ServeHTTP(rec, r)
		}()
	} else {
		f.Mux.ServeHTTP(rec, r)
	}
	if method == "Login" && loginUser != "" && rec.Code == http.StatusOK {
		c.User = loginUser
		b := f.afterLogin(rec, loginUser)
		rec.Body.Reset()
		rec.Body.Write(b)
	}
	out := f.rewrite(rec.Body.Bytes())
	fault := ""
	if rec.Code == http.StatusInternalServerError {
		if m := faultTypeRe.FindSubmatch(out); m != nil {
			fault = string(m[1])
		} else {
			fault = "SystemError"
		}
	}
	if rec.Code == http.StatusOK && f.ready {
		switch {
		case method == "RegisterVM_Task":
			f.afterRegister(out)
		case method == "CreateVM_Task" || method == "ReconfigVM_Task":
			f.afterVMChange(method, body, out, internal)
		case method == "CreateUser" || method == "UpdateUser" || method == "RemoveUser":
			f.afterAccountChange(method, body)
		case method == "Logout":
			f.forgetSessions(r, false)
		case method == "TerminateSession":
			f.forgetSessions(r, true)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
	logIt(fault)
}

// rewrite shows datastore urls as a real host does: ds:///vmfs/volumes/<uuid>/ instead of the local directory.
func (f *Front) rewrite(b []byte) []byte {
	for _, d := range f.St.Datastores {
		ld := []byte(d.LocalDir)
		if !bytes.Contains(b, ld) {
			continue
		}
		u := "ds:///vmfs/volumes/" + d.UUID + "/"
		b = bytes.ReplaceAll(b, []byte(">"+d.LocalDir+"<"), []byte(">"+u+"<"))
		b = bytes.ReplaceAll(b, append(ld, '/'), []byte(u))
	}
	return b
}

// validCookie checks a vmware_soap_session cookie by asking vcsim (CurrentTime needs a session); cached 5 s.
func (f *Front) validCookie(r *http.Request) bool {
	ck, err := r.Cookie("vmware_soap_session")
	if err != nil || ck.Value == "" {
		return false
	}
	f.mu.Lock()
	if t, ok := f.valid[ck.Value]; ok && time.Since(t) < 5*time.Second {
		f.mu.Unlock()
		return true
	}
	f.mu.Unlock()
	body := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(body))
	req.Header.Set("Cookie", "vmware_soap_session="+ck.Value)
	rec := httptest.NewRecorder()
	f.Mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return false
	}
	f.mu.Lock()
	if f.valid == nil {
		f.valid = map[string]time.Time{}
	}
	f.valid[ck.Value] = time.Now()
	f.mu.Unlock()
	return true
}

func (f *Front) serveFolder(w http.ResponseWriter, r *http.Request, internal bool, faults Faults) {
	write := r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete
	c := Call{Channel: "http", Kind: "request", Name: r.Method + " " + r.URL.RequestURI(), Write: write, Internal: internal}
	defer func() {
		if f.ready {
			logCall(f.St.Dir, c)
		}
	}()
	if !internal {
		sleepMs(faults.DelayMs)
		if !f.validCookie(r) {
			c.Fault = "401"
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if user := f.sessionUser(r); user != "" && user != f.St.Username && write {
			c.User = user
			if ref, ok := datastoreRef(f.St, r.URL.Query().Get("dsName")); !ok || denied(user, "MakeDirectory", ref) != "" {
				c.Fault = "403"
				w.WriteHeader(http.StatusForbidden)
				return
			}
		}
		if faults.Restricted && write {
			c.Fault = "403"
			w.WriteHeader(http.StatusForbidden)
			return
		}
	}
	dsName := r.URL.Query().Get("dsName")
	if (r.Method == http.MethodPut || r.Method == http.MethodPost) && faults.dsFull(dsName) {
		c.Fault = "507"
		w.WriteHeader(http.StatusInsufficientStorage)
		return
	}
	// A file a running VM holds (its current disk extent; for writes also the read-only parents of its snapshot
	// chain): hostd answers 500 Internal Server Error, as for a file locked by another host (vmware/vic issue 6867:
	// `govc datastore.download` of a powered-on VM's file -> "500 Internal Server Error").
	if r.Method == http.MethodGet || r.Method == http.MethodHead || write {
		for _, d := range f.St.Datastores {
			if d.Name == dsName {
				p := filepath.Join(d.LocalDir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/folder/")))
				if fileLocked(f.St.Dir, p, r.Method != http.MethodGet && r.Method != http.MethodHead) {
					c.Fault = "500"
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(w, "Unable to access file [%s] %s since it is locked\n", dsName, strings.TrimPrefix(r.URL.Path, "/folder/"))
					return
				}
			}
		}
	}
	if r.Method == http.MethodDelete { // vcsim ignores DELETE; a real host deletes the file
		for _, d := range f.St.Datastores {
			if d.Name == dsName {
				p := strings.TrimPrefix(r.URL.Path, "/folder/")
				if err := os.Remove(d.LocalDir + "/" + p); err != nil {
					c.Fault = "404"
					w.WriteHeader(http.StatusNotFound)
					return
				}
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.Mux.ServeHTTP(w, r)
}
