package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Local users and permissions as hostd enforces them (SPEC.md "Users and permissions"). vcsim stores users
// (HostLocalAccountManager), roles and permissions (AuthorizationManager) but accepts any login it was configured for and
// checks nothing; here a created user logs in with its own password only, and a session of a user other than root may
// call a write method only when the role its nearest permission gives it (on the entity or, propagating, on an ancestor)
// holds the method's privilege; otherwise the call faults NoPermission with the object and the privilege id.

// privilegeOf: the write methods Ceso uses and the privilege hostd checks for each (vSphere "Required privileges" in the
// API reference of each method). A write method that is not listed needs the Admin role (privilegeId "System.Admin"
// in the fault: a marker of the test bed, hostd has no such privilege); reads (the readOnly set) need none.
var privilegeOf = map[string]string{
	"PowerOnVM_Task": "VirtualMachine.Interact.PowerOn", "PowerOffVM_Task": "VirtualMachine.Interact.PowerOff",
	"ShutdownGuest": "VirtualMachine.Interact.PowerOff", "ResetVM_Task": "VirtualMachine.Interact.Reset",
	"RebootGuest": "VirtualMachine.Interact.Reset", "SuspendVM_Task": "VirtualMachine.Interact.Suspend",
	"AnswerVM":        "VirtualMachine.Interact.AnswerQuestion",
	"ReconfigVM_Task": "VirtualMachine.Config.Settings", "Reload": "VirtualMachine.Config.ReloadFromPath",
	"CreateVM_Task": "VirtualMachine.Inventory.Create", "RegisterVM_Task": "VirtualMachine.Inventory.Register",
	"UnregisterVM": "VirtualMachine.Inventory.Unregister", "Destroy_Task": "VirtualMachine.Inventory.Delete",
	"CloneVM_Task":        "VirtualMachine.Provisioning.Clone",
	"CreateSnapshot_Task": "VirtualMachine.State.CreateSnapshot", "RemoveSnapshot_Task": "VirtualMachine.State.RemoveSnapshot",
	"RemoveAllSnapshots_Task": "VirtualMachine.State.RemoveSnapshot", "RevertToSnapshot_Task": "VirtualMachine.State.RevertToSnapshot",
	"RevertToCurrentSnapshot_Task": "VirtualMachine.State.RevertToSnapshot",
	"MakeDirectory":                "Datastore.FileManagement", "DeleteDatastoreFile_Task": "Datastore.FileManagement",
	"CopyDatastoreFile_Task": "Datastore.FileManagement", "MoveDatastoreFile_Task": "Datastore.FileManagement",
	"CreateVirtualDisk_Task": "Datastore.FileManagement", "CopyVirtualDisk_Task": "Datastore.FileManagement",
	"MoveVirtualDisk_Task": "Datastore.FileManagement", "DeleteVirtualDisk_Task": "Datastore.FileManagement",
	"ExtendVirtualDisk_Task": "Datastore.FileManagement",
	"CreateUser":             "Host.Local.ManageUserGroups", "UpdateUser": "Host.Local.ManageUserGroups", "RemoveUser": "Host.Local.ManageUserGroups",
	"SetEntityPermissions": "Authorization.ModifyPermissions", "RemoveEntityPermission": "Authorization.ModifyPermissions",
	"AddAuthorizationRole": "Authorization.ModifyRoles", "UpdateAuthorizationRole": "Authorization.ModifyRoles",
	"RemoveAuthorizationRole": "Authorization.ModifyRoles", "AddPortGroup": "Host.Config.Network",
}

var (
	authMgrRef = types.ManagedObjectReference{Type: "AuthorizationManager", Value: "ha-authmgr"}
	rootRef    = types.ManagedObjectReference{Type: "Folder", Value: "ha-folder-root"}
	dsNameRe   = regexp.MustCompile(`\[([^\]]+)\]`)
)

// accounts: the local users' passwords (SHA-256), in STATEDIR/accounts.json (0600), so every process of the test bed
// (serve, the tools) sees the same users. Root's password is the run's, in state.json.
var accountsMu sync.Mutex

func accountsFile(dir string) string { return filepath.Join(dir, "accounts.json") }

