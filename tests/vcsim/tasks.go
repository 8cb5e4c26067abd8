package main

// Tasks the way vCenter keeps them: on their entity's recentTask, and long ones that run.
//
// 1. ManagedEntity.recentTask. vCenter lists the queued, running and recently completed
//    tasks of an entity on the entity itself ("a subset of TaskManager.recentTask belonging
//    to this entity"); vcsim 0.24 fills only TaskManager.recentTask and leaves every VM's
//    recentTask empty. Here a Registry handler adds each task whose entity is a
//    VirtualMachine to that VM's recentTask when the task is created (inside the call that
//    creates it, which the simulator serves holding the VM's lock), keeping the last 200 as
//    vcsim does for TaskManager.recentTask (vCenter also drops completed tasks after about
//    10 minutes; the harness keeps them).
//
// 2. Long tasks. Every vcsim task completes inside the call that starts it, so a client
//    never sees a task running, and nothing can test a module whose wait ends before a long
//    vCenter task does (removing the snapshots of a VM with a terabyte of deltas, creating an
//    eager-zeroed terabyte disk). Here a VM's extraConfig "harness.taskDelay" = <seconds>
//    makes its ReconfigVM_Task and RemoveAllSnapshots_Task return a task that stays
//    "running" for that long, its info.progress growing from 1 to 99, and then does the work
//    (vcsim's own method, or the task fault of harness.reconfigureFault, faults.go) and ends
//    as that work ended. The VM is unchanged until then, as vCenter applies a reconfigure
//    whole. Meanwhile another ReconfigVM_Task or RemoveAllSnapshots_Task of that VM faults
//    TaskInProgress ("Another task is already in progress."), as vCenter refuses a second
//    operation on a VM busy with one; other methods are not refused (a gap, not a leniency
//    any module relies on). The delayed task carries vCenter's descriptionId
//    ("VirtualMachine.reconfigure", "VirtualMachine.removeAllSnapshots", the keys of
//    vCenter's TaskManager.description.methodInfo); vcsim's own tasks keep vcsim's
//    ("VirtualMachine.reconfigVm", "VirtualMachine.RemoveAllSnapshots"), which disks.go,
//    vmfacts.go and tools.go key on. The task vcsim's method creates for the work at the end
//    is dropped from TaskManager.recentTask and the VM's recentTask, so a client sees one
//    task per call, as in vCenter. A reconfigure that sets a "harness." key is applied at
//    once, so tests change or clear the knob freely.
//    As in guestshutdown.go, the VM object cannot be wrapped (vcsim's snapshot code
//    type-asserts *simulator.VirtualMachine): the HTTP layer points those two calls of a VM
//    that has the knob, or a delayed task running, at a per-VM stand-in of type
//    HarnessTaskDelay.

import (
	"log"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	taskDelayKey  = "harness.taskDelay"
	taskDelayType = "HarnessTaskDelay"
	recentTaskMax = 200 // as vcsim's TaskManager.recentTask
)

// ---- recentTask on the VM -----------------------------------------------------------------

type entityTasks struct{}

func installEntityTasks() { simulator.Map.AddHandler(entityTasks{}) }

func (entityTasks) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "HarnessEntityTasks", Value: "harness-entity-tasks"}
}

// PutObject runs inside CreateTask, in the call that creates the task, which holds the VM's lock.
func (entityTasks) PutObject(obj mo.Reference) {
	task, ok := obj.(*simulator.Task)
	if !ok || task.Info.Entity == nil {
		return
	}
	vm, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	recent := append(append([]types.ManagedObjectReference{}, vm.RecentTask...), task.Self)
	if len(recent) > recentTaskMax {
		recent = recent[len(recent)-recentTaskMax:]
	}
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "recentTask", Val: recent}})
}

func (entityTasks) RemoveObject(types.ManagedObjectReference) {}

func (entityTasks) UpdateObject(mo.Reference, []types.PropertyChange) {}

// forgetTask drops a task from the VM's and TaskManager's recentTask and from the
// registry; the caller holds the VM's lock.
func forgetTask(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) {
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "recentTask", Val: without(vm.RecentTask, ref)}})
	if tm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "TaskManager", Value: "TaskManager"}).(*simulator.TaskManager); ok {
		simulator.Map.WithLock(tm, func() {
			simulator.Map.Update(tm, []types.PropertyChange{{Name: "recentTask", Val: without(tm.RecentTask, ref)}})
		})
	}
	simulator.Map.Remove(ref)
}

