package main

// Users, roles and privilege queries, which vcsim 0.24 does not model: Login takes
// one user name (or any), and AuthorizationManager.HasPrivilegeOnEntities (and its
// siblings) answer "granted" for every privilege of every entity.
//
// 1. Two more users log in beside the -username user: -readonly-username/-readonly-password
//    (default readonly@vsphere.local / VMware1!) and -failback-username/-failback-password
//    (default asr-failback@vsphere.local / VMware1!). vcsim's Login compares the one user
//    of Service.Listen, so an HTTP handler serialises Login requests and, for one of these
//    users, puts that user there for the duration of the call: the session is a real one,
//    with that user name.
// 2. Permissions: at start, the -username user gets the Admin role and the read-only
//    user the ReadOnly role (System.Anonymous, System.View, System.Read), both on the
//    root folder with propagation, as vCenter stores them. The failback user has no
//    permission at start, like a new vCenter user: tests grant it roles of their own
//    (AddAuthorizationRole, then SetEntityPermissions) to model a least-privilege account.
//    HasPrivilegeOnEntities, HasPrivilegeOnEntity, HasUserPrivilegeOnEntities and
//    FetchUserPrivilegeOnEntities answer from them the way vCenter does: the permissions
//    of the user on the entity itself, else those inherited from the nearest ancestor
//    (inventory parent) that has a propagating one; a virtual machine inherits both from
//    its folder chain and from its resource pool chain, and the two are added ("If an
//    object inherits permissions from two parent objects, the permissions on one object
//    are added to the permissions on the other", vSphere Security, Multiple Permission
//    Settings). The answer is the union of those roles' privileges. Group permissions
//    are not evaluated. A sessionId other than the caller's own is refused with
//    InvalidArgument.
// 3. SetEntityPermissions adds or updates the rule of each given principal on the
//    entity, as the API reference says ("Defines one or more permission rules on an
//    entity or updates rules if already present for the given user or group"); vcsim
//    replaced every rule of the entity. An unknown role id is refused with NotFound, an
//    unknown entity with ManagedObjectNotFound. AddAuthorizationRole returns the new
//    role's id (vcsim returned 0 for every role).
// Only these queries look at the roles: the simulator does not refuse other calls
// of the read-only or failback user.

import (
	"flag"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	readonlyUsername = flag.String("readonly-username", "readonly@vsphere.local", "a second user, with the ReadOnly role on the root folder")
	readonlyPassword = flag.String("readonly-password", "VMware1!", "the read-only user's password")
	failbackUsername = flag.String("failback-username", "asr-failback@vsphere.local", "a third user, with no permission at start")
	failbackPassword = flag.String("failback-password", "VMware1!", "the failback user's password")
)

// authorizationManager embeds the simulator's object by value (see storage.go for why).
type authorizationManager struct {
	simulator.AuthorizationManager
}

// installPrivileges gives admin the Admin role and the read-only user the ReadOnly
// role on the root folder, and serves the privilege queries from the roles.
func installPrivileges(admin string) {
	content := simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
	am := simulator.Map.Get(content.AuthorizationManager.Reference()).(*simulator.AuthorizationManager)
	w := &authorizationManager{*am}
	root := content.RootFolder
	perms := w.permissionsOn(root)
	for _, p := range []struct {
		user string
		role string
	}{{admin, "Admin"}, {*readonlyUsername, "ReadOnly"}} {
		if id, ok := w.roleID(p.role); ok {
			perms = append(perms, types.Permission{Entity: &root, Principal: p.user, RoleId: id, Propagate: true})
		}
	}
	w.SetEntityPermissions(&types.SetEntityPermissions{This: w.Self, Entity: root, Permission: perms})
	simulator.Map.Put(w)
}

func (m *authorizationManager) roleID(name string) (int32, bool) {
	for _, r := range m.RoleList {
		if r.Name == name {
			return r.RoleId, true
		}
	}
	return 0, false
}

func (m *authorizationManager) permissionsOn(ref types.ManagedObjectReference) []types.Permission {
	res := m.RetrieveEntityPermissions(&types.RetrieveEntityPermissions{This: m.Self, Entity: ref})
	return res.(*methods.RetrieveEntityPermissionsBody).Res.Returnval
}

