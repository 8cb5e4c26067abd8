package main

// diskFacts makes a ReconfigVM_Task end the way it does on vCenter where vcsim
// 0.24 differs for disks (extraConfig keys are made unique by vmFacts in vmfacts.go):
//   - a new disk without backing.uuid keeps an empty uuid; vCenter (ESXi) gives
//     every disk a "6000C29..." uuid, the one a guest sees with disk.EnableUUID.
//   - a new disk is labelled "disk-<controller>-<unit>"; vCenter says "Hard disk N".
//   - a new SCSI controller is labelled "<type>-<key>", has no summary and sits on no
//     PCI slot; vCenter labels it "SCSI controller <bus>" with its type as summary, on
//     the VM's PCI bus (here: the lowest free PCI unit from 3, where the first sits).
//   - editing a disk (e.g. growing it) subtracts the disk's whole new size from the
//     datastore's free space again; vCenter only accounts for the growth.
//   - a new disk always keeps the backing.uuid the client supplied; vCenter documents
//     the uuid only as the disk's "if available", and ESXi may give a new disk one of
//     its own. The VM's extraConfig "harness.diskUuid" = "hostAssigned" makes the host
//     give every disk a reconfigure adds a new uuid of its own, whatever was supplied;
//     "hostAssigned:<uuid>" gives the first such disk exactly <uuid> (so a test knows it).
// vcsim runs tasks synchronously inside the method call, with the VM locked by the
// dispatcher, so a Registry handler that watches the task's state changes sees the
// VM just before (state running) and just after (state success) the reconfiguration,
// in the same goroutine: it may change the VM without taking its lock again.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

const reconfigureTask = "VirtualMachine.reconfigVm"

type diskFacts struct {
	mu     sync.Mutex
	before map[types.ManagedObjectReference]map[int32]diskBefore // by task
}

type diskBefore struct {
	disk *types.VirtualDisk // vcsim replaces the device object of an edited disk
	size int64
	ds   *types.ManagedObjectReference
}

func installDiskFacts() {
	simulator.Map.AddHandler(&diskFacts{before: map[types.ManagedObjectReference]map[int32]diskBefore{}})
}

func (*diskFacts) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "HarnessDiskFacts", Value: "harness-disk-facts"}
}

func (*diskFacts) PutObject(mo.Reference) {}

func (*diskFacts) RemoveObject(types.ManagedObjectReference) {}

func (f *diskFacts) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	task, ok := obj.(*mo.Task)
	if !ok || task.Info.DescriptionId != reconfigureTask || task.Info.Entity == nil {
		return
	}
	var state types.TaskInfoState
	for _, c := range changes {
		if c.Name == "info.state" {
			state, _ = c.Val.(types.TaskInfoState)
		}
	}
	vm, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachine)
	if !ok || vm.Config == nil {
		return
	}
	switch state {
	case types.TaskInfoStateRunning:
		f.mu.Lock()
		f.before[task.Self] = disksOf(vm)
		f.mu.Unlock()
	case types.TaskInfoStateSuccess, types.TaskInfoStateError:
		f.mu.Lock()
		before := f.before[task.Self]
		delete(f.before, task.Self)
		f.mu.Unlock()
		if state == types.TaskInfoStateSuccess {
			hostAssignDiskUUIDs(vm, before)
			finishNewDisks(vm.Config.Hardware.Device)
			finishNewControllers(vm.Config.Hardware.Device)
			refundEditedDisks(vm, before)
		}
	}
}

func diskSize(d *types.VirtualDisk) int64 {
	if d.CapacityInBytes != 0 {
		return d.CapacityInBytes
	}
	return d.CapacityInKB * 1024
}

func disksOf(vm *simulator.VirtualMachine) map[int32]diskBefore {
	disks := map[int32]diskBefore{}
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			b := diskBefore{disk: disk, size: diskSize(disk)}
			if fb, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
				b.ds = fb.GetVirtualDeviceFileBackingInfo().Datastore
			}
			disks[disk.Key] = b
		}
	}
	return disks
}

