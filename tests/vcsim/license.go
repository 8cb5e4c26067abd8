package main

// Host licences, which vcsim 0.24 answers with one fixed evaluation licence for
// every entity (LicenseAssignmentManager.QueryAssignedLicenses) and cannot change
// (no UpdateAssignedLicense).
//
// Here the LicenseManager holds three licences (keys are made up; edition keys and
// names are the ones vCenter reports for these editions):
//   - harnessPaidKey: "VMware vSphere 7 Enterprise Plus" (esx.enterprisePlus.cpuPackage),
//     assigned to every host at start;
//   - harnessFreeKey: "vSphere 7 Hypervisor" (esx.hypervisor.cpuPackageCoreLimited),
//     the free ESXi edition, assigned to no host at start;
//   - harnessVcKey: "VMware vCenter Server 7 Standard" (vc.standard.instance), vCenter's own.
// plus vcsim's evaluation licence. Tests give a host the free edition the way an
// administrator does, with LicenseAssignmentManager.UpdateAssignedLicense(entity=<host
// moid>, licenseKey=harnessFreeKey). QueryAssignedLicenses with an entityId answers
// that entity's assignment; without one, every assignment (each host and vCenter),
// as vCenter does.

import (
	"sort"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	harnessPaidKey = "HARNS-ENTPL-00000-00000-00001"
	harnessFreeKey = "HARNS-FREE0-00000-00000-00002"
	harnessVcKey   = "HARNS-VCSTD-00000-00000-00003"
)

func harnessLicense(key, edition, name, unit string, total int32) types.LicenseManagerLicenseInfo {
	return types.LicenseManagerLicenseInfo{LicenseKey: key, EditionKey: edition, Name: name, CostUnit: unit, Total: total}
}

var harnessLicenses = []types.LicenseManagerLicenseInfo{
	harnessLicense(harnessPaidKey, "esx.enterprisePlus.cpuPackage", "VMware vSphere 7 Enterprise Plus", "cpuPackage", 16),
	harnessLicense(harnessFreeKey, "esx.hypervisor.cpuPackageCoreLimited", "vSphere 7 Hypervisor", "cpuPackage:32core", 0),
	harnessLicense(harnessVcKey, "vc.standard.instance", "VMware vCenter Server 7 Standard", "server", 1),
}

// licenseAssignments embeds the simulator's object by value (see storage.go for why).
type licenseAssignments struct {
	simulator.LicenseAssignmentManager
	mu       *sync.Mutex
	assigned map[string]string // entity id (host moid, or vCenter's instance uuid) -> licence key
	names    map[string]string // entity id -> display name
}

// installLicenses must run after the scene is built: every host present gets the paid licence.
func installLicenses() {
	content := simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
	lm := simulator.Map.Get(content.LicenseManager.Reference()).(*simulator.LicenseManager)
	if lm.LicenseAssignmentManager == nil {
		return // ESX model: no assignment manager
	}
	simulator.Map.WithLock(lm, func() { lm.Licenses = append(lm.Licenses, harnessLicenses...) })
	am := simulator.Map.Get(*lm.LicenseAssignmentManager).(*simulator.LicenseAssignmentManager)
	w := &licenseAssignments{LicenseAssignmentManager: *am, mu: &sync.Mutex{},
		assigned: map[string]string{content.About.InstanceUuid: harnessVcKey},
		names:    map[string]string{content.About.InstanceUuid: content.About.Name}}
	for _, e := range simulator.Map.All("HostSystem") {
		host := e.(*simulator.HostSystem)
		w.assigned[host.Self.Value] = harnessPaidKey
		w.names[host.Self.Value] = host.Name
	}
	simulator.Map.Put(w)
}

func licenseByKey(key string) (types.LicenseManagerLicenseInfo, bool) {
	content := simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
	lm := simulator.Map.Get(content.LicenseManager.Reference()).(*simulator.LicenseManager)
	for _, l := range lm.Licenses {
		if l.LicenseKey == key {
			return l, true
		}
	}
	return types.LicenseManagerLicenseInfo{}, false
}

func (m *licenseAssignments) assignment(id string) types.LicenseAssignmentManagerLicenseAssignment {
	info, _ := licenseByKey(m.assigned[id])
	return types.LicenseAssignmentManagerLicenseAssignment{EntityId: id, EntityDisplayName: m.names[id], AssignedLicense: info}
}

func (m *licenseAssignments) QueryAssignedLicenses(req *types.QueryAssignedLicenses) soap.HasFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	body := &methods.QueryAssignedLicensesBody{Res: &types.QueryAssignedLicensesResponse{}}
	if req.EntityId != "" {
		if _, ok := m.assigned[req.EntityId]; ok {
			body.Res.Returnval = append(body.Res.Returnval, m.assignment(req.EntityId))
		}
		return body
	}
	ids := make([]string, 0, len(m.assigned))
	for id := range m.assigned {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		body.Res.Returnval = append(body.Res.Returnval, m.assignment(id))
	}
	return body
}

func (m *licenseAssignments) UpdateAssignedLicense(req *types.UpdateAssignedLicense) soap.HasFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	body := &methods.UpdateAssignedLicenseBody{}
	info, ok := licenseByKey(req.LicenseKey)
	if !ok {
		body.Fault_ = simulator.Fault("license key not found", &types.InvalidArgument{InvalidProperty: "licenseKey"})
		return body
	}
	if _, known := m.assigned[req.Entity]; !known {
		host := simulator.Map.Get(types.ManagedObjectReference{Type: "HostSystem", Value: req.Entity})
		if host == nil {
			body.Fault_ = simulator.Fault("entity not found", &types.InvalidArgument{InvalidProperty: "entity"})
			return body
		}
		m.names[req.Entity] = host.(*simulator.HostSystem).Name
	}
	m.assigned[req.Entity] = req.LicenseKey
	if req.EntityDisplayName != "" {
		m.names[req.Entity] = req.EntityDisplayName
	}
	body.Res = &types.UpdateAssignedLicenseResponse{Returnval: info}
	return body
}