// granted is the set of privileges `user` holds on the entity `ref`: the roles of the
// user's permissions on the entity itself, else those inherited (see inherited) through
// each of its parents, added together.
func (m *authorizationManager) granted(user string, ref types.ManagedObjectReference) map[string]bool {
	out := map[string]bool{}
	e, _ := simulator.Map.Get(ref).(mo.Entity)
	if e == nil {
		return out
	}
	roles := m.userRoles(user, e.Reference(), false)
	if len(roles) == 0 {
		for _, parent := range inheritanceParents(e) {
			roles = append(roles, m.inherited(user, parent)...)
		}
	}
	for _, id := range roles {
		for _, r := range m.RoleList {
			if r.RoleId == id {
				for _, priv := range r.Privilege {
					out[priv] = true
				}
			}
		}
	}
	return out
}

// inheritanceParents are the entities an entity inherits permissions from: its
// inventory parent and, for a virtual machine, also its resource pool.
func inheritanceParents(e mo.Entity) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	if parent := e.Entity().Parent; parent != nil {
		out = append(out, *parent)
	}
	if vm, ok := e.(*simulator.VirtualMachine); ok && vm.ResourcePool != nil {
		out = append(out, *vm.ResourcePool)
	}
	return out
}

// inherited is the roles of the user's propagating permissions on the nearest entity,
// from ref up the inventory, that has any.
func (m *authorizationManager) inherited(user string, ref types.ManagedObjectReference) []int32 {
	e, _ := simulator.Map.Get(ref).(mo.Entity)
	for e != nil {
		if roles := m.userRoles(user, e.Reference(), true); len(roles) > 0 {
			return roles
		}
		parent := e.Entity().Parent
		if parent == nil {
			break
		}
		e, _ = simulator.Map.Get(*parent).(mo.Entity)
	}
	return nil
}

// userRoles is the roles of the user's own (not group) permissions on ref; with
// propagatingOnly, of those that propagate to children.
func (m *authorizationManager) userRoles(user string, ref types.ManagedObjectReference, propagatingOnly bool) []int32 {
	var roles []int32
	for _, p := range m.permissionsOn(ref) {
		if !p.Group && strings.EqualFold(p.Principal, user) && (p.Propagate || !propagatingOnly) {
			roles = append(roles, p.RoleId)
		}
	}
	return roles
}

// SetEntityPermissions adds each given rule, or replaces the rule the entity has for
// that principal (see the top of this file).
func (m *authorizationManager) SetEntityPermissions(req *types.SetEntityPermissions) soap.HasFault {
	body := &methods.SetEntityPermissionsBody{}
	if _, ok := simulator.Map.Get(req.Entity).(mo.Entity); !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.Entity})
		return body
	}
	entity := req.Entity
	perms := append([]types.Permission{}, m.permissionsOn(entity)...)
	for _, p := range req.Permission {
		if !m.roleExists(p.RoleId) {
			body.Fault_ = simulator.Fault("role "+strconv.Itoa(int(p.RoleId))+" not found", &types.NotFound{})
			return body
		}
		p.Entity = &entity
		replaced := false
		for i := range perms {
			if perms[i].Group == p.Group && strings.EqualFold(perms[i].Principal, p.Principal) {
				perms[i], replaced = p, true
			}
		}
		if !replaced {
			perms = append(perms, p)
		}
	}
	return m.AuthorizationManager.SetEntityPermissions(&types.SetEntityPermissions{This: req.This, Entity: entity, Permission: perms})
}

func (m *authorizationManager) roleExists(id int32) bool {
	for _, r := range m.RoleList {
		if r.RoleId == id {
			return true
		}
	}
	return false
}

// AddAuthorizationRole returns the new role's id, as vCenter does.
func (m *authorizationManager) AddAuthorizationRole(req *types.AddAuthorizationRole) soap.HasFault {
	body := m.AuthorizationManager.AddAuthorizationRole(req).(*methods.AddAuthorizationRoleBody)
	if body.Res != nil {
		body.Res.Returnval, _ = m.roleID(req.Name)
	}
	return body
}

