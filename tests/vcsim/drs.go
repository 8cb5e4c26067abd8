package main

// DRS and Storage DRS VM overrides: removing one failed against vcsim 0.24.
//
// A remove sends the VM in ArrayUpdateSpec.removeKey, an xsd:anyType. pyVmomi
// writes a managed object reference in an anyType as xsi:type="ManagedObject"
// (vCenter accepts both that and "ManagedObjectReference"); govmomi's type
// registry knows only "ManagedObjectReference", so the decoder dropped the value
// and removeKey arrived nil. vcsim's ClusterComputeResource then panicked in
// updateOverridesDRS (and updateOverridesDAS), and the Storage DRS override
// remove in storagedrs.go answered InvalidArgument. Teaching the registry the alias
// fixes every anyType MoRef at once (removeKey of DRS, HA and Storage DRS VM
// overrides, MoRefs in OptionValue.value) without touching the simulator objects:
// wrapping ClusterComputeResource is not an option, because the simulator
// type-switches on *simulator.ClusterComputeResource (host_system.go, folder.go,
// environment_browser.go, search_index.go) and a wrapper would break them.

import (
	"bytes"
	"net/http"
	"reflect"
	"regexp"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func installAnyTypeMoRefAlias() {
	types.Add("ManagedObject", reflect.TypeOf((*types.ManagedObjectReference)(nil)).Elem())
}

// ---- drsConfig of ReconfigureComputeResource_Task ---------------------------------------
//
// vcsim 0.24's ReconfigureComputeResource_Task applies rules, groups and the HA and DRS VM
// overrides of a ClusterConfigSpecEx, and drops its drsConfig: DRS could not be switched
// off, its default automation level set, nor its VM overrides (enableVmBehaviorOverrides,
// the vSphere Client's "Enable individual virtual machine automation levels") switched
// off or on. The API reference (ClusterDrsConfigInfo): with modify=true an unset field
// leaves the current value; with modify=false the configuration goes back to the
// defaults and the spec is applied; enableVmBehaviorOverrides defaults to true, and with
// it false the cluster's defaultVmBehavior applies to every VM whatever drsVmConfig holds.
// Here the HTTP layer points ReconfigureComputeResource_Task of a cluster at a
// per-cluster stand-in (the cluster cannot be wrapped, see above), which runs vcsim's own
// method under the cluster's lock and, only when its task succeeded (vCenter applies a
// reconfigure whole or not at all), applies drsConfig, before the client can see the
// task. Every cluster reports enableVmBehaviorOverrides=true from the start, as vCenter
// does for a new cluster (vcsim leaves it unset). Calls that do not come over HTTP (the
// scene's in-process client) use applyDrsConfig directly.

const clusterReconfigureType = "HarnessClusterReconfigure"

// clusterReconfigureCall finds the _this of a ReconfigureComputeResource_Task request.
var clusterReconfigureCall = regexp.MustCompile(`<(?:\w+:)?ReconfigureComputeResource_Task[\s>/][\s\S]*?<(?:\w+:)?_this\b([^>]*)>\s*([^<\s]+)\s*<`)

// clusterReconfigure stands in for one cluster for ReconfigureComputeResource_Task. Its
// first field is a mo type, which the simulator's reflection looks for.
type clusterReconfigure struct {
	mo.ExtensibleManagedObject
	cluster types.ManagedObjectReference
}

func (r *clusterReconfigure) ReconfigureComputeResourceTask(req *types.ReconfigureComputeResource_Task) soap.HasFault {
	cluster, ok := simulator.Map.Get(r.cluster).(*simulator.ClusterComputeResource)
	if !ok {
		return &methods.ReconfigureComputeResource_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: r.cluster})}
	}
	req.This = r.cluster
	var res soap.HasFault
	simulator.Map.WithLock(cluster, func() {
		res = cluster.ReconfigureComputeResourceTask(req)
		body, isBody := res.(*methods.ReconfigureComputeResource_TaskBody)
		spec, isEx := req.Spec.(*types.ClusterConfigSpecEx)
		if !isBody || body.Res == nil || !isEx || spec.DrsConfig == nil {
			return
		}
		succeeded := false
		if task, isTask := simulator.Map.Get(body.Res.Returnval).(*simulator.Task); isTask {
			simulator.Map.WithLock(task, func() { succeeded = task.Info.State == types.TaskInfoStateSuccess })
		}
		if succeeded {
			applyDrsConfig(cluster, spec.DrsConfig, req.Modify)
		}
	})
	return res
}

// applyDrsConfig applies a spec's drsConfig to the cluster (the caller holds its lock).
func applyDrsConfig(cluster *simulator.ClusterComputeResource, spec *types.ClusterDrsConfigInfo, modify bool) {
	config, ok := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if !ok {
		return
	}
	drs := &config.DrsConfig
	if !modify {
		*drs = types.ClusterDrsConfigInfo{EnableVmBehaviorOverrides: types.NewBool(true)}
	}
	if spec.Enabled != nil {
		drs.Enabled = types.NewBool(*spec.Enabled)
	}
	if spec.EnableVmBehaviorOverrides != nil {
		drs.EnableVmBehaviorOverrides = types.NewBool(*spec.EnableVmBehaviorOverrides)
	}
	if spec.DefaultVmBehavior != "" {
		drs.DefaultVmBehavior = spec.DefaultVmBehavior
	}
	if spec.VmotionRate != 0 {
		drs.VmotionRate = spec.VmotionRate
	}
	if spec.ScaleDescendantsShares != "" {
		drs.ScaleDescendantsShares = spec.ScaleDescendantsShares
	}
	if spec.Option != nil {
		drs.Option = append([]types.BaseOptionValue(nil), spec.Option...)
	}
}

// installDrsDefaults makes every cluster report enableVmBehaviorOverrides=true, the API's
// default, as vCenter does.
func installDrsDefaults() {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		cluster := e.(*simulator.ClusterComputeResource)
		simulator.Map.WithLock(cluster, func() {
			if config, ok := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx); ok && config.DrsConfig.EnableVmBehaviorOverrides == nil {
				config.DrsConfig.EnableVmBehaviorOverrides = types.NewBool(true)
			}
		})
	}
}

// withClusterReconfigure points every ReconfigureComputeResource_Task of a cluster at its stand-in.
func withClusterReconfigure(next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		if m := clusterReconfigureCall.FindSubmatchIndex(body); m != nil {
			attrs := body[m[2]:m[3]]
			ref := types.ManagedObjectReference{Type: "ClusterComputeResource", Value: string(body[m[4]:m[5]])}
			if _, isCluster := simulator.Map.Get(ref).(*simulator.ClusterComputeResource); isCluster && bytes.Contains(attrs, []byte(`"ClusterComputeResource"`)) {
				stand := types.ManagedObjectReference{Type: clusterReconfigureType, Value: ref.Value}
				mu.Lock()
				if simulator.Map.Get(stand) == nil {
					simulator.Map.Put(&clusterReconfigure{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: stand}, cluster: ref})
				}
				mu.Unlock()
				attrs = bytes.Replace(attrs, []byte(`"ClusterComputeResource"`), []byte(`"`+clusterReconfigureType+`"`), 1)
				setBody(r, append(append(append([]byte{}, body[:m[2]]...), attrs...), body[m[3]:]...))
			}
		}
		next.ServeHTTP(w, r)
	})
}
