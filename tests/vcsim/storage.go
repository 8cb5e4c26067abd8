package main

// HostStorageSystem.MountVmfsVolume and UnmountVmfsVolume, which vcsim 0.24 does
// not implement (it answers MethodNotFound). They change the calling host's
// DatastoreHostMount of the VMFS datastore with that uuid, and the datastore's
// summary.accessible, the way vCenter reports a mount or an unmount.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// installStorageSystems wraps the storage system of every host. It needs only the
// hosts (made by model.Create); the datastores are looked up at call time.
func installStorageSystems() {
	for _, e := range simulator.Map.All("HostSystem") {
		host := e.(*simulator.HostSystem)
		if host.ConfigManager.StorageSystem == nil {
			continue
		}
		if s, ok := simulator.Map.Get(*host.ConfigManager.StorageSystem).(*simulator.HostStorageSystem); ok {
			simulator.Map.Put(&hostStorageSystem{*s})
		}
	}
}

// hostStorageSystem embeds the simulator's object BY VALUE: the PropertyCollector
// finds the mo type by following first fields, and cannot follow a pointer. The
// copy shares everything that matters (Host and StorageDeviceInfo are pointers) and
// keeps the same MoRef, so clients see the same managed object.
type hostStorageSystem struct {
	simulator.HostStorageSystem
}

func (s *hostStorageSystem) MountVmfsVolume(req *types.MountVmfsVolume) soap.HasFault {
	body := &methods.MountVmfsVolumeBody{}
	if fault, msg := setVmfsMounted(s.Host.Self, req.VmfsUuid, true); fault != nil {
		body.Fault_ = simulator.Fault(msg, fault)
		return body
	}
	body.Res = &types.MountVmfsVolumeResponse{}
	return body
}

func (s *hostStorageSystem) UnmountVmfsVolume(req *types.UnmountVmfsVolume) soap.HasFault {
	body := &methods.UnmountVmfsVolumeBody{}
	if fault, msg := setVmfsMounted(s.Host.Self, req.VmfsUuid, false); fault != nil {
		body.Fault_ = simulator.Fault(msg, fault)
		return body
	}
	body.Res = &types.UnmountVmfsVolumeResponse{}
	return body
}

// setVmfsMounted faults like ESXi: NotFound when the host sees no VMFS volume with
// that uuid, InvalidState when it is already (un)mounted, ResourceInUse when
// unmounting a volume that holds a VM registered on this host.
func setVmfsMounted(host types.ManagedObjectReference, uuid string, mount bool) (types.BaseMethodFault, string) {
	notFound := "No VMFS volume with uuid " + uuid + " is visible to this host."
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		info, ok := ds.Info.(*types.VmfsDatastoreInfo)
		if !ok || info.Vmfs == nil || info.Vmfs.Uuid != uuid {
			continue
		}
		var fault types.BaseMethodFault = &types.NotFound{}
		msg := notFound
		simulator.Map.WithLock(ds, func() {
			for i, m := range ds.Host {
				if m.Key != host {
					continue
				}
				if m.MountInfo.Mounted != nil && *m.MountInfo.Mounted == mount {
					fault = &types.InvalidState{}
					msg = "The VMFS volume " + ds.Name + " is already in that mount state on this host."
					return
				}
				if !mount && hasVMOnHost(ds, host) {
					fault = &types.ResourceInUse{Type: "Datastore", Name: ds.Name}
					msg = "The VMFS volume " + ds.Name + " holds a virtual machine registered on this host."
					return
				}
				mounts := append([]types.DatastoreHostMount(nil), ds.Host...)
				mounts[i].MountInfo.Mounted = types.NewBool(mount)
				mounts[i].MountInfo.Accessible = types.NewBool(mount)
				summary := ds.Summary
				summary.Accessible = false
				for _, o := range mounts {
					summary.Accessible = summary.Accessible || (o.MountInfo.Accessible != nil && *o.MountInfo.Accessible)
				}
				// Update (not a plain assignment) so WaitForUpdates clients hear of it
				simulator.Map.Update(ds, []types.PropertyChange{{Name: "host", Val: mounts}, {Name: "summary", Val: summary}})
				fault, msg = nil, ""
				return
			}
		})
		return fault, msg
	}
	return &types.NotFound{}, notFound
}

func hasVMOnHost(ds *simulator.Datastore, host types.ManagedObjectReference) bool {
	for _, ref := range ds.Vm {
		if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok && vm.Runtime.Host != nil && *vm.Runtime.Host == host {
			return true
		}
	}
	return false
}
