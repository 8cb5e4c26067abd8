package main

// HostSystem.DisconnectHost_Task and ReconnectHost_Task, which vcsim 0.24 lacks
// (MethodNotFound), so that tests can put a host in the state vCenter reports for a
// host it has lost: HostSystem.runtime.connectionState (and summary.runtime, the same
// object) "disconnected", and every VM registered on that host "disconnected" too
// (VirtualMachine.runtime.connectionState and summary.runtime.connectionState), as
// vCenter shows them. ReconnectHost_Task sets both back to "connected". Disconnecting a
// disconnected host, or reconnecting a connected one, faults InvalidState, as vCenter
// does. (EnterMaintenanceMode_Task and ExitMaintenanceMode_Task are vcsim's own.)
//
// HostSystem objects cannot be wrapped (vcsim type-asserts *simulator.HostSystem in
// many places), so, as guestshutdown.go does for VMs, the HTTP layer points these two
// calls at a per-host stand-in object of type HarnessHostConnection.

import (
	"bytes"
	"net/http"
	"regexp"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const hostConnectionType = "HarnessHostConnection"

// hostConnection stands in for one host. Its first field is a mo type, which the
// simulator's reflection looks for.
type hostConnection struct {
	mo.ExtensibleManagedObject
	host types.ManagedObjectReference
}

func (h *hostConnection) DisconnectHostTask(req *types.DisconnectHost_Task) soap.HasFault {
	body := &methods.DisconnectHost_TaskBody{}
	ref, fault := h.setConnection(types.HostSystemConnectionStateDisconnected, "disconnectHost")
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.DisconnectHost_TaskResponse{Returnval: ref}
	return body
}

func (h *hostConnection) ReconnectHostTask(req *types.ReconnectHost_Task) soap.HasFault {
	body := &methods.ReconnectHost_TaskBody{}
	ref, fault := h.setConnection(types.HostSystemConnectionStateConnected, "reconnectHost")
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.ReconnectHost_TaskResponse{Returnval: ref}
	return body
}

// setConnection runs a task on the host that sets its connection state and its VMs'.
func (h *hostConnection) setConnection(state types.HostSystemConnectionState, name string) (types.ManagedObjectReference, *soap.Fault) {
	host, ok := simulator.Map.Get(h.host).(*simulator.HostSystem)
	if !ok {
		return types.ManagedObjectReference{}, simulator.Fault("", &types.ManagedObjectNotFound{Obj: h.host})
	}
	var current types.HostSystemConnectionState
	var vms []types.ManagedObjectReference
	simulator.Map.WithLock(host, func() {
		current = host.Runtime.ConnectionState
		vms = append(vms, host.Vm...)
	})
	if current == state {
		return types.ManagedObjectReference{}, simulator.Fault("The operation is not allowed in the current connection state of the host.",
			&types.InvalidState{})
	}
	vmState := types.VirtualMachineConnectionStateConnected
	if state == types.HostSystemConnectionStateDisconnected {
		vmState = types.VirtualMachineConnectionStateDisconnected
	}
	task := simulator.CreateTask(host, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		simulator.Map.WithLock(host, func() {
			simulator.Map.Update(host, []types.PropertyChange{{Name: "runtime.connectionState", Val: state}})
		})
		for _, ref := range vms {
			if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
				simulator.Map.WithLock(vm, func() { simulator.Map.Update(vm, runtimeChanges("connectionState", vmState)) })
			}
		}
		return nil, nil
	})
	return task.Run(), nil
}

// hostConnectionCall finds the _this of a DisconnectHost_Task or ReconnectHost_Task request.
var hostConnectionCall = regexp.MustCompile(`<(?:\w+:)?(?:Disconnect|Reconnect)Host_Task[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

// withHostConnection serves DisconnectHost_Task and ReconnectHost_Task (see the top of this file).
func withHostConnection(next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		if m := hostConnectionCall.FindSubmatchIndex(body); m != nil {
			attrs := body[m[2]:m[3]]
			ref := types.ManagedObjectReference{Type: "HostSystem", Value: string(body[m[4]:m[5]])}
			if _, isHost := simulator.Map.Get(ref).(*simulator.HostSystem); isHost && bytes.Contains(attrs, []byte(`"HostSystem"`)) {
				stand := types.ManagedObjectReference{Type: hostConnectionType, Value: ref.Value}
				mu.Lock()
				if simulator.Map.Get(stand) == nil {
					simulator.Map.Put(&hostConnection{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: stand}, host: ref})
				}
				mu.Unlock()
				attrs = bytes.Replace(attrs, []byte(`"HostSystem"`), []byte(`"`+hostConnectionType+`"`), 1)
				setBody(r, append(append(append([]byte{}, body[:m[2]]...), attrs...), body[m[3]:]...))
			}
		}
		next.ServeHTTP(w, r)
	})
}