func without(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	out := []types.ManagedObjectReference{}
	for _, r := range refs {
		if r != ref {
			out = append(out, r)
		}
	}
	return out
}

// ---- harness.taskDelay ----------------------------------------------------------------------

// taskDelay stands in for one VM for ReconfigVM_Task and RemoveAllSnapshots_Task. Its first
// field is a mo type, which the simulator's reflection looks for.
type taskDelay struct {
	mo.ExtensibleManagedObject
	vm types.ManagedObjectReference
}

// busy holds the delayed task running on each VM, read and written under the VM's lock.
var busy = struct {
	sync.Mutex
	byVM map[types.ManagedObjectReference]types.ManagedObjectReference
}{byVM: map[types.ManagedObjectReference]types.ManagedObjectReference{}}

func runningTask(vm types.ManagedObjectReference) (types.ManagedObjectReference, bool) {
	busy.Lock()
	defer busy.Unlock()
	task, ok := busy.byVM[vm]
	return task, ok
}

func setRunning(vm types.ManagedObjectReference, task *types.ManagedObjectReference) {
	busy.Lock()
	defer busy.Unlock()
	if task == nil {
		delete(busy.byVM, vm)
	} else {
		busy.byVM[vm] = *task
	}
}

// delayOf reads harness.taskDelay (seconds); zero when unset or not a positive number.
func delayOf(vm *simulator.VirtualMachine) time.Duration {
	value := extraConfigValue(&vm.VirtualMachine, taskDelayKey)
	if value == "" {
		return 0
	}
	seconds, err := strconv.ParseFloat(value, 64)
	if err != nil || seconds <= 0 {
		log.Printf("%s=%q on %s is not a positive number of seconds: ignored", taskDelayKey, value, vm.Name)
		return 0
	}
	return time.Duration(seconds * float64(time.Second))
}

func setsHarnessKey(spec *types.VirtualMachineConfigSpec) bool {
	for _, o := range spec.ExtraConfig {
		if strings.HasPrefix(o.GetOptionValue().Key, "harness.") {
			return true
		}
	}
	return false
}

// plan says, under the VM's lock, what a call does: fault TaskInProgress (busyWith set),
// start a delayed task (delay > 0), or neither (the call is served at once).
func plan(vm *simulator.VirtualMachine, immediate bool) (busyWith *types.ManagedObjectReference, delay time.Duration) {
	if immediate {
		return nil, 0
	}
	if task, ok := runningTask(vm.Self); ok {
		return &task, 0
	}
	return nil, delayOf(vm)
}

func inProgress(task types.ManagedObjectReference) *soap.Fault {
	return simulator.Fault("Another task is already in progress.", &types.TaskInProgress{Task: task})
}

func (d *taskDelay) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	vm, ok := simulator.Map.Get(d.vm).(*simulator.VirtualMachine)
	if !ok {
		return &methods.ReconfigVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: d.vm})}
	}
	req.This = d.vm
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() {
		switch busyWith, delay := plan(vm, setsHarnessKey(&req.Spec)); {
		case busyWith != nil:
			res = &methods.ReconfigVM_TaskBody{Fault_: inProgress(*busyWith)}
		case delay > 0:
			task := startDelayed(vm, "reconfigure", "ReconfigVM_Task", delay, func() (types.BaseMethodFault, string) {
				if message, faults := reconfigureFaultFor(vm, &req.Spec); faults {
					return &types.GenericVmConfigFault{Reason: message}, message
				}
				return outcome(vm, vm.ReconfigVMTask(ctx, req).(*methods.ReconfigVM_TaskBody).Res.Returnval)
			})
			res = &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: task}}
		}
	})
	if res == nil {
		// At once: vcsim's own, or the task fault of harness.reconfigureFault (faults.go).
		return (&reconfigureFault{vm: d.vm}).ReconfigVMTask(ctx, req)
	}
	return res
}