func (m *authorizationManager) availability(user string, entities []types.ManagedObjectReference, ids []string) []types.EntityPrivilege {
	var out []types.EntityPrivilege
	for _, ref := range entities {
		have := m.granted(user, ref)
		item := types.EntityPrivilege{Entity: ref}
		for _, id := range ids {
			item.PrivAvailability = append(item.PrivAvailability, types.PrivilegeAvailability{PrivId: id, IsGranted: have[id]})
		}
		out = append(out, item)
	}
	return out
}

func sessionUser(ctx *simulator.Context, id string) (string, *soap.Fault) {
	if ctx.Session == nil || ctx.Session.Key != id {
		return "", simulator.Fault("sessionId is not the caller's session", &types.InvalidArgument{InvalidProperty: "sessionId"})
	}
	return ctx.Session.UserName, nil
}

func (m *authorizationManager) HasPrivilegeOnEntities(ctx *simulator.Context, req *types.HasPrivilegeOnEntities) soap.HasFault {
	body := &methods.HasPrivilegeOnEntitiesBody{}
	user, fault := sessionUser(ctx, req.SessionId)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.HasPrivilegeOnEntitiesResponse{Returnval: m.availability(user, req.Entity, req.PrivId)}
	return body
}

func (m *authorizationManager) HasPrivilegeOnEntity(ctx *simulator.Context, req *types.HasPrivilegeOnEntity) soap.HasFault {
	body := &methods.HasPrivilegeOnEntityBody{}
	user, fault := sessionUser(ctx, req.SessionId)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	have := m.granted(user, req.Entity)
	res := make([]bool, len(req.PrivId))
	for i, id := range req.PrivId {
		res[i] = have[id]
	}
	body.Res = &types.HasPrivilegeOnEntityResponse{Returnval: res}
	return body
}

func (m *authorizationManager) HasUserPrivilegeOnEntities(req *types.HasUserPrivilegeOnEntities) soap.HasFault {
	return &methods.HasUserPrivilegeOnEntitiesBody{
		Res: &types.HasUserPrivilegeOnEntitiesResponse{Returnval: m.availability(req.UserName, req.Entities, req.PrivId)},
	}
}

func (m *authorizationManager) FetchUserPrivilegeOnEntities(req *types.FetchUserPrivilegeOnEntities) soap.HasFault {
	var out []types.UserPrivilegeResult
	for _, ref := range req.Entities {
		item := types.UserPrivilegeResult{Entity: ref}
		for id := range m.granted(req.UserName, ref) {
			item.Privileges = append(item.Privileges, id)
		}
		out = append(out, item)
	}
	return &methods.FetchUserPrivilegeOnEntitiesBody{Res: &types.FetchUserPrivilegeOnEntitiesResponse{Returnval: out}}
}

var (
	loginRequest  = regexp.MustCompile(`<(\w+:)?Login[\s>]`)
	loginUserName = regexp.MustCompile(`<(\w+:)?userName(\s[^>]*)?>([^<]*)</`)
)

// withReadOnlyLogin lets the read-only and the failback users log in (see the top of this file).
func withReadOnlyLogin(svc *simulator.Service, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		if !loginRequest.Match(body) {
			next.ServeHTTP(w, r)
			return
		}
		// Every Login passes here one at a time: Listen.User is read only by Login.
		mu.Lock()
		defer mu.Unlock()
		extra := map[string]string{*readonlyUsername: *readonlyPassword, *failbackUsername: *failbackPassword}
		match := loginUserName.FindSubmatch(body)
		if match == nil || svc.Listen == nil {
			next.ServeHTTP(w, r)
			return
		}
		password, known := extra[string(match[3])]
		if !known {
			next.ServeHTTP(w, r)
			return
		}
		saved := svc.Listen.User
		svc.Listen.User = url.UserPassword(string(match[3]), password)
		defer func() { svc.Listen.User = saved }()
		next.ServeHTTP(w, r)
	})
}
