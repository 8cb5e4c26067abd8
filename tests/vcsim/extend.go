package main

// Method overrides registered with simulator.Map.Put (the pattern of govmomi's
// simulator/example_extend_test.go): each wrapper keeps the simulator object's
// MoRef, so clients see the same managed object with a fixed method.

import (
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
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

// searchIndex: vcsim 0.24 has FindByUuid but not FindAllByUuid, which clients use to
// see every VM that shares a BIOS uuid (template clones do) instead of one at random.
type searchIndex struct {
	*simulator.SearchIndex
}

func (s *searchIndex) FindAllByUuid(req *types.FindAllByUuid) soap.HasFault {
	body := &methods.FindAllByUuidBody{Res: new(types.FindAllByUuidResponse)}
	instance := req.InstanceUuid != nil && *req.InstanceUuid
	kind := "HostSystem"
	if req.VmSearch {
		kind = "VirtualMachine"
	}
	for _, e := range simulator.Map.All(kind) {
		if req.Datacenter != nil && !under(e, *req.Datacenter) {
			continue
		}
		var uuid string
		switch obj := e.(type) {
		case *simulator.VirtualMachine:
			if obj.Config == nil {
				continue
			}
			uuid = obj.Config.Uuid
			if instance {
				uuid = obj.Config.InstanceUuid
			}
		case *simulator.HostSystem:
			uuid = obj.Summary.Hardware.Uuid
		}
		if uuid != "" && strings.EqualFold(uuid, req.Uuid) {
			body.Res.Returnval = append(body.Res.Returnval, e.Reference())
		}
	}
	return body
}

func vimServiceInstance() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}
}

// viewManager: vcsim's ContainerView walks Folder children but not StoragePod
// children (a pod is a Folder subtype it does not recognise), so a recursive view
// of datastores misses every datastore inside a datastore cluster. vCenter lists them.
type viewManager struct {
	*simulator.ViewManager
}

func (m *viewManager) CreateContainerView(ctx *simulator.Context, req *types.CreateContainerView) soap.HasFault {
	res := m.ViewManager.CreateContainerView(ctx, req)
	body := res.(*methods.CreateContainerViewBody)
	if body.Res == nil || !req.Recursive || !wantsDatastores(req.Type) {
		return res
	}
	view, ok := ctx.Session.Get(body.Res.Returnval).(*simulator.ContainerView)
	if !ok {
		return res
	}
	seen := map[types.ManagedObjectReference]bool{}
	for _, ref := range view.View {
		seen[ref] = true
	}
	for _, e := range simulator.Map.All("StoragePod") {
		pod := e.(*simulator.StoragePod)
		if !under(pod, req.Container) {
			continue
		}
		for _, ds := range pod.ChildEntity {
			if !seen[ds] {
				seen[ds] = true
				view.View = append(view.View, ds)
			}
		}
	}
	return res
}

func wantsDatastores(kinds []string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if k == "Datastore" || k == "ManagedEntity" {
			return true
		}
	}
	return false
}

// under reports whether container is an ancestor of e (or e itself).
func under(e mo.Entity, container types.ManagedObjectReference) bool {
	for e != nil {
		if e.Reference() == container {
			return true
		}
		parent := e.Entity().Parent
		if parent == nil {
			return false
		}
		e, _ = simulator.Map.Get(*parent).(mo.Entity)
	}
	return false
}

// storageResourceManager: vcsim's ConfigureStorageDrsForPod_Task applies only
// podConfigSpec and drops vmConfigSpec, so Storage DRS VM overrides (how a master
// target is excluded from Storage DRS) were lost. This version applies both and
// stores overrides in podStorageDrsEntry.storageDrsConfig.vmConfig, as vCenter does.
type storageResourceManager struct {
	*simulator.StorageResourceManager
}

func (m *storageResourceManager) ConfigureStorageDrsForPodTask(req *types.ConfigureStorageDrsForPod_Task) soap.HasFault {
	task := simulator.CreateTask(m, "configureStorageDrsForPod", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		pod, ok := simulator.Map.Get(req.Pod).(*simulator.StoragePod)
		if !ok {
			return nil, &types.ManagedObjectNotFound{Obj: req.Pod}
		}
		var fault types.BaseMethodFault
		simulator.Map.WithLock(pod, func() { fault = configurePod(pod, &req.Spec) })
		return nil, fault
	})
	return &methods.ConfigureStorageDrsForPod_TaskBody{
		Res: &types.ConfigureStorageDrsForPod_TaskResponse{Returnval: task.Run()},
	}
}

func configurePod(pod *simulator.StoragePod, spec *types.StorageDrsConfigSpec) types.BaseMethodFault {
	config := &pod.PodStorageDrsEntry.StorageDrsConfig
	if s := spec.PodConfigSpec; s != nil {
		if s.Enabled != nil {
			config.PodConfig.Enabled = *s.Enabled
		}
		if s.DefaultVmBehavior != "" {
			config.PodConfig.DefaultVmBehavior = s.DefaultVmBehavior
		}
		if s.IoLoadBalanceEnabled != nil {
			config.PodConfig.IoLoadBalanceEnabled = *s.IoLoadBalanceEnabled
		}
		if s.DefaultIntraVmAffinity != nil {
			config.PodConfig.DefaultIntraVmAffinity = s.DefaultIntraVmAffinity
		}
	}
	find := func(vm types.ManagedObjectReference) int {
		for i, c := range config.VmConfig {
			if c.Vm != nil && *c.Vm == vm {
				return i
			}
		}
		return -1
	}
	for _, s := range spec.VmConfigSpec {
		switch s.Operation {
		case types.ArrayUpdateOperationAdd, types.ArrayUpdateOperationEdit:
			if s.Info == nil || s.Info.Vm == nil {
				return &types.InvalidArgument{InvalidProperty: "vmConfigSpec.info.vm"}
			}
			i := find(*s.Info.Vm)
			switch {
			case s.Operation == types.ArrayUpdateOperationAdd && i >= 0:
				return &types.InvalidArgument{InvalidProperty: "vmConfigSpec.info.vm"}
			case s.Operation == types.ArrayUpdateOperationEdit && i < 0:
				return &types.InvalidArgument{InvalidProperty: "vmConfigSpec.info.vm"}
			case i < 0:
				config.VmConfig = append(config.VmConfig, *s.Info)
			default:
				cur := &config.VmConfig[i]
				if s.Info.Enabled != nil {
					cur.Enabled = s.Info.Enabled
				}
				if s.Info.Behavior != "" {
					cur.Behavior = s.Info.Behavior
				}
				if s.Info.IntraVmAffinity != nil {
					cur.IntraVmAffinity = s.Info.IntraVmAffinity
				}
			}
		case types.ArrayUpdateOperationRemove:
			vm, ok := s.RemoveKey.(types.ManagedObjectReference)
			if !ok {
				return &types.InvalidArgument{InvalidProperty: "vmConfigSpec.removeKey"}
			}
			if i := find(vm); i >= 0 {
				config.VmConfig = append(config.VmConfig[:i], config.VmConfig[i+1:]...)
			}
		}
	}
	return nil
}

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
