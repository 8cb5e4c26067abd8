package main

// Power-on the way vCenter does it: runtime.bootTime, and questions that hold a power-on.
//
// 1. runtime.bootTime. vcsim 0.24 never sets a VM's runtime.bootTime; it sets only
//    summary.runtime.bootTime, to the time of every change to poweredOn (a resume too)
//    and to nothing on a suspend. The API reference (VirtualMachineRuntimeInfo.bootTime):
//    "updated when the virtual machine is powered on from the poweredOff state, and is
//    cleared when the virtual machine is powered off. This property is not updated when
//    a virtual machine is resumed from a suspended state." Here both properties follow
//    that rule: set on a power-on from poweredOff, kept through a suspend and a resume,
//    cleared on a power-off. A Registry handler sees each power change (inside the power
//    call, which holds the VM's lock) and corrects what vcsim wrote.
//
// 2. Questions. A VM whose files were moved or copied asks at power-on "This virtual
//    machine might have been moved or copied" (runtime.question), and the power-on task
//    waits, running, until someone answers with AnswerVM; vcsim never asks and has no
//    AnswerVM. Here the VM's extraConfig "harness.question" = <text> makes the next
//    power-on of the VM (from poweredOff or suspended) ask <text>: PowerOnVM_Task returns
//    a task that stays running, the VM stays as it was and reports runtime.question
//    (id "_vmx<n>", choices 0 Cancel, 1 I Moved It, 2 I Copied It, default 2, as ESXi
//    offers for a moved or copied VM). Another PowerOnVM_Task meanwhile faults
//    TaskInProgress. AnswerVM(questionId, answerChoice) answers it: 1 or 2 clear the
//    question and the knob (the VM remembers the answer, as the .vmx does) and the
//    power-on completes; 0 (Cancel) clears the question and the task ends in error
//    (RequestCanceled), the VM still off, the knob still set. A wrong question id or
//    choice faults InvalidArgument. Unset, a power-on is vcsim's own.
//    As in guestshutdown.go, the VM object cannot be wrapped (vcsim's snapshot code
//    type-asserts *simulator.VirtualMachine): the HTTP layer points PowerOnVM_Task of a
//    VM with the knob, and every AnswerVM, at a per-VM stand-in of type HarnessQuestion.

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	questionKey  = "harness.question"
	questionType = "HarnessQuestion"
)

// withPowerOn installs the bootTime model and serves questions (see the top of this file).
func withPowerOn(next http.Handler) http.Handler {
	installBootTime()
	wanted := func(vm *simulator.VirtualMachine) bool {
		ask := false
		simulator.Map.WithLock(vm, func() { ask = extraConfigValue(&vm.VirtualMachine, questionKey) != "" })
		return ask
	}
	newStandIn := func(self, vm types.ManagedObjectReference) mo.Reference {
		return &question{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: self}, vm: vm}
	}
	// AnswerVM goes to the stand-in whatever the knob: vcsim has no AnswerVM at all.
	answers := withVMStandIn(next, answerCall, questionType, nil, newStandIn)
	return withVMStandIn(answers, powerOnCall, questionType, wanted, newStandIn)
}

// ---- runtime.bootTime -------------------------------------------------------------------

type bootTimeModel struct {
	mu    sync.Mutex
	state map[types.ManagedObjectReference]types.VirtualMachinePowerState // the power state last seen
}

func installBootTime() {
	b := &bootTimeModel{state: map[types.ManagedObjectReference]types.VirtualMachinePowerState{}}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		simulator.Map.WithLock(vm, func() {
			b.state[vm.Self] = vm.Runtime.PowerState
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff && vm.Summary.Runtime.BootTime != nil {
				boot := *vm.Summary.Runtime.BootTime
				simulator.Map.Update(vm, bootTimeChanges(&boot))
			}
		})
	}
	simulator.Map.AddHandler(b)
}

func (*bootTimeModel) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "HarnessBootTime", Value: "harness-boot-time"}
}

func (b *bootTimeModel) PutObject(obj mo.Reference) {
	if vm, ok := obj.(*simulator.VirtualMachine); ok {
		b.mu.Lock()
		b.state[vm.Self] = vm.Runtime.PowerState
		b.mu.Unlock()
	}
}

