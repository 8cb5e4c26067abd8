package main

// VirtualMachine.ShutdownGuest the way vCenter answers it.
//
// vcsim 0.24 powers the VM off at once, whatever its VMware Tools, and faults only
// when the VM is already powered off. vCenter faults InvalidPowerState unless the VM
// is powered on, ToolsUnavailable when Tools are not running in the guest
// (guest.toolsRunningStatus), and otherwise returns at once: the guest powers off
// later, or never when it hangs or blocks the shutdown. Here ShutdownGuest faults
// like vCenter, then the guest powers off as the VM's extraConfig
// "harness.guestShutdown" says:
//   "" (unset)   at once, vcsim's own ShutdownGuest (the default)
//   after:<s>    <s> seconds after the call, like a guest taking time to shut down
//   ignore       never, like a hung guest
// The VM object cannot be wrapped (vcsim's snapshot code type-asserts
// *simulator.VirtualMachine), so, as tools.go does for the Tools installer, the HTTP
// layer points ShutdownGuest of a VM at a per-VM stand-in of type
// HarnessGuestShutdown; the simulator still does the session check, decoding,
// locking and fault encoding, and the stand-in calls vcsim's ShutdownGuest for the
// power-off itself (events, property updates).

import (
	"log"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	guestShutdownKey  = "harness.guestShutdown"
	guestShutdownType = "HarnessGuestShutdown"
)

// guestShutdown stands in for one VM for ShutdownGuest. Its first field is a mo
// type, which the simulator's reflection looks for.
type guestShutdown struct {
	mo.ExtensibleManagedObject
	vm types.ManagedObjectReference
}

func (g *guestShutdown) ShutdownGuest(ctx *simulator.Context, req *types.ShutdownGuest) soap.HasFault {
	body := &methods.ShutdownGuestBody{}
	vm, ok := simulator.Map.Get(g.vm).(*simulator.VirtualMachine)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: g.vm})
		return body
	}
	req.This = g.vm
	simulator.Map.WithLock(vm, func() {
		state := vm.Runtime.PowerState
		switch {
		case state != types.VirtualMachinePowerStatePoweredOn:
			body.Fault_ = simulator.Fault("The attempted operation cannot be performed in the current state ("+string(state)+").",
				&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: state})
			return
		case vm.Guest == nil || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning):
			body.Fault_ = simulator.Fault("Cannot complete operation because VMware Tools is not running in this virtual machine.",
				&types.ToolsUnavailable{})
			return
		}
		body.Res = &types.ShutdownGuestResponse{}
		mode, delay := guestShutdownMode(vm)
		switch mode {
		case "ignore":
		case "after":
			shutdownLater(ctx, req, bootTime(vm), delay)
		default:
			vm.ShutdownGuest(ctx, req)
		}
	})
	return body
}

// shutdownLater powers the VM off after delay, unless it was powered off (and maybe
// on again: a new boot time) in the meantime.
func shutdownLater(ctx *simulator.Context, req *types.ShutdownGuest, boot time.Time, delay time.Duration) {
	time.AfterFunc(delay, func() {
		vm, ok := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
		if !ok {
			return
		}
		simulator.Map.WithLock(vm, func() {
			if bootTime(vm).Equal(boot) && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				vm.ShutdownGuest(ctx, req)
			}
		})
	})
}

// bootTime is the VM's summary.runtime.bootTime by value (zero when unset).
func bootTime(vm *simulator.VirtualMachine) time.Time {
	if vm.Summary.Runtime.BootTime == nil {
		return time.Time{}
	}
	return *vm.Summary.Runtime.BootTime
}

// guestShutdownMode reads harness.guestShutdown (the last value, should the key appear twice).
func guestShutdownMode(vm *simulator.VirtualMachine) (string, time.Duration) {
	value := ""
	if vm.Config != nil {
		for _, o := range vm.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov.Key == guestShutdownKey {
				value, _ = ov.Value.(string)
			}
		}
	}
	switch {
	case value == "ignore":
		return value, 0
	case strings.HasPrefix(value, "after:"):
		if s, err := strconv.ParseFloat(strings.TrimPrefix(value, "after:"), 64); err == nil && s >= 0 {
			return "after", time.Duration(s * float64(time.Second))
		}
	}
	if value != "" {
		log.Printf("%s: unknown %s value %q, shutting down at once", vm.Self.Value, guestShutdownKey, value)
	}
	return "", 0
}

// shutdownCall finds the _this of a ShutdownGuest request.
var shutdownCall = regexp.MustCompile(`<(?:\w+:)?ShutdownGuest[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

func withGuestShutdown(next http.Handler) http.Handler {
	return withVMStandIn(next, shutdownCall, guestShutdownType, nil, func(self, vm types.ManagedObjectReference) mo.Reference {
		return &guestShutdown{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: self}, vm: vm}
	})
}
