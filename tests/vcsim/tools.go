package main

// VMware Tools, which vcsim 0.24 does not model.
//
// 1. Tools state. vcsim gives every VM toolsNotInstalled / guestToolsNotRunning,
//    powered on or not. Here the VMs that exist when the simulator starts (the
//    scene's) have Tools installed, running while the VM is powered on, the way
//    vCenter reports a guest with open-vm-tools (Linux) or VMware Tools (Windows).
//    VMs created later start without Tools, like a new VM in vCenter. A test
//    changes a VM's Tools with ReconfigVM_Task, extraConfig "harness.tools":
//      running          installed, running while powered on (scene default)
//      notRunning       installed, the service stopped (toolsNotRunning)
//      notInstalled     no Tools (toolsNotInstalled)
//      startsAfter:<s>  installed; running <s> seconds after this setting or
//                       after each power-on, like Tools starting during a boot
//      "" (removed)     back to the default
//    and with extraConfig "harness.bootsOn" = a comma-separated list of controller
//    types (paravirtual, lsilogic, lsilogicsas, buslogic), the guest boots only while
//    its boot disk (the disk on the lowest bus and unit) sits on a controller of one
//    of those types: a guest whose boot driver is missing never starts its Tools,
//    and its heartbeat stays gray. Unset, it boots from any controller.
//    The model is applied when a reconfigure completes and on power changes.
//
// 2. VirtualMachine.MountToolsInstaller / UnmountToolsInstaller (vcsim answers
//    MethodNotFound). They set runtime.toolsInstallerMounted and fault like
//    vCenter: InvalidPowerState unless powered on, InvalidState when already
//    mounted, VmConfigFault without a CD/DVD drive. Powering off unmounts.
//    The VM object cannot be wrapped to add the methods (vcsim's snapshot code
//    type-asserts *simulator.VirtualMachine), so the HTTP layer points these two
//    calls at a per-VM stand-in object of type HarnessToolsInstaller; the
//    simulator still does the session check, decoding, locking and fault encoding.

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
	toolsKey      = "harness.tools"
	installerType = "HarnessToolsInstaller"
	poweredOn     = types.VirtualMachinePowerStatePoweredOn
)

// toolsModel is a Registry handler: it sees power changes and completed reconfigures.
type toolsModel struct {
	mu      sync.Mutex
	initial map[types.ManagedObjectReference]bool   // VMs present at start: Tools installed by default
	applied map[types.ManagedObjectReference]string // last mode/power applied, to act on changes only
	gen     map[types.ManagedObjectReference]int    // bumped per change: a stale startsAfter timer does nothing
}

// installTools must run after the scene is built: the VMs it finds get Tools.
func installTools() {
	t := &toolsModel{
		initial: map[types.ManagedObjectReference]bool{},
		applied: map[types.ManagedObjectReference]string{},
		gen:     map[types.ManagedObjectReference]int{},
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		t.initial[vm.Self] = true
		simulator.Map.WithLock(vm, func() { t.apply(&vm.VirtualMachine) })
	}
	simulator.Map.AddHandler(t)
}

func (*toolsModel) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "HarnessTools", Value: "harness-tools"}
}

func (*toolsModel) PutObject(mo.Reference) {}

func (t *toolsModel) RemoveObject(ref types.ManagedObjectReference) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.initial, ref)
	delete(t.applied, ref)
	delete(t.gen, ref)
}

// UpdateObject runs inside the power or reconfigure call, which holds the VM's lock.
func (t *toolsModel) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	switch o := obj.(type) {
	case *mo.Task:
		// the final update of a reconfigure: extraConfig is applied by then
		done := false
		for _, c := range changes {
			done = done || (c.Name == "info.state" && c.Val == types.TaskInfoStateSuccess)
		}
		if done && o.Info.DescriptionId == "VirtualMachine.reconfigVm" && o.Info.Entity != nil {
			if vm, ok := simulator.Map.Get(*o.Info.Entity).(*simulator.VirtualMachine); ok {
				t.apply(&vm.VirtualMachine)
			}
		}
	case *mo.VirtualMachine:
		for _, c := range changes {
			if c.Name != "runtime.powerState" {
				continue
			}
			if o.Runtime.PowerState != poweredOn && o.Runtime.ToolsInstallerMounted {
				simulator.Map.Update(o, mountedChanges(false))
			}
			t.apply(o)
		}
	}
}

// mode reads harness.tools (the last value, should the key appear twice).
func (t *toolsModel) mode(vm *mo.VirtualMachine) (string, time.Duration) {
	value := ""
	if vm.Config != nil {
		for _, o := range vm.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov.Key == toolsKey {
				value, _ = ov.Value.(string)
			}
		}
	}
	switch {
	case value == "running" || value == "notRunning" || value == "notInstalled":
		return value, 0
	case strings.HasPrefix(value, "startsAfter:"):
		if s, err := strconv.ParseFloat(strings.TrimPrefix(value, "startsAfter:"), 64); err == nil && s >= 0 {
			return "startsAfter", time.Duration(s * float64(time.Second))
		}
	}
	if value != "" {
		log.Printf("%s: unknown %s value %q, using the default", vm.Self.Value, toolsKey, value)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.initial[vm.Self] {
		return "running", 0
	}
	return "", 0 // not ours: vcsim's own values (no Tools)
}