func (d *taskDelay) RemoveAllSnapshotsTask(ctx *simulator.Context, req *types.RemoveAllSnapshots_Task) soap.HasFault {
	vm, ok := simulator.Map.Get(d.vm).(*simulator.VirtualMachine)
	if !ok {
		return &methods.RemoveAllSnapshots_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: d.vm})}
	}
	req.This = d.vm
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() {
		switch busyWith, delay := plan(vm, false); {
		case busyWith != nil:
			res = &methods.RemoveAllSnapshots_TaskBody{Fault_: inProgress(*busyWith)}
		case delay > 0:
			task := startDelayed(vm, "removeAllSnapshots", "RemoveAllSnapshots_Task", delay, func() (types.BaseMethodFault, string) {
				return outcome(vm, vm.RemoveAllSnapshotsTask(ctx, req).(*methods.RemoveAllSnapshots_TaskBody).Res.Returnval)
			})
			res = &methods.RemoveAllSnapshots_TaskBody{Res: &types.RemoveAllSnapshots_TaskResponse{Returnval: task}}
		default:
			res = vm.RemoveAllSnapshotsTask(ctx, req)
		}
	})
	return res
}

// outcome is how the task vcsim's method just ran ended; that task is then forgotten, so
// the client sees only the delayed one. The caller holds the VM's lock.
func outcome(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) (types.BaseMethodFault, string) {
	var fault types.BaseMethodFault
	message := ""
	if inner, ok := simulator.Map.Get(ref).(*simulator.Task); ok && inner.Info.Error != nil {
		fault, message = inner.Info.Error.Fault, inner.Info.Error.LocalizedMessage
	}
	forgetTask(vm, ref)
	return fault, message
}

// startDelayed creates the VM's task `method` (its descriptionId VirtualMachine.<method>, its
// name the SOAP method `wsdlName`, as vCenter gives them), running, and returns it; after
// `delay` it runs `work` under the VM's lock and ends as the work did. The caller holds the
// VM's lock.
func startDelayed(vm *simulator.VirtualMachine, method, wsdlName string, delay time.Duration,
	work func() (types.BaseMethodFault, string)) types.ManagedObjectReference {
	task := simulator.CreateTask(vm.Reference(), method, nil)
	task.Info.EntityName = vm.Name
	task.Info.Name = wsdlName // vcsim's "Reconfigure" is no method name pyVmomi knows
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
		{Name: "info.progress", Val: int32(1)},
	})
	setRunning(vm.Self, &task.Self)
	go func() {
		start := time.Now()
		for elapsed := time.Since(start); elapsed < delay; elapsed = time.Since(start) {
			progress := 1 + int32(elapsed*99/delay) // 0 would not be sent at all (omitempty)
			simulator.Map.WithLock(task, func() {
				simulator.Map.Update(task, []types.PropertyChange{{Name: "info.progress", Val: progress}})
			})
			step := delay - elapsed
			if step > 200*time.Millisecond {
				step = 200 * time.Millisecond
			}
			time.Sleep(step)
		}
		simulator.Map.WithLock(vm, func() {
			fault, message := work()
			simulator.Map.WithLock(task, func() { finishTask(task, fault, message) })
			setRunning(vm.Self, nil)
		})
	}()
	return task.Self
}

// removeAllSnapshotsCall finds the _this of a RemoveAllSnapshots_Task request (faults.go's
// reconfigureCall that of a ReconfigVM_Task).
var removeAllSnapshotsCall = regexp.MustCompile(`<(?:\w+:)?RemoveAllSnapshots_Task[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

// withTaskDelay serves harness.taskDelay (see the top of this file); wired outside
// withReconfigureFault, so a delayed reconfigure meets that knob when its work runs.
func withTaskDelay(next http.Handler) http.Handler {
	wanted := func(vm *simulator.VirtualMachine) bool {
		delayed := false
		simulator.Map.WithLock(vm, func() {
			_, running := runningTask(vm.Self)
			delayed = running || extraConfigValue(&vm.VirtualMachine, taskDelayKey) != ""
		})
		return delayed
	}
	newStandIn := func(self, vm types.ManagedObjectReference) mo.Reference {
		return &taskDelay{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: self}, vm: vm}
	}
	snapshots := withVMStandIn(next, removeAllSnapshotsCall, taskDelayType, wanted, newStandIn)
	return withVMStandIn(snapshots, reconfigureCall, taskDelayType, wanted, newStandIn)
}
