package main

// Datastore maintenance mode: Datastore.DatastoreEnterMaintenanceMode and
// DatastoreExitMaintenanceMode_Task, which vcsim 0.24 lacks (MethodNotFound), so no
// datastore's summary.maintenanceMode could ever leave "normal". As the API reference
// says: entering returns a StoragePlacementResult whose task completes once no virtual
// machine has files on the datastore; until then the datastore is "enteringMaintenance".
// The harness never migrates a VM, so a datastore holding one stays enteringMaintenance
// (its task running) until it exits; an empty one is "inMaintenance" at once. Entering
// twice faults InvalidState, exiting a datastore in "normal" faults InvalidState; an exit
// ends a pending enter task as canceled (RequestCanceled).
//
// Served like guestshutdown.go, by a per-datastore stand-in: Datastore objects cannot be
// wrapped (vcsim type-asserts *simulator.Datastore when it places a VM's files).

import (
	"bytes"
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

const datastoreMaintenanceType = "HarnessDatastoreMaintenance"

// datastoreMaintenanceCall finds the _this of either method.
var datastoreMaintenanceCall = regexp.MustCompile(
	`<(?:\w+:)?(?:DatastoreEnterMaintenanceMode|DatastoreExitMaintenanceMode_Task)[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

// datastoreMaintenance stands in for one datastore. Its first field is a mo type, which
// the simulator's reflection looks for.
type datastoreMaintenance struct {
	mo.ExtensibleManagedObject
	ds types.ManagedObjectReference
}

// enterTasks holds each datastore's enter task that still waits for its VMs to leave.
var enterTasks = struct {
	sync.Mutex
	byDatastore map[types.ManagedObjectReference]*simulator.Task
}{byDatastore: map[types.ManagedObjectReference]*simulator.Task{}}

func setMaintenanceMode(ds *simulator.Datastore, mode types.DatastoreSummaryMaintenanceModeState) {
	simulator.Map.Update(ds, []types.PropertyChange{{Name: "summary.maintenanceMode", Val: string(mode)}})
}

func (m *datastoreMaintenance) DatastoreEnterMaintenanceMode(req *types.DatastoreEnterMaintenanceMode) soap.HasFault {
	body := &methods.DatastoreEnterMaintenanceModeBody{}
	ds, ok := simulator.Map.Get(m.ds).(*simulator.Datastore)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: m.ds})
		return body
	}
	simulator.Map.WithLock(ds, func() {
		if mode := ds.Summary.MaintenanceMode; mode != "" && mode != string(types.DatastoreSummaryMaintenanceModeStateNormal) {
			body.Fault_ = simulator.Fault("The datastore "+ds.Name+" is already "+mode+".", &types.InvalidState{})
			return
		}
		task := simulator.CreateTask(ds.Reference(), "enterMaintenanceMode", nil)
		task.Info.EntityName = ds.Name
		simulator.Map.Update(task, []types.PropertyChange{
			{Name: "info.startTime", Val: time.Now()},
			{Name: "info.state", Val: types.TaskInfoStateRunning},
		})
		if len(ds.Vm) == 0 {
			setMaintenanceMode(ds, types.DatastoreSummaryMaintenanceModeStateInMaintenance)
			finishTask(task, nil, "")
		} else {
			setMaintenanceMode(ds, types.DatastoreSummaryMaintenanceModeStateEnteringMaintenance)
			enterTasks.Lock()
			enterTasks.byDatastore[m.ds] = task
			enterTasks.Unlock()
		}
		body.Res = &types.DatastoreEnterMaintenanceModeResponse{Returnval: types.StoragePlacementResult{Task: &task.Self}}
	})
	return body
}

func (m *datastoreMaintenance) DatastoreExitMaintenanceModeTask(req *types.DatastoreExitMaintenanceMode_Task) soap.HasFault {
	body := &methods.DatastoreExitMaintenanceMode_TaskBody{}
	ds, ok := simulator.Map.Get(m.ds).(*simulator.Datastore)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: m.ds})
		return body
	}
	simulator.Map.WithLock(ds, func() {
		if mode := ds.Summary.MaintenanceMode; mode == "" || mode == string(types.DatastoreSummaryMaintenanceModeStateNormal) {
			body.Fault_ = simulator.Fault("The datastore "+ds.Name+" is not in maintenance mode.", &types.InvalidState{})
			return
		}
		enterTasks.Lock()
		pending := enterTasks.byDatastore[m.ds]
		delete(enterTasks.byDatastore, m.ds)
		enterTasks.Unlock()
		if pending != nil {
			finishTask(pending, &types.RequestCanceled{}, "The datastore left maintenance mode before it was entered.")
		}
		task := simulator.CreateTask(ds.Reference(), "exitMaintenanceMode", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			setMaintenanceMode(ds, types.DatastoreSummaryMaintenanceModeStateNormal)
			return nil, nil
		})
		task.Info.EntityName = ds.Name
		body.Res = &types.DatastoreExitMaintenanceMode_TaskResponse{Returnval: task.Run()}
	})
	return body
}

// withDatastoreMaintenance points both methods of a Datastore at its stand-in.
func withDatastoreMaintenance(next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		if m := datastoreMaintenanceCall.FindSubmatchIndex(body); m != nil {
			attrs := body[m[2]:m[3]]
			ref := types.ManagedObjectReference{Type: "Datastore", Value: string(body[m[4]:m[5]])}
			if _, isDS := simulator.Map.Get(ref).(*simulator.Datastore); isDS && bytes.Contains(attrs, []byte(`"Datastore"`)) {
				stand := types.ManagedObjectReference{Type: datastoreMaintenanceType, Value: ref.Value}
				mu.Lock()
				if simulator.Map.Get(stand) == nil {
					simulator.Map.Put(&datastoreMaintenance{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: stand}, ds: ref})
				}
				mu.Unlock()
				attrs = bytes.Replace(attrs, []byte(`"Datastore"`), []byte(`"`+datastoreMaintenanceType+`"`), 1)
				setBody(r, append(append(append([]byte{}, body[:m[2]]...), attrs...), body[m[3]:]...))
			}
		}
		next.ServeHTTP(w, r)
	})
}
