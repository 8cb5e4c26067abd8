package main

// Lookups vCenter answers and vcsim 0.24 does not: FindAllByUuid, and container
// views that see the datastores inside a datastore cluster.

import (
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// searchIndex: vcsim 0.24 has FindByUuid but not FindAllByUuid, which clients use to
// see every VM that shares a BIOS uuid (template clones do) instead of one at random.
type searchIndex struct {
	*simulator.SearchIndex
}

func (s *searchIndex) FindAllByUuid(req *types.FindAllByUuid) soap.HasFault {
	body := &methods.FindAllByUuidBody{Res: new(types.FindAllByUuidResponse)}
	instance := req.InstanceUuid != nil && *req.InstanceUuid
	kind := "HostSystem"
	if req.VmSearch {
		kind = "VirtualMachine"
	}
	for _, e := range simulator.Map.All(kind) {
		if req.Datacenter != nil && !under(e, *req.Datacenter) {
			continue
		}
		var uuid string
		switch obj := e.(type) {
		case *simulator.VirtualMachine:
			if obj.Config == nil {
				continue
			}
			uuid = obj.Config.Uuid
			if instance {
				uuid = obj.Config.InstanceUuid
			}
		case *simulator.HostSystem:
			uuid = obj.Summary.Hardware.Uuid
		}
		if uuid != "" && strings.EqualFold(uuid, req.Uuid) {
			body.Res.Returnval = append(body.Res.Returnval, e.Reference())
		}
	}
	return body
}

func vimServiceInstance() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}
}

// viewManager: vcsim's ContainerView walks Folder children but not StoragePod
// children (a pod is a Folder subtype it does not recognise), so a recursive view
// of datastores misses every datastore inside a datastore cluster. vCenter lists them.
type viewManager struct {
	*simulator.ViewManager
}

func (m *viewManager) CreateContainerView(ctx *simulator.Context, req *types.CreateContainerView) soap.HasFault {
	res := m.ViewManager.CreateContainerView(ctx, req)
	body := res.(*methods.CreateContainerViewBody)
	if body.Res == nil || !req.Recursive || !wantsDatastores(req.Type) {
		return res
	}
	view, ok := ctx.Session.Get(body.Res.Returnval).(*simulator.ContainerView)
	if !ok {
		return res
	}
	seen := map[types.ManagedObjectReference]bool{}
	for _, ref := range view.View {
		seen[ref] = true
	}
	for _, e := range simulator.Map.All("StoragePod") {
		pod := e.(*simulator.StoragePod)
		if !under(pod, req.Container) {
			continue
		}
		for _, ds := range pod.ChildEntity {
			if !seen[ds] {
				seen[ds] = true
				view.View = append(view.View, ds)
			}
		}
	}
	return res
}

func wantsDatastores(kinds []string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if k == "Datastore" || k == "ManagedEntity" {
			return true
		}
	}
	return false
}

// under reports whether container is an ancestor of e (or e itself).
func under(e mo.Entity, container types.ManagedObjectReference) bool {
	for e != nil {
		if e.Reference() == container {
			return true
		}
		parent := e.Entity().Parent
		if parent == nil {
			return false
		}
		e, _ = simulator.Map.Get(*parent).(mo.Entity)
	}
	return false
}
