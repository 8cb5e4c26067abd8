package main

import (
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// vmDef describes one scene VM; devices get the keys vCenter would give them
// (SCSI controller 1000 on PCI 100, disks 2000+, cdrom 3000 on IDE 200).
type vmDef struct {
	name, folder, guest, ds string
	host                    int // index into the cluster hosts
	cpus                    int32
	memMB                   int64
	ctrl                    string // pvscsi, lsisas or lsilogic
	disksGB                 []int64
	extra                   map[string]string
	uuid                    string   // BIOS uuid (config.uuid); derived from the name if empty
	diskUUIDs               []string // backing uuids; derived from name and unit if empty
	snapshots               []string // created as a chain: each one a child of the previous
	on, cdrom               bool
}

// vmwareUUID formats stable hex digits the way VMware prints BIOS/disk uuids.
func vmwareUUID(seed, prefix string) string {
	h := prefix + hexID(seed)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func masterTarget(name string, host int) vmDef {
	return vmDef{name: name, folder: "asr", guest: "ubuntu64Guest", ds: "vmfs-mt-01", host: host,
		cpus: 4, memMB: 8192, ctrl: "pvscsi", disksGB: []int64{100, 1024},
		snapshots: []string{"before-patch", "after-patch"}, on: true, cdrom: true}
}

func (s *seeder) vms(masterTargets, extraVMs int) error {
	mt1 := masterTarget("asr-mt-01", 0)
	mt1.uuid = vmwareUUID(mt1.name, "4201")
	defs := []vmDef{
		mt1,
		{name: "asr-mt-02", folder: "asr", guest: "ubuntu64Guest", ds: "vmfs-mt-01", host: 1,
			cpus: 4, memMB: 8192, ctrl: "lsisas", disksGB: []int64{100, 1024},
			extra: map[string]string{"disk.EnableUUID": "TRUE"}, cdrom: true},
		{name: "prod-web-01", folder: "prod", guest: "ubuntu64Guest", ds: "vmfs-prod-01", host: 1,
			cpus: 2, memMB: 4096, ctrl: "pvscsi", disksGB: []int64{40}, snapshots: []string{"nightly"}, on: true},
		{name: "prod-db-01", folder: "prod", guest: "ubuntu64Guest", ds: "vmfs-prod-02", host: 2,
			cpus: 4, memMB: 16384, ctrl: "lsisas", disksGB: []int64{40, 200}, on: true},
		{name: "prod-app-nfs", folder: "prod", guest: "ubuntu64Guest", ds: "nfs-prod-01", host: 1,
			cpus: 2, memMB: 4096, ctrl: "lsisas", disksGB: []int64{40}, on: true},
		{name: "prod-win-01", folder: "prod", guest: "windows9Server64Guest", ds: "vmfs-prod-02", host: 2,
			cpus: 2, memMB: 8192, ctrl: "lsisas", disksGB: []int64{80}, on: true},
		// a clone of the same template as asr-mt-01: same BIOS uuid and first disk uuid
		{name: "prod-clone-01", folder: "prod", guest: "ubuntu64Guest", ds: "vmfs-prod-01", host: 2,
			cpus: 2, memMB: 4096, ctrl: "lsisas", disksGB: []int64{100}, on: true,
			uuid: vmwareUUID(mt1.name, "4201"), diskUUIDs: []string{vmwareUUID(mt1.name+"/0", "6000c29")}},
		// same name in two folders (on two datastores: vcsim names VM directories after VMs)
		{name: "dup-vm", folder: "teamA", guest: "ubuntu64Guest", ds: "vmfs-prod-01", host: 1,
			cpus: 1, memMB: 2048, ctrl: "lsilogic", disksGB: []int64{16}},
		{name: "dup-vm", folder: "teamB", guest: "ubuntu64Guest", ds: "vmfs-prod-02", host: 2,
			cpus: 1, memMB: 2048, ctrl: "lsilogic", disksGB: []int64{16}},
	}
	for i := 3; i <= masterTargets; i++ {
		defs = append(defs, masterTarget(fmt.Sprintf("asr-mt-%02d", i), i%3))
	}
	for i := 1; i <= extraVMs; i++ {
		defs = append(defs, vmDef{name: fmt.Sprintf("filler-%04d", i), folder: "filler", guest: "ubuntu64Guest",
			ds: "vmfs-prod-01", host: i % 3, cpus: 1, memMB: 2048, ctrl: "lsisas", disksGB: []int64{16}})
	}
	for _, d := range defs {
		if err := s.createVM(d); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

func (s *seeder) createVM(d vmDef) error {
	ctx := s.ctx
	scsi := types.VirtualSCSIController{
		SharedBus:          types.VirtualSCSISharingNoSharing,
		ScsiCtlrUnitNumber: 7,
		VirtualController: types.VirtualController{BusNumber: 0, VirtualDevice: types.VirtualDevice{
			Key: 1000, ControllerKey: 100, UnitNumber: types.NewInt32(3),
			DeviceInfo: &types.Description{Label: "SCSI controller 0"}}},
	}
	var ctrl types.BaseVirtualDevice
	switch d.ctrl {
	case "pvscsi":
		scsi.DeviceInfo.GetDescription().Summary = "VMware paravirtual SCSI"
		ctrl = &types.ParaVirtualSCSIController{VirtualSCSIController: scsi}
	case "lsisas":
		scsi.DeviceInfo.GetDescription().Summary = "LSI Logic SAS"
		ctrl = &types.VirtualLsiLogicSASController{VirtualSCSIController: scsi}
	default:
		scsi.DeviceInfo.GetDescription().Summary = "LSI Logic"
		ctrl = &types.VirtualLsiLogicController{VirtualSCSIController: scsi}
	}
	add := func(dev types.BaseVirtualDevice, fileOp types.VirtualDeviceConfigSpecFileOperation) types.BaseVirtualDeviceConfigSpec {
		return &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, FileOperation: fileOp, Device: dev}
	}
	changes := []types.BaseVirtualDeviceConfigSpec{add(ctrl, "")}

	for i, size := range d.disksGB {
		file := fmt.Sprintf("[%s] %s/%s.vmdk", d.ds, d.name, d.name)
		if i > 0 {
			file = fmt.Sprintf("[%s] %s/%s_%d.vmdk", d.ds, d.name, d.name, i)
		}
		uuid := vmwareUUID(fmt.Sprintf("%s/%d", d.name, i), "6000c29")
		if i < len(d.diskUUIDs) {
			uuid = d.diskUUIDs[i]
		}
		key := int32(2000 + i)
		disk := &types.VirtualDisk{
			CapacityInKB: size * 1024 * 1024, CapacityInBytes: size * gb,
			VirtualDevice: types.VirtualDevice{
				Key: key, ControllerKey: 1000, UnitNumber: types.NewInt32(int32(i)),
				DeviceInfo: &types.Description{Label: fmt.Sprintf("Hard disk %d", i+1)},
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: file},
					DiskMode:                     string(types.VirtualDiskModePersistent),
					ThinProvisioned:              types.NewBool(true),
					Uuid:                         uuid,
				}},
		}
		changes = append(changes, add(disk, types.VirtualDeviceConfigSpecFileOperationCreate))
	}
	if d.cdrom {
		changes = append(changes, add(&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{
			Key: 3000, ControllerKey: 200, UnitNumber: types.NewInt32(0),
			DeviceInfo: &types.Description{Label: "CD/DVD drive 1", Summary: "Remote device"},
			Backing: &types.VirtualCdromRemotePassthroughBackingInfo{
				VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{UseAutoDetect: types.NewBool(false)}},
			Connectable: &types.VirtualDeviceConnectInfo{AllowGuestControl: true},
		}}, ""))
	}

	uuid := d.uuid
	if uuid == "" {
		uuid = vmwareUUID(d.name+"@"+d.folder, "4201")
	}
	spec := types.VirtualMachineConfigSpec{
		Name: d.name, GuestId: d.guest, NumCPUs: d.cpus, NumCoresPerSocket: d.cpus, MemoryMB: d.memMB,
		Uuid: uuid, Files: &types.VirtualMachineFileInfo{VmPathName: "[" + d.ds + "]"},
		DeviceChange: changes,
	}
	for k, v := range d.extra {
		spec.ExtraConfig = append(spec.ExtraConfig, &types.OptionValue{Key: k, Value: v})
	}

	host := s.hosts[d.host%len(s.hosts)]
	task, err := s.folders[d.folder].CreateVM(ctx, spec, s.pool, host)
	if err = wait(task, err); err != nil {
		return err
	}
	ref, err := s.finder.ObjectReference(ctx, taskResult(task))
	if err != nil {
		return err
	}
	vm := ref.(*object.VirtualMachine)
	for _, name := range d.snapshots {
		if err := wait(vm.CreateSnapshot(ctx, name, "", false, false)); err != nil {
			return err
		}
	}
	if d.on {
		return wait(vm.PowerOn(ctx))
	}
	return nil
}