func (b *bootTimeModel) RemoveObject(ref types.ManagedObjectReference) {
	b.mu.Lock()
	delete(b.state, ref)
	b.mu.Unlock()
}

// UpdateObject runs inside the power call, after vcsim applied its changes.
func (b *bootTimeModel) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok {
		return
	}
	changed := false
	for _, c := range changes {
		changed = changed || c.Name == "runtime.powerState"
	}
	if !changed {
		return
	}
	now := vm.Runtime.PowerState
	b.mu.Lock()
	before, known := b.state[vm.Self]
	b.state[vm.Self] = now
	b.mu.Unlock()

	var boot *time.Time
	switch {
	case now == types.VirtualMachinePowerStatePoweredOff:
		boot = nil
	case now == types.VirtualMachinePowerStatePoweredOn && (!known || before == types.VirtualMachinePowerStatePoweredOff):
		boot = vm.Summary.Runtime.BootTime // the time vcsim just set: a power-on from poweredOff
		if boot == nil {
			t := time.Now()
			boot = &t
		}
	default:
		boot = vm.Runtime.BootTime // a suspend, or a resume: kept
	}
	if boot != nil {
		t := *boot
		boot = &t
	}
	simulator.Map.Update(vm, bootTimeChanges(boot))
}

func bootTimeChanges(boot *time.Time) []types.PropertyChange {
	var val types.AnyType
	if boot != nil {
		val = *boot
	}
	return runtimeChanges("bootTime", val)
}

// runtimeChanges sets runtime.<name> and its copy summary.runtime.<name>, which vCenter keeps equal.
func runtimeChanges(name string, val types.AnyType) []types.PropertyChange {
	return []types.PropertyChange{
		{Name: "runtime." + name, Val: val},
		{Name: "summary.runtime." + name, Val: val},
	}
}

// ---- questions --------------------------------------------------------------------------

// question stands in for one VM for PowerOnVM_Task and AnswerVM. Its first field is a mo
// type, which the simulator's reflection looks for. What it asked is kept in `asked`, read
// and written under the VM's lock.
type question struct {
	mo.ExtensibleManagedObject
	vm types.ManagedObjectReference
}

type questionState struct {
	count   int                           // questions asked so far, for their ids
	pending *types.ManagedObjectReference // the power-on task waiting for the answer
}

var asked = struct {
	sync.Mutex
	byVM map[types.ManagedObjectReference]*questionState
}{byVM: map[types.ManagedObjectReference]*questionState{}}

// stateOf is the question state of the VM; the caller holds the VM's lock.
func stateOf(vm types.ManagedObjectReference) *questionState {
	asked.Lock()
	defer asked.Unlock()
	if asked.byVM[vm] == nil {
		asked.byVM[vm] = &questionState{}
	}
	return asked.byVM[vm]
}

func (q *question) PowerOnVMTask(ctx *simulator.Context, req *types.PowerOnVM_Task) soap.HasFault {
	vm, ok := simulator.Map.Get(q.vm).(*simulator.VirtualMachine)
	if !ok {
		return &methods.PowerOnVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: q.vm})}
	}
	req.This = q.vm
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() {
		state := stateOf(q.vm)
		switch {
		case state.pending != nil:
			res = &methods.PowerOnVM_TaskBody{Fault_: simulator.Fault("Another task is already in progress.", &types.TaskInProgress{Task: *state.pending})}
		case vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn || extraConfigValue(&vm.VirtualMachine, questionKey) == "":
			res = vm.PowerOnVMTask(ctx, req) // nothing to ask: vcsim's own (InvalidPowerState when on)
		default:
			res = &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: ask(vm, state)}}
		}
	})
	return res
}

