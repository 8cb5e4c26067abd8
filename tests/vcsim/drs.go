package main

// DRS and Storage DRS VM overrides: removing one failed against vcsim 0.24.
//
// A remove sends the VM in ArrayUpdateSpec.removeKey, an xsd:anyType. pyVmomi
// writes a managed object reference in an anyType as xsi:type="ManagedObject"
// (vCenter accepts both that and "ManagedObjectReference"); govmomi's type
// registry knows only "ManagedObjectReference", so the decoder dropped the value
// and removeKey arrived nil. vcsim's ClusterComputeResource then panicked in
// updateOverridesDRS (and updateOverridesDAS), and the Storage DRS override
// remove in extend.go answered InvalidArgument. Teaching the registry the alias
// fixes every anyType MoRef at once (removeKey of DRS, HA and Storage DRS VM
// overrides, MoRefs in OptionValue.value) without touching the simulator objects:
// wrapping ClusterComputeResource is not an option, because the simulator
// type-switches on *simulator.ClusterComputeResource (host_system.go, folder.go,
// environment_browser.go, search_index.go) and a wrapper would break them.

import (
	"reflect"

	"github.com/vmware/govmomi/vim25/types"
)

func installAnyTypeMoRefAlias() {
	types.Add("ManagedObject", reflect.TypeOf((*types.ManagedObjectReference)(nil)).Elem())
}