func readAccounts(dir string) map[string]string {
	m := map[string]string{}
	if b, err := ioutil.ReadFile(accountsFile(dir)); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func hashPassword(p string) string { s := sha256.Sum256([]byte(p)); return hex.EncodeToString(s[:]) }

func setAccount(dir, user string, password *string) {
	accountsMu.Lock()
	defer accountsMu.Unlock()
	m := readAccounts(dir)
	if password == nil {
		delete(m, user)
	} else {
		m[user] = hashPassword(*password)
	}
	b, _ := json.Marshal(m)
	tmp := accountsFile(dir) + ".tmp"
	if ioutil.WriteFile(tmp, b, 0600) == nil {
		_ = os.Rename(tmp, accountsFile(dir))
	}
}

func accountPassword(dir, user, password string) bool {
	accountsMu.Lock()
	defer accountsMu.Unlock()
	h, ok := readAccounts(dir)[user]
	return ok && h == hashPassword(password)
}

// sessionUser: the user a session cookie belongs to ("" = unknown: a session made before this front saw its Login,
// e.g. the tools' internal one, is root's).
func (f *Front) sessionUser(r *http.Request) string {
	ck, err := r.Cookie("vmware_soap_session")
	if err != nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[ck.Value]
}

func (f *Front) rememberUser(cookie, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users == nil {
		f.users = map[string]string{}
	}
	f.users[cookie] = user
}

func invalidLogin(w http.ResponseWriter) {
	soapFault(w, "Cannot complete login due to an incorrect user name or password.", "InvalidLogin", "")
}

// login answers Login: root goes to vcsim as before (which checks the run's password); a user created through
// HostLocalAccountManager.CreateUser (or `esxcli system account add`) logs in with its own password — vcsim knows only
// root, so the request is made as root and the session remembered as the user's (its UserSession shows the user's
// name); anyone else faults InvalidLogin. Returns the user the session belongs to, or "" when refused.
func (f *Front) login(w http.ResponseWriter, r *http.Request, body []byte) (string, []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return "", nil
	}
	req, ok := m.Body.(*types.Login)
	if !ok {
		return "", nil
	}
	user := req.UserName
	if user != f.St.Username {
		if !accountPassword(f.St.Dir, user, req.Password) {
			invalidLogin(w)
			return user, nil
		}
		body = []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">%s</_this><userName>%s</userName><password>%s</password></Login></soapenv:Body></soapenv:Envelope>`,
			xmlEsc(req.This.Value), xmlEsc(f.St.Username), xmlEsc(f.St.Password)))
	}
	return user, body
}

// afterLogin: remembers whose session the new cookie is and shows the user's name in the UserSession.
func (f *Front) afterLogin(rec *httptest.ResponseRecorder, user string) []byte {
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		if c.Name == "vmware_soap_session" {
			f.rememberUser(c.Value, user)
		}
	}
	out := rec.Body.Bytes()
	if user != f.St.Username {
		out = []byte(strings.Replace(string(out), "<userName>"+xmlEsc(f.St.Username)+"</userName>", "<userName>"+xmlEsc(user)+"</userName>", 1))
	}
	return out
}

// afterAccountChange keeps the passwords in line with a successful CreateUser / UpdateUser / RemoveUser.
func (f *Front) afterAccountChange(method string, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return
	}
	switch req := m.Body.(type) {
	case *types.CreateUser:
		s := req.User.GetHostAccountSpec()
		p := s.Password
		setAccount(f.St.Dir, s.Id, &p)
	case *types.UpdateUser:
		if s := req.User.GetHostAccountSpec(); s.Password != "" {
			p := s.Password
			setAccount(f.St.Dir, s.Id, &p)
		}
	case *types.RemoveUser:
		setAccount(f.St.Dir, req.UserName, nil)
	}
}

// permissionEntity: the entity a method's privilege is checked on — _this when it is an inventory entity, a snapshot's
// VM, else the datastore named in the request ("[ds] …", file and disk managers), else the root folder.
func permissionEntity(st *State, this types.ManagedObjectReference, body []byte) types.ManagedObjectReference {
	switch o := simulator.Map.Get(this).(type) {
	case *simulator.VirtualMachineSnapshot:
		return o.Vm
	case mo.Entity:
		return this
	}
	if m := dsNameRe.FindSubmatch(body); m != nil {
		if ref, ok := datastoreRef(st, string(m[1])); ok {
			return ref
		}
	}
	return rootRef
}

func datastoreRef(st *State, name string) (types.ManagedObjectReference, bool) {
	for _, d := range st.Datastores {
		if d.Name == name {
			ref := types.ManagedObjectReference{Type: "Datastore", Value: d.UUID}
			if simulator.Map.Get(ref) == nil && d.MoRef != "" {
				ref.Value = d.MoRef
			}
			return ref, simulator.Map.Get(ref) != nil
		}
	}
	return types.ManagedObjectReference{}, false
}