func (t *toolsModel) apply(vm *mo.VirtualMachine) {
	mode, delay := t.mode(vm)
	if mode != "" && mode != "notInstalled" && !bootsFromItsDisk(vm) {
		mode = "noBoot" // the guest hangs before its Tools can start
	}
	on := vm.Runtime.PowerState == poweredOn
	key := mode + "/" + strconv.FormatBool(on) + "/" + delay.String()
	t.mu.Lock()
	if t.applied[vm.Self] == key {
		t.mu.Unlock()
		return
	}
	t.applied[vm.Self] = key
	t.gen[vm.Self]++
	gen := t.gen[vm.Self]
	t.mu.Unlock()

	profile := profileFor(vm)
	switch {
	case mode == "":
		return
	case mode == "notInstalled":
		simulator.Map.Update(vm, toolsChanges(notInstalled, false))
	case mode == "running" && on:
		simulator.Map.Update(vm, toolsChanges(profile, true))
	case mode == "startsAfter" && on:
		simulator.Map.Update(vm, toolsChanges(profile, false))
		ref := vm.Self
		time.AfterFunc(delay, func() { t.start(ref, gen, profile) })
	default:
		simulator.Map.Update(vm, toolsChanges(profile, false))
	}
}

// start runs on a timer, outside any call: it takes the VM's lock itself.
func (t *toolsModel) start(ref types.ManagedObjectReference, gen int, profile toolsProfile) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		t.mu.Lock()
		current := t.gen[ref]
		t.mu.Unlock()
		if current == gen && vm.Runtime.PowerState == poweredOn {
			simulator.Map.Update(vm, toolsChanges(profile, true))
		}
	})
}

// toolsProfile: what the installed Tools report. Versions are vCenter's encoding
// (major<<10 | minor<<5 | patch): 12389 is 12.3.5, 12416 is 12.4.0.
type toolsProfile struct {
	version       int32
	versionStatus string
	installType   string
}

var (
	openVMTools  = toolsProfile{12389, "guestToolsUnmanaged", "guestToolsTypeOpenVMTools"}
	vmwareTools  = toolsProfile{12416, "guestToolsCurrent", "guestToolsTypeMSI"}
	notInstalled = toolsProfile{0, "guestToolsNotInstalled", ""}
)

func profileFor(vm *mo.VirtualMachine) toolsProfile {
	if vm.Guest != nil && vm.Guest.GuestFamily == "windowsGuest" {
		return vmwareTools
	}
	if vm.Config != nil && strings.HasPrefix(vm.Config.GuestId, "win") {
		return vmwareTools
	}
	return openVMTools
}

func toolsChanges(p toolsProfile, running bool) []types.PropertyChange {
	status := types.VirtualMachineToolsStatusToolsNotRunning
	runningStatus := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	guestState := string(types.VirtualMachineGuestStateNotRunning)
	switch {
	case p.version == 0:
		status = types.VirtualMachineToolsStatusToolsNotInstalled
	case running:
		status = types.VirtualMachineToolsStatusToolsOk
		runningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		guestState = string(types.VirtualMachineGuestStateRunning)
	}
	return []types.PropertyChange{
		{Name: "guest.toolsStatus", Val: status},
		{Name: "guest.toolsRunningStatus", Val: runningStatus},
		{Name: "guest.toolsVersion", Val: strconv.Itoa(int(p.version))},
		{Name: "guest.toolsVersionStatus", Val: p.versionStatus},
		{Name: "guest.toolsVersionStatus2", Val: p.versionStatus},
		{Name: "guest.toolsInstallType", Val: p.installType},
		{Name: "guest.guestState", Val: guestState},
		{Name: "config.tools.toolsVersion", Val: p.version},
		{Name: "config.tools.toolsInstallType", Val: p.installType},
		{Name: "summary.guest.toolsStatus", Val: status},
		{Name: "summary.guest.toolsRunningStatus", Val: runningStatus},
		{Name: "summary.guest.toolsVersionStatus", Val: p.versionStatus},
		{Name: "summary.guest.toolsVersionStatus2", Val: p.versionStatus},
		{Name: "guestHeartbeatStatus", Val: heartbeat(running)},
		{Name: "summary.quickStats.guestHeartbeatStatus", Val: heartbeat(running)},
	}
}

// heartbeat: vCenter shows green while the guest's Tools send heartbeats, gray without Tools running.
func heartbeat(running bool) types.ManagedEntityStatus {
	if running {
		return types.ManagedEntityStatusGreen
	}
	return types.ManagedEntityStatusGray
}

const bootsOnKey = "harness.bootsOn"

