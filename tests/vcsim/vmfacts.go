package main

// VM facts vCenter always reports and vcsim does not (see vmFacts).

import (
	"reflect"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vmFacts is a Registry handler (the hook ContainerViews and PropertyFilters use)
// that keeps two VM facts vCenter always reports and vcsim does not:
//   - runtime.consolidationNeeded: vcsim leaves it unset; vCenter says false.
//   - a controller's `device` list (keys of the devices attached to it): vcsim
//     only fills it when it picks the unit itself, so it is empty after a
//     reconfiguration (e.g. disks re-pointed to a new SCSI controller).
//   - extraConfig keys are unique: vcsim appends every option a ReconfigVM_Task
//     sends, so setting disk.EnableUUID twice leaves two entries; vCenter replaces
//     the value of an existing key and removes a key sent with an empty value.
//     Fixed when the reconfigure task completes. VirtualMachine objects cannot be
//     wrapped instead: vcsim's snapshot code type-asserts *simulator.VirtualMachine.
type vmFacts struct{}

func installVMFacts() { simulator.Map.AddHandler(vmFacts{}) }

func (vmFacts) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "HarnessVmFacts", Value: "harness-vm-facts"}
}

func (vmFacts) PutObject(obj mo.Reference) {
	if vm, ok := obj.(*simulator.VirtualMachine); ok && vm.Runtime.ConsolidationNeeded == nil {
		// NewVirtualMachine copies runtime into summary.runtime after Put
		vm.Runtime.ConsolidationNeeded = types.NewBool(false)
		vm.Summary.Runtime.ConsolidationNeeded = types.NewBool(false)
	}
}

func (vmFacts) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	if task, ok := obj.(*mo.Task); ok {
		dedupeExtraConfigAfter(task, changes)
		return
	}
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok || vm.Config == nil {
		return
	}
	for _, c := range changes {
		if c.Name == "config.hardware.device" {
			indexControllerDevices(vm.Config.Hardware.Device)
		}
	}
}

func (vmFacts) RemoveObject(types.ManagedObjectReference) {}

// indexControllerDevices sets each controller's device list, on a copy of the
// controller: vcsim gives every VM the same default device objects (IDE, PCI, PS2,
// SIO), so writing into them would change what every other VM reports.
func indexControllerDevices(devices []types.BaseVirtualDevice) {
	attached := map[int32][]int32{}
	for _, d := range devices {
		v := d.GetVirtualDevice()
		attached[v.ControllerKey] = append(attached[v.ControllerKey], v.Key)
	}
	for i, d := range devices {
		if _, ok := d.(types.BaseVirtualController); ok {
			own := copyDevice(d)
			vc := own.(types.BaseVirtualController).GetVirtualController()
			vc.Device = attached[vc.Key]
			devices[i] = own
		}
	}
}

// copyDevice returns a shallow copy of a device (a pointer to a new struct).
func copyDevice(d types.BaseVirtualDevice) types.BaseVirtualDevice {
	v := reflect.ValueOf(d)
	if v.Kind() != reflect.Ptr {
		return d
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c.Interface().(types.BaseVirtualDevice)
}

// dedupeExtraConfigAfter runs on the task's final update, inside the reconfigure
// call, which the simulator serves holding the VM's lock: the VM may be changed here.
func dedupeExtraConfigAfter(task *mo.Task, changes []types.PropertyChange) {
	done := false
	for _, c := range changes {
		done = done || (c.Name == "info.state" && c.Val == types.TaskInfoStateSuccess)
	}
	if !done || task.Info.DescriptionId != "VirtualMachine.reconfigVm" || task.Info.Entity == nil {
		return
	}
	vm, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachine)
	if !ok || vm.Config == nil {
		return
	}
	vm.Config.ExtraConfig = uniqueOptions(vm.Config.ExtraConfig)
}

// uniqueOptions keeps the last value of each key, in first-seen order, and drops
// keys whose last value is empty.
func uniqueOptions(options []types.BaseOptionValue) []types.BaseOptionValue {
	last := map[string]types.BaseOptionValue{}
	var order []string
	for _, o := range options {
		key := o.GetOptionValue().Key
		if _, seen := last[key]; !seen {
			order = append(order, key)
		}
		last[key] = o
	}
	var out []types.BaseOptionValue
	for _, key := range order {
		if v := last[key].GetOptionValue().Value; v == nil || v == "" {
			continue
		}
		out = append(out, last[key])
	}
	return out
}
