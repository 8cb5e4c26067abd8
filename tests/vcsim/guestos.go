package main

// Guest OS descriptors, which vcsim 0.24 leaves nearly empty.
//
// EnvironmentBrowser.QueryConfigOption answers no guestOSDescriptor at all, and
// QueryConfigOptionEx answers descriptors with only id and family: no
// supportedDiskControllerList, no recommendedSCSIController. vCenter fills both
// (vSphere Web Services API, GuestOsDescriptor), and a client that picks a SCSI
// controller type from them would find nothing to choose from. Here every
// environment browser answers both methods with the descriptors below for the
// guest ids the scene uses, and vcsim's id-and-family ones for the others.
// QueryConfigOptionEx filters by spec.guestId and, like vCenter ("If there is no
// match, the whole list is returned"), returns everything when nothing matches.
//
// The values follow what ESXi 7.0 lists for these guests: Linux guests support
// BusLogic, LSI Logic Parallel, LSI Logic SAS and ParaVirtual; Windows Server
// 2012 and later have no LSI Logic Parallel driver and recommend LSI Logic SAS.
// vcsim's descriptors also lack properties the API declares required, which
// pyVmomi will not decode without ("Required field ... not provided"): complete()
// fills them for every descriptor answered.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var linuxControllers = []string{"VirtualIDEController", "VirtualBusLogicController", "VirtualLsiLogicController",
	"VirtualLsiLogicSASController", "ParaVirtualSCSIController", "VirtualAHCIController", "VirtualNVMEController"}
var windowsControllers = []string{"VirtualIDEController", "VirtualLsiLogicSASController", "ParaVirtualSCSIController",
	"VirtualAHCIController", "VirtualNVMEController"}

var guestDescriptors = []types.GuestOsDescriptor{
	{Id: "ubuntu64Guest", Family: "linuxGuest", FullName: "Ubuntu Linux (64-bit)",
		SupportedDiskControllerList: linuxControllers, RecommendedSCSIController: "VirtualLsiLogicController"},
	{Id: "rhel8_64Guest", Family: "linuxGuest", FullName: "Red Hat Enterprise Linux 8 (64-bit)",
		SupportedDiskControllerList: linuxControllers, RecommendedSCSIController: "ParaVirtualSCSIController"},
	{Id: "windows9Server64Guest", Family: "windowsGuest", FullName: "Microsoft Windows Server 2016 or later (64-bit)",
		SupportedDiskControllerList: windowsControllers, RecommendedSCSIController: "VirtualLsiLogicSASController"},
	{Id: "windows2019srv_64Guest", Family: "windowsGuest", FullName: "Microsoft Windows Server 2019 (64-bit)",
		SupportedDiskControllerList: windowsControllers, RecommendedSCSIController: "VirtualLsiLogicSASController"},
}

// complete fills the properties the API declares required (not optional), which vcsim
// leaves out and a strict client (pyVmomi) refuses to decode without: typical ESXi 7
// values, the same for every guest, that no test of ours reads.
func complete(d types.GuestOsDescriptor) types.GuestOsDescriptor {
	no, yes := types.NewBool(false), types.NewBool(true)
	if d.FullName == "" {
		d.FullName = d.Id
	}
	d.SupportedMaxCPUs, d.NumSupportedPhysicalSockets, d.NumSupportedCoresPerSocket = 768, 128, 64
	d.SupportedMinMemMB, d.SupportedMaxMemMB, d.RecommendedMemMB, d.RecommendedColorDepth = 512, 25165824, 2048, 24
	d.SupportedNumDisks, d.RecommendedDiskSizeMB, d.NumSupportedFloppyDevices = 256, 40960, 2
	d.RecommendedDiskController = d.RecommendedSCSIController
	if d.RecommendedDiskController == "" {
		d.RecommendedDiskController = "VirtualIDEController"
	}
	d.RecommendedCdromController = "VirtualIDEController"
	d.SupportedEthernetCard = []string{"VirtualE1000", "VirtualE1000e", "VirtualVmxnet3"}
	d.RecommendedEthernetCard = "VirtualVmxnet3"
	d.SupportedFirmware, d.RecommendedFirmware = []string{"bios", "efi"}, "efi"
	d.SupportLevel = "supported"
	d.VRAMSizeInKB = &types.IntOption{Min: 1024, Max: 262144, DefaultValue: 4096}
	d.SupportsSlaveDisk, d.SmcRequired, d.SupportsVMI = yes, no, no
	d.SupportsMemoryHotAdd, d.SupportsCpuHotAdd, d.SupportsCpuHotRemove = yes, yes, no
	d.Supports3D, d.Recommended3D, d.SmcRecommended, d.Ich7mRecommended, d.UsbRecommended = yes, no, no, no, no
	d.SupportedForCreate, d.SupportsPvscsiControllerForBoot, d.DiskUuidEnabled, d.SupportsHotPlugPCI = yes, yes, no, yes
	d.SupportsWakeOnLan = true
	return d
}

// environmentBrowser wraps each of vcsim's (one per compute resource).
type environmentBrowser struct {
	*simulator.EnvironmentBrowser
}

func installGuestDescriptors() {
	// Registry.All lists entities only: reach the browsers through their compute resources.
	for _, kind := range []string{"ComputeResource", "ClusterComputeResource"} {
		for _, e := range simulator.Map.All(kind) {
			var ref *types.ManagedObjectReference
			switch cr := e.(type) {
			case *mo.ComputeResource:
				ref = cr.EnvironmentBrowser
			case *simulator.ClusterComputeResource:
				ref = cr.EnvironmentBrowser
			}
			if ref == nil {
				continue
			}
			if eb, ok := simulator.Map.Get(*ref).(*simulator.EnvironmentBrowser); ok {
				simulator.Map.Put(&environmentBrowser{eb})
			}
		}
	}
}

// descriptors: ours, then vcsim's plain ones for the ids we do not describe.
func (b *environmentBrowser) descriptors() []types.GuestOsDescriptor {
	all := append([]types.GuestOsDescriptor{}, guestDescriptors...)
	known := map[string]bool{}
	for _, d := range guestDescriptors {
		known[d.Id] = true
	}
	res := b.EnvironmentBrowser.QueryConfigOptionEx(&types.QueryConfigOptionEx{This: b.Self}).(*methods.QueryConfigOptionExBody).Res
	for _, d := range res.Returnval.GuestOSDescriptor {
		if !known[d.Id] {
			all = append(all, d)
		}
	}
	return all
}

func (b *environmentBrowser) option(ids []string) *types.VirtualMachineConfigOption {
	all := b.descriptors()
	var picked []types.GuestOsDescriptor
	for _, id := range ids {
		for _, d := range all {
			if d.Id == id {
				picked = append(picked, d)
			}
		}
	}
	if len(picked) == 0 {
		picked = all
	}
	for i := range picked {
		picked[i] = complete(picked[i])
	}
	return &types.VirtualMachineConfigOption{Version: esx.HardwareVersion, DefaultDevice: esx.VirtualDevice, GuestOSDescriptor: picked}
}

func (b *environmentBrowser) QueryConfigOptionEx(req *types.QueryConfigOptionEx) soap.HasFault {
	var ids []string
	if req.Spec != nil {
		ids = req.Spec.GuestId
	}
	return &methods.QueryConfigOptionExBody{Res: &types.QueryConfigOptionExResponse{Returnval: b.option(ids)}}
}

func (b *environmentBrowser) QueryConfigOption(req *types.QueryConfigOption) soap.HasFault {
	return &methods.QueryConfigOptionBody{Res: &types.QueryConfigOptionResponse{Returnval: b.option(nil)}}
}
