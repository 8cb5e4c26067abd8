package main

// Method overrides registered with simulator.Map.Put (the pattern of govmomi's
// simulator/example_extend_test.go): each wrapper keeps the simulator object's
// MoRef, so clients see the same managed object with a fixed method. The wrappers
// live with their concern: inventory.go (SearchIndex, ViewManager), storagedrs.go
// (StorageResourceManager); vmfacts.go holds the Registry handler for VM facts.

import (
	"github.com/vmware/govmomi/simulator"
)

func installExtensions() {
	content := simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
	vm := simulator.Map.Get(content.ViewManager.Reference()).(*simulator.ViewManager)
	simulator.Map.Put(&viewManager{vm})
	srm := simulator.Map.Get(*content.StorageResourceManager).(*simulator.StorageResourceManager)
	simulator.Map.Put(&storageResourceManager{srm})
	index := simulator.Map.Get(content.SearchIndex.Reference()).(*simulator.SearchIndex)
	simulator.Map.Put(&searchIndex{index})
}
