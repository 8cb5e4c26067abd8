package main

// A vCenter task fault on demand: ReconfigVM_Task tasks that end in error.
//
// vcsim 0.24 only faults a reconfigure for the few specs it rejects itself, and then
// with the Go type name as the task's localized message ("*types.InvalidArgument").
// vCenter faults a reconfigure for many reasons the simulator cannot produce (a file
// lock, a full datastore, a host that stops answering), and the modules must report
// such a task fault clearly and leave nothing half-changed. Here a test makes every
// reconfigure of one VM fail by setting that VM's extraConfig
// "harness.reconfigureFault":
//   <message>          every ReconfigVM_Task of the VM ends in error
//   devices:<message>  only those whose spec has a deviceChange (adding, editing or
//                      removing a device) do; extraConfig-only changes succeed
// The task is created and ends in state "error" with a GenericVmConfigFault whose
// reason and localized message are <message>, and the VM is left exactly as it was
// (vCenter applies a reconfigure whole or not at all). A reconfigure whose spec sets a
// "harness." key (setting or clearing the knob itself) is always applied, so
// a test removes the knob by setting it to "" and the next run succeeds.
// The VM object cannot be wrapped (vcsim's snapshot code type-asserts
// *simulator.VirtualMachine), so, as guestshutdown.go does, the HTTP layer points
// ReconfigVM_Task of a VM that has the knob at a per-VM stand-in of type
// HarnessReconfigureFault; the stand-in faults the task or calls vcsim's own
// ReconfigVMTask under the VM's lock.

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	reconfigureFaultKey  = "harness.reconfigureFault"
	reconfigureFaultType = "HarnessReconfigureFault"
)

// reconfigureFault stands in for one VM for ReconfigVM_Task. Its first field is a mo
// type, which the simulator's reflection looks for.
type reconfigureFault struct {
	mo.ExtensibleManagedObject
	vm types.ManagedObjectReference
}

func (f *reconfigureFault) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	vm, ok := simulator.Map.Get(f.vm).(*simulator.VirtualMachine)
	if !ok {
		return &methods.ReconfigVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: f.vm})}
	}
	req.This = f.vm
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() {
		message, faults := reconfigureFaultFor(vm, &req.Spec)
		if !faults {
			res = vm.ReconfigVMTask(ctx, req)
			return
		}
		res = &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: failedTask(vm, message)}}
	})
	return res
}

// failedTask records a reconfigure task of the VM that ran and ended in error, with a
// localized message as vCenter writes one (vcsim's Task.Run would write the Go type).
func failedTask(vm *simulator.VirtualMachine, message string) types.ManagedObjectReference {
	task := simulator.CreateTask(vm.Reference(), "reconfigVm", nil)
	task.Info.EntityName = vm.Name
	start := time.Now()
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: start},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	fault := &types.GenericVmConfigFault{Reason: message}
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateError},
		{Name: "info.error", Val: types.LocalizedMethodFault{Fault: fault, LocalizedMessage: message}},
	})
	return task.Self
}

// reconfigureFaultFor says whether this reconfigure of vm must fault, and with what message.
func reconfigureFaultFor(vm *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec) (string, bool) {
	value := knobValue(vm)
	if value == "" {
		return "", false
	}
	for _, o := range spec.ExtraConfig {
		if strings.HasPrefix(o.GetOptionValue().Key, "harness.") {
			return "", false // a test changing the harness knobs themselves
		}
	}
	if strings.HasPrefix(value, "devices:") {
		if len(spec.DeviceChange) == 0 {
			return "", false
		}
		value = strings.TrimPrefix(value, "devices:")
	}
	return value, true
}

// knobValue is the VM's harness.reconfigureFault (the last value, should the key appear twice).
func knobValue(vm *simulator.VirtualMachine) string {
	value := ""
	if vm.Config != nil {
		for _, o := range vm.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov.Key == reconfigureFaultKey {
				value, _ = ov.Value.(string)
			}
		}
	}
	return value
}

// reconfigureCall finds the _this of a ReconfigVM_Task request.
var reconfigureCall = regexp.MustCompile(`<(?:\w+:)?ReconfigVM_Task[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

func withReconfigureFault(next http.Handler) http.Handler {
	armed := func(vm *simulator.VirtualMachine) bool {
		knob := ""
		simulator.Map.WithLock(vm, func() { knob = knobValue(vm) })
		return knob != ""
	}
	return withVMStandIn(next, reconfigureCall, reconfigureFaultType, armed, func(self, vm types.ManagedObjectReference) mo.Reference {
		return &reconfigureFault{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: self}, vm: vm}
	})
}