// bootsFromItsDisk: whether the guest can boot, given harness.bootsOn (see the top of this file).
func bootsFromItsDisk(vm *mo.VirtualMachine) bool {
	if vm.Config == nil {
		return true
	}
	allowed := ""
	for _, o := range vm.Config.ExtraConfig {
		if ov := o.GetOptionValue(); ov.Key == bootsOnKey {
			allowed, _ = ov.Value.(string)
		}
	}
	if allowed == "" {
		return true
	}
	kind := bootControllerType(vm.Config.Hardware.Device)
	for _, name := range strings.Split(allowed, ",") {
		if strings.TrimSpace(name) == kind {
			return true
		}
	}
	return false
}

// bootControllerType: the type of the SCSI controller holding the disk on the lowest bus and unit.
func bootControllerType(devices []types.BaseVirtualDevice) string {
	controllers := map[int32]types.BaseVirtualDevice{}
	for _, d := range devices {
		if _, ok := d.(types.BaseVirtualSCSIController); ok {
			controllers[d.GetVirtualDevice().Key] = d
		}
	}
	best, bestBus, bestUnit := "", int32(1<<30), int32(1<<30)
	for _, d := range devices {
		disk, ok := d.(*types.VirtualDisk)
		if !ok || disk.UnitNumber == nil {
			continue
		}
		c, ok := controllers[disk.ControllerKey]
		if !ok {
			continue
		}
		bus := c.(types.BaseVirtualSCSIController).GetVirtualSCSIController().BusNumber
		if bus < bestBus || (bus == bestBus && *disk.UnitNumber < bestUnit) {
			best, bestBus, bestUnit = scsiTypeName(c), bus, *disk.UnitNumber
		}
	}
	return best
}

func scsiTypeName(d types.BaseVirtualDevice) string {
	switch d.(type) {
	case *types.ParaVirtualSCSIController:
		return "paravirtual"
	case *types.VirtualLsiLogicController:
		return "lsilogic"
	case *types.VirtualLsiLogicSASController:
		return "lsilogicsas"
	case *types.VirtualBusLogicController:
		return "buslogic"
	}
	return ""
}

func mountedChanges(mounted bool) []types.PropertyChange {
	return runtimeChanges("toolsInstallerMounted", mounted)
}

// toolsInstaller stands in for one VM for the two installer methods. Its first
// field is a mo type, which the simulator's reflection looks for.
type toolsInstaller struct {
	mo.ExtensibleManagedObject
	vm types.ManagedObjectReference
}

func (p *toolsInstaller) MountToolsInstaller(req *types.MountToolsInstaller) soap.HasFault {
	body := &methods.MountToolsInstallerBody{Fault_: setInstallerMounted(p.vm, true)}
	if body.Fault_ == nil {
		body.Res = &types.MountToolsInstallerResponse{}
	}
	return body
}

func (p *toolsInstaller) UnmountToolsInstaller(req *types.UnmountToolsInstaller) soap.HasFault {
	body := &methods.UnmountToolsInstallerBody{Fault_: setInstallerMounted(p.vm, false)}
	if body.Fault_ == nil {
		body.Res = &types.UnmountToolsInstallerResponse{}
	}
	return body
}

func setInstallerMounted(ref types.ManagedObjectReference, mount bool) *soap.Fault {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return simulator.Fault("", &types.ManagedObjectNotFound{Obj: ref})
	}
	var fault *soap.Fault
	simulator.Map.WithLock(vm, func() {
		switch {
		case vm.Runtime.PowerState != poweredOn:
			fault = simulator.Fault("The attempted operation cannot be performed in the current state ("+string(vm.Runtime.PowerState)+").",
				&types.InvalidPowerState{RequestedState: poweredOn, ExistingState: vm.Runtime.PowerState})
		case mount && vm.Runtime.ToolsInstallerMounted:
			fault = simulator.Fault("The VMware Tools installer is already mounted in this virtual machine.", &types.InvalidState{})
		case mount && !hasCdrom(vm):
			fault = simulator.Fault("The virtual machine has no CD/DVD drive to mount the VMware Tools installer in.", &types.VmConfigFault{})
		case vm.Runtime.ToolsInstallerMounted != mount:
			simulator.Map.Update(vm, mountedChanges(mount))
		}
	})
	return fault
}

func hasCdrom(vm *simulator.VirtualMachine) bool {
	for _, d := range vm.Config.Hardware.Device {
		if _, ok := d.(*types.VirtualCdrom); ok {
			return true
		}
	}
	return false
}

// installerCall finds the _this of a MountToolsInstaller/UnmountToolsInstaller request.
var installerCall = regexp.MustCompile(`<(?:\w+:)?(?:Mount|Unmount)ToolsInstaller[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

func withToolsInstaller(next http.Handler) http.Handler {
	return withVMStandIn(next, installerCall, installerType, nil, func(self, vm types.ManagedObjectReference) mo.Reference {
		return &toolsInstaller{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: self}, vm: vm}
	})
}
