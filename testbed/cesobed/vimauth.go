package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Local users and permissions over SSH, as far as Ceso uses them (SPEC.md "Users and permissions"):
//   vim-cmd vimsvc/auth/roles | role_add NAME PRIV… | entity_permissions ENTITY |
//           entity_permission_add ENTITY PRINCIPAL ISGROUP ROLE PROPAGATE | entity_permission_remove ENTITY PRINCIPAL ISGROUP
//   esxcli system account add -i ID -p PW -c PW [-d DESC] | esxcli system account remove -i ID
// ENTITY is vim-cmd's `vim.Folder:ha-folder-root` / `vim.VirtualMachine:9`. Argument order of entity_permission_add as
// in VMware KB 1016690-style recipes (`vim-cmd vimsvc/auth/entity_permission_add vim.Folder:ha-folder-root user false
// Admin true`); no capture of real output was found, so they print nothing on success and a fault dump on failure.

func parseEntity(s string) (types.ManagedObjectReference, error) {
	i := strings.Index(s, ":")
	if !strings.HasPrefix(s, "vim.") || i < 0 {
		return types.ManagedObjectReference{}, fmt.Errorf("Invalid entity: %s (vim.Type:id)", s)
	}
	typ, id := s[4:i], s[i+1:]
	if typ == "VirtualMachine" {
		return vmRef(id), nil
	}
	return types.ManagedObjectReference{Type: typ, Value: id}, nil
}

func (t *Tool) roles(ctx context.Context) ([]types.AuthorizationRole, error) {
	var am mo.AuthorizationManager
	if err := t.pc().RetrieveOne(ctx, authMgrRef, []string{"roleList"}, &am); err != nil {
		return nil, err
	}
	return am.RoleList, nil
}

func (t *Tool) auth(ctx context.Context, c *vim25.Client, cmd string, a []string) error {
	switch cmd {
	case "vimsvc/auth/roles":
		rs, err := t.roles(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(t.out, vmodlDump(rs))
		return nil
	case "vimsvc/auth/role_add":
		if len(a) < 1 {
			return fmt.Errorf("Insufficient arguments.\nUsage: role_add name [privileges…]")
		}
		_, err := methods.AddAuthorizationRole(ctx, c, &types.AddAuthorizationRole{This: authMgrRef, Name: a[0], PrivIds: a[1:]})
		return err
	case "vimsvc/auth/entity_permissions":
		if len(a) < 1 {
			return fmt.Errorf("Insufficient arguments.\nUsage: entity_permissions entity")
		}
		e, err := parseEntity(a[0])
		if err != nil {
			return err
		}
		r, err := methods.RetrieveEntityPermissions(ctx, c, &types.RetrieveEntityPermissions{This: authMgrRef, Entity: e})
		if err != nil {
			return err
		}
		fmt.Fprintln(t.out, vmodlDump(r.Returnval))
		return nil
	case "vimsvc/auth/entity_permission_add":
		if len(a) < 5 {
			return fmt.Errorf("Insufficient arguments.\nUsage: entity_permission_add entity principal isGroup role propagate")
		}
		e, err := parseEntity(a[0])
		if err != nil {
			return err
		}
		rs, err := t.roles(ctx)
		if err != nil {
			return err
		}
		var id *int32
		for i := range rs {
			if rs[i].Name == a[3] {
				id = &rs[i].RoleId
			}
		}
		if id == nil {
			return fmt.Errorf("Invalid role: %s", a[3])
		}
		// vcsim's SetEntityPermissions replaces every permission of the entity: merge, as hostd does.
		cur, err := methods.RetrieveEntityPermissions(ctx, c, &types.RetrieveEntityPermissions{This: authMgrRef, Entity: e})
		if err != nil {
			return err
		}
		p := types.Permission{Entity: &e, Principal: a[1], Group: a[2] == "true", RoleId: *id, Propagate: a[4] == "true"}
		merged := []types.Permission{p}
		for _, q := range cur.Returnval {
			if q.Principal != p.Principal || q.Group != p.Group {
				merged = append(merged, q)
			}
		}
		_, err = methods.SetEntityPermissions(ctx, c, &types.SetEntityPermissions{This: authMgrRef, Entity: e, Permission: merged})
		return err
	case "vimsvc/auth/entity_permission_remove":
		if len(a) < 3 {
			return fmt.Errorf("Insufficient arguments.\nUsage: entity_permission_remove entity principal isGroup")
		}
		e, err := parseEntity(a[0])
		if err != nil {
			return err
		}
		_, err = methods.RemoveEntityPermission(ctx, c, &types.RemoveEntityPermission{This: authMgrRef, Entity: e, User: a[1], IsGroup: a[2] == "true"})
		return err
	}
	return fmt.Errorf("Unknown command: '%s'", cmd)
}

// esxcliAccount: `esxcli system account add|remove`; ok=false when args are not an account command.
func (t *Tool) esxcliAccount(ctx context.Context, c *vim25.Client, args []string) (bool, error) {
	if len(args) < 3 || args[0] != "system" || args[1] != "account" {
		return false, nil
	}
	opts := map[string]string{}
	for i := 3; i+1 < len(args); i += 2 {
		k := strings.TrimLeft(args[i], "-")
		switch k {
		case "i":
			k = "id"
		case "p":
			k = "password"
		case "c":
			k = "password-confirmation"
		case "d":
			k = "description"
		}
		opts[k] = args[i+1]
	}
	if opts["id"] == "" {
		return true, fmt.Errorf("Error: Missing required parameter -i|--id")
	}
	switch args[2] {
	case "add":
		if opts["password"] != opts["password-confirmation"] {
			return true, fmt.Errorf("Password and confirmation do not match")
		}
		spec := &types.HostPosixAccountSpec{HostAccountSpec: types.HostAccountSpec{Id: opts["id"], Password: opts["password"], Description: opts["description"]}}
		if _, err := methods.CreateUser(ctx, c, &types.CreateUser{This: *esxAccountManager(), User: spec}); err != nil {
			return true, err
		}
		p := opts["password"]
		setAccount(t.St.Dir, opts["id"], &p)
		return true, nil
	case "remove":
		if _, err := methods.RemoveUser(ctx, c, &types.RemoveUser{This: *esxAccountManager(), UserName: opts["id"]}); err != nil {
			return true, err
		}
		setAccount(t.St.Dir, opts["id"], nil)
		return true, nil
	}
	return true, fmt.Errorf("Error: Unknown command or namespace system account %s", args[2])
}

func esxAccountManager() *types.ManagedObjectReference {
	return &types.ManagedObjectReference{Type: "HostLocalAccountManager", Value: "ha-localacctmgr"}
}
