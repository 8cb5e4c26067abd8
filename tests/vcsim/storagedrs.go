package main

// Storage DRS: ConfigureStorageDrsForPod_Task that keeps VM overrides, as vCenter does.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

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