// ask starts a power-on task that waits, running, and sets the VM's runtime.question.
func ask(vm *simulator.VirtualMachine, state *questionState) types.ManagedObjectReference {
	task := simulator.CreateTask(vm.Reference(), "powerOn", nil)
	task.Info.EntityName = vm.Name
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	state.count++
	state.pending = &task.Self
	info := &types.VirtualMachineQuestionInfo{
		Id:   fmt.Sprintf("_vmx%d", state.count),
		Text: extraConfigValue(&vm.VirtualMachine, questionKey),
		Choice: types.ChoiceOption{
			ChoiceInfo: []types.BaseElementDescription{
				&types.ElementDescription{Description: types.Description{Label: "Cancel", Summary: "Cancel"}, Key: "0"},
				&types.ElementDescription{Description: types.Description{Label: "I Moved It", Summary: "I Moved It"}, Key: "1"},
				&types.ElementDescription{Description: types.Description{Label: "I Copied It", Summary: "I Copied It"}, Key: "2"},
			},
			DefaultIndex: 2,
		},
	}
	simulator.Map.Update(vm, questionChanges(info))
	return task.Self
}

func (q *question) AnswerVM(ctx *simulator.Context, req *types.AnswerVM) soap.HasFault {
	body := &methods.AnswerVMBody{}
	vm, ok := simulator.Map.Get(q.vm).(*simulator.VirtualMachine)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: q.vm})
		return body
	}
	simulator.Map.WithLock(vm, func() {
		state, open := stateOf(q.vm), vm.Runtime.Question
		switch {
		case open == nil || state.pending == nil || open.Id != req.QuestionId:
			body.Fault_ = simulator.Fault("A specified parameter was not correct: questionId", &types.InvalidArgument{InvalidProperty: "questionId"})
			return
		case req.AnswerChoice != "0" && req.AnswerChoice != "1" && req.AnswerChoice != "2":
			body.Fault_ = simulator.Fault("A specified parameter was not correct: answerChoice", &types.InvalidArgument{InvalidProperty: "answerChoice"})
			return
		}
		task := simulator.Map.Get(*state.pending).(*simulator.Task)
		state.pending = nil
		simulator.Map.Update(vm, questionChanges(nil))
		var fault types.BaseMethodFault
		message := ""
		if req.AnswerChoice == "0" {
			fault, message = &types.RequestCanceled{}, "The operation was canceled by the user at the question."
		} else {
			// The answer is remembered: this VM does not ask again.
			vm.Config.ExtraConfig = withoutOption(vm.Config.ExtraConfig, questionKey)
			res := vm.PowerOnVMTask(ctx, &types.PowerOnVM_Task{This: vm.Self})
			inner := simulator.Map.Get(res.(*methods.PowerOnVM_TaskBody).Res.Returnval).(*simulator.Task)
			if inner.Info.Error != nil {
				fault, message = inner.Info.Error.Fault, inner.Info.Error.LocalizedMessage
			}
		}
		finishTask(task, fault, message)
		body.Res = &types.AnswerVMResponse{}
	})
	return body
}

func finishTask(task *simulator.Task, fault types.BaseMethodFault, message string) {
	changes := []types.PropertyChange{{Name: "info.completeTime", Val: time.Now()}}
	if fault == nil {
		changes = append(changes, types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateSuccess})
	} else {
		changes = append(changes,
			types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateError},
			types.PropertyChange{Name: "info.error", Val: types.LocalizedMethodFault{Fault: fault, LocalizedMessage: message}})
	}
	simulator.Map.Update(task, changes)
}

func questionChanges(info *types.VirtualMachineQuestionInfo) []types.PropertyChange {
	var val types.AnyType
	if info != nil {
		val = info
	}
	return runtimeChanges("question", val)
}

// extraConfigValue is the VM's value of key (the last one, should the key appear twice).
func extraConfigValue(vm *mo.VirtualMachine, key string) string {
	value := ""
	if vm.Config != nil {
		for _, o := range vm.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov.Key == key {
				value, _ = ov.Value.(string)
			}
		}
	}
	return value
}

func withoutOption(options []types.BaseOptionValue, key string) []types.BaseOptionValue {
	var out []types.BaseOptionValue
	for _, o := range options {
		if o.GetOptionValue().Key != key {
			out = append(out, o)
		}
	}
	return out
}

// powerOnCall and answerCall find the _this of a PowerOnVM_Task and an AnswerVM request.
var (
	powerOnCall = regexp.MustCompile(`<(?:\w+:)?PowerOnVM_Task[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)
	answerCall  = regexp.MustCompile(`<(?:\w+:)?AnswerVM[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)
)