// finishNewDisks gives each disk a uuid and a "Hard disk N" label, as vCenter does.
func finishNewDisks(devices []types.BaseVirtualDevice) {
	highest := 0
	for _, d := range devices {
		var n int
		if info := d.GetVirtualDevice().DeviceInfo; info != nil {
			if _, err := fmt.Sscanf(info.GetDescription().Label, "Hard disk %d", &n); err == nil && n > highest {
				highest = n
			}
		}
	}
	for _, d := range devices {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok && b.Uuid == "" {
			b.Uuid = newDiskUUID()
		}
		if info := disk.DeviceInfo; info != nil && strings.HasPrefix(info.GetDescription().Label, "disk-") {
			highest++
			info.GetDescription().Label = fmt.Sprintf("Hard disk %d", highest)
		}
	}
}

const diskUUIDKey = "harness.diskUuid"

// hostAssignDiskUUIDs gives each disk the reconfigure added (a key not seen before it)
// a uuid of the host's own when the VM's harness.diskUuid says so (see the top).
func hostAssignDiskUUIDs(vm *simulator.VirtualMachine, before map[int32]diskBefore) {
	mode := extraConfigValue(&vm.VirtualMachine, diskUUIDKey)
	if before == nil || (mode != "hostAssigned" && !strings.HasPrefix(mode, "hostAssigned:")) {
		return
	}
	given := strings.TrimPrefix(mode, "hostAssigned:")
	if given == mode {
		given = ""
	}
	for _, d := range vm.Config.Hardware.Device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		if _, existed := before[disk.Key]; existed {
			continue
		}
		if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
			b.Uuid, given = given, ""
			if b.Uuid == "" {
				b.Uuid = newDiskUUID()
			}
		}
	}
}

// newDiskUUID is a random uuid with VMware's NAA prefix (6000C29), the form ESXi gives disks.
func newDiskUUID() string {
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	h := "6000C29" + hex.EncodeToString(b)[:25]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// refundEditedDisks gives back the old size of each edited disk: vcsim subtracted
// the whole new size on the edit after the whole old size on the add.
func refundEditedDisks(vm *simulator.VirtualMachine, before map[int32]diskBefore) {
	for _, d := range vm.Config.Hardware.Device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		old, existed := before[disk.Key]
		if !existed || old.disk == disk || old.ds == nil {
			continue // new, untouched, or not file-backed
		}
		ds, ok := simulator.Map.Get(*old.ds).(*simulator.Datastore)
		if !ok {
			continue
		}
		simulator.Map.WithLock(ds, func() {
			ds.Summary.FreeSpace += old.size
			ds.Info.GetDatastoreInfo().FreeSpace = ds.Summary.FreeSpace
		})
	}
}

// finishNewControllers labels and places each SCSI controller vcsim added, as vCenter does.
func finishNewControllers(devices []types.BaseVirtualDevice) {
	var pci *types.VirtualDevice
	used := map[int32]bool{}
	for _, d := range devices {
		if _, ok := d.(*types.VirtualPCIController); ok {
			pci = d.GetVirtualDevice()
		}
	}
	if pci == nil {
		return
	}
	for _, d := range devices {
		if v := d.GetVirtualDevice(); v.ControllerKey == pci.Key && v.UnitNumber != nil {
			used[*v.UnitNumber] = true
		}
	}
	for _, d := range devices {
		c, ok := d.(types.BaseVirtualSCSIController)
		if !ok {
			continue
		}
		scsi := c.GetVirtualSCSIController()
		info := scsi.DeviceInfo.GetDescription()
		if strings.HasPrefix(info.Label, "SCSI controller ") {
			continue
		}
		info.Label = fmt.Sprintf("SCSI controller %d", scsi.BusNumber)
		info.Summary = map[string]string{"paravirtual": "VMware paravirtual SCSI", "lsilogic": "LSI Logic",
			"lsilogicsas": "LSI Logic SAS", "buslogic": "BusLogic"}[scsiTypeName(d)]
		scsi.ScsiCtlrUnitNumber = 7
		if scsi.ControllerKey == 0 {
			unit := int32(3)
			for used[unit] {
				unit++
			}
			used[unit] = true
			scsi.ControllerKey, scsi.UnitNumber = pci.Key, types.NewInt32(unit)
		}
	}
	indexControllerDevices(devices) // the PCI controller now lists the new controller (vmfacts.go)
}