// entityPermissions: the permissions defined on one entity (not inherited), read from vcsim's AuthorizationManager.
func entityPermissions(ref types.ManagedObjectReference) []types.Permission {
	am, ok := simulator.Map.Get(authMgrRef).(*simulator.AuthorizationManager)
	if !ok {
		return nil
	}
	if _, isEntity := simulator.Map.Get(ref).(mo.Entity); !isEntity {
		return nil
	}
	var perms []types.Permission
	simulator.Map.WithLock(am, func() {
		if b, ok := am.RetrieveEntityPermissions(&types.RetrieveEntityPermissions{This: authMgrRef, Entity: ref}).(*methods.RetrieveEntityPermissionsBody); ok && b.Res != nil {
			perms = append(perms, b.Res.Returnval...)
		}
	})
	return perms
}

// effectiveRole: the role of the user's nearest permission on the entity or (propagating) an ancestor, as hostd
// resolves it (a permission on an entity overrides inherited ones, so NoAccess on a VM beats ReadOnly on the root).
func effectiveRole(user string, ref types.ManagedObjectReference) (int32, bool) {
	first := true
	for i := 0; i < 32; i++ {
		for _, p := range entityPermissions(ref) {
			if !p.Group && p.Principal == user && (first || p.Propagate) {
				return p.RoleId, true
			}
		}
		e, ok := simulator.Map.Get(ref).(mo.Entity)
		if !ok || e.Entity().Parent == nil {
			return 0, false
		}
		ref, first = *e.Entity().Parent, false
	}
	return 0, false
}

func roleHas(roleID int32, privilege string) bool {
	am, ok := simulator.Map.Get(authMgrRef).(*simulator.AuthorizationManager)
	if !ok {
		return false
	}
	has := false
	simulator.Map.WithLock(am, func() {
		for _, r := range am.RoleList {
			if r.RoleId != roleID {
				continue
			}
			if roleID == -1 { // Admin holds every privilege
				has = true
				return
			}
			for _, p := range r.Privilege {
				if p == privilege {
					has = true
					return
				}
			}
		}
	})
	return has
}

// denied: the privilege the user lacks for the method on the entity, or "" when the call may proceed.
func denied(user, method string, entity types.ManagedObjectReference) string {
	priv, listed := privilegeOf[method]
	if !listed {
		priv = "System.Admin"
	}
	role, ok := effectiveRole(user, entity)
	if !ok {
		return priv
	}
	if listed && roleHas(role, priv) || role == -1 {
		return ""
	}
	return priv
}

// noPermission writes hostd's fault for a call the session's user may not make.
func noPermission(w http.ResponseWriter, entity types.ManagedObjectReference, priv string) {
	soapFault(w, "Permission to perform this operation was denied.", "NoPermission",
		fmt.Sprintf(`<object type="%s">%s</object><privilegeId>%s</privilegeId>`, xmlEsc(entity.Type), xmlEsc(entity.Value), xmlEsc(priv)))
}

// setEntityPermissions answers SetEntityPermissions as hostd does: each permission is added, or replaces the one of
// the same principal on that entity (vcsim replaces every permission of the entity with the request's).
func setEntityPermissions(w http.ResponseWriter, body []byte) string {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		soapFault(w, "A specified parameter was not correct: permission", "InvalidArgument", "")
		return "InvalidArgument"
	}
	req, ok := m.Body.(*types.SetEntityPermissions)
	am, amOK := simulator.Map.Get(authMgrRef).(*simulator.AuthorizationManager)
	if !ok || !amOK {
		soapFault(w, "A specified parameter was not correct: permission", "InvalidArgument", "")
		return "InvalidArgument"
	}
	if _, isEntity := simulator.Map.Get(req.Entity).(mo.Entity); !isEntity {
		soapFault(w, "The object '"+req.Entity.Value+"' has already been deleted or has not been completely created", "ManagedObjectNotFound", "")
		return "ManagedObjectNotFound"
	}
	known := map[int32]bool{}
	simulator.Map.WithLock(am, func() {
		for _, r := range am.RoleList {
			known[r.RoleId] = true
		}
	})
	for _, p := range req.Permission {
		if !known[p.RoleId] {
			soapFault(w, "A specified parameter was not correct: roleId", "InvalidArgument", "<invalidProperty>roleId</invalidProperty>")
			return "InvalidArgument"
		}
	}
	merged := entityPermissions(req.Entity)
	for _, p := range req.Permission {
		e := req.Entity
		p.Entity = &e
		replaced := false
		for i := range merged {
			if merged[i].Principal == p.Principal && merged[i].Group == p.Group {
				merged[i], replaced = p, true
			}
		}
		if !replaced {
			merged = append(merged, p)
		}
	}
	simulator.Map.WithLock(am, func() {
		am.SetEntityPermissions(&types.SetEntityPermissions{This: authMgrRef, Entity: req.Entity, Permission: merged})
	})
	soapOK(w, `<SetEntityPermissionsResponse xmlns="urn:vim25"></SetEntityPermissionsResponse>`)
	return ""
}
