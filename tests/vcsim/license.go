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
//     the free ESXi edition, assigned to no host;
//   - harnessVcKey: "VMware vCenter Server 7 Standard" (vc.standard.instance), vCenter's own.
// plus vcsim's evaluation licence. Tests change a host's licence the way an
// administrator does, with LicenseAssignmentManager.UpdateAssignedLicense(entity=<host
// moid>, licenseKey=...). QueryAssignedLicenses with an entityId answers that entity's
// assignment; without one, every assignment (each host and vCenter), as vCenter does.
//
// vCenter cannot manage a host with the free edition (it lacks the vCenter agent
// feature), so UpdateAssignedLicense of harnessFreeKey to a host is refused with
// LicenseKeyEntityMismatch ("thrown if an assignment operation tries to assign a license
// that does not apply to an entity", vSphere Web Services API), as is a host licence for
// vCenter or vCenter's licence for a host; an unknown entity gets LicenseEntityNotFound,
// the fault the reference lists for UpdateAssignedLicense, and an unknown key
// InvalidArgument.
//
// In the ESX model (-scene esx, a direct connection to one ESXi host, no assignment
// manager) LicenseManager.licenses is the host's own licence: harnessPaidKey at start.
// LicenseManager.UpdateLicense(licenseKey) replaces it, as the host client's "Assign
// license" does, with a known ESXi key (harnessFreeKey gives the host the free edition)
// or the evaluation key; vCenter's key gets LicenseKeyEntityMismatch, an unknown key
// InvalidArgument.

import (
	"sort"
	"strings"
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

// installLicenses gives every host present the paid licence: it runs after model.Create made the
// hosts (the default scene adds none).
func installLicenses() {
	content := simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
	lm := simulator.Map.Get(content.LicenseManager.Reference()).(*simulator.LicenseManager)
	if lm.LicenseAssignmentManager == nil { // ESX model: no assignment manager
		paid, _ := licenseByKey(harnessPaidKey)
		w := &hostLicenseManager{*lm}
		w.Licenses = []types.LicenseManagerLicenseInfo{paid}
		simulator.Map.Put(w)
		return
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

// licenseByKey is a licence the harness knows: one of harnessLicenses or the evaluation licence.
func licenseByKey(key string) (types.LicenseManagerLicenseInfo, bool) {
	for _, l := range append([]types.LicenseManagerLicenseInfo{simulator.EvalLicense}, harnessLicenses...) {
		if l.LicenseKey == key {
			return l, true
		}
	}
	return types.LicenseManagerLicenseInfo{}, false
}

// isFreeESXi says whether a licence is the free ESXi edition (vSphere Hypervisor).
func isFreeESXi(l types.LicenseManagerLicenseInfo) bool {
	return strings.HasPrefix(l.EditionKey, "esx.hypervisor")
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
	isVcenter := req.Entity == vimContent().About.InstanceUuid
	var host *simulator.HostSystem
	if !isVcenter {
		host, _ = simulator.Map.Get(types.ManagedObjectReference{Type: "HostSystem", Value: req.Entity}).(*simulator.HostSystem)
		if host == nil {
			body.Fault_ = simulator.Fault("entity "+req.Entity+" not found", &types.LicenseEntityNotFound{EntityId: req.Entity})
			return body
		}
	}
	forVcenter := strings.HasPrefix(info.EditionKey, "vc.")
	switch {
	case host != nil && isFreeESXi(info):
		body.Fault_ = simulator.Fault("License "+info.Name+" ("+info.EditionKey+") does not apply to host "+host.Name+
			": vCenter Server cannot manage a host with the free ESXi edition.", &types.LicenseKeyEntityMismatch{})
		return body
	case isVcenter && !forVcenter && info.EditionKey != simulator.EvalLicense.EditionKey:
		body.Fault_ = simulator.Fault("License "+info.Name+" ("+info.EditionKey+") does not apply to vCenter Server.",
			&types.LicenseKeyEntityMismatch{})
		return body
	case host != nil && forVcenter:
		body.Fault_ = simulator.Fault("License "+info.Name+" ("+info.EditionKey+") does not apply to host "+host.Name+".",
			&types.LicenseKeyEntityMismatch{})
		return body
	}
	if host != nil {
		m.names[req.Entity] = host.Name
	}
	m.assigned[req.Entity] = req.LicenseKey
	if req.EntityDisplayName != "" {
		m.names[req.Entity] = req.EntityDisplayName
	}
	body.Res = &types.UpdateAssignedLicenseResponse{Returnval: info}
	return body
}

// hostLicenseManager embeds the ESX model's LicenseManager by value (see storage.go for why).
type hostLicenseManager struct {
	simulator.LicenseManager
}

// UpdateLicense gives the host the licence of that key (see the top of this file).
func (m *hostLicenseManager) UpdateLicense(req *types.UpdateLicense) soap.HasFault {
	body := &methods.UpdateLicenseBody{}
	info, ok := licenseByKey(req.LicenseKey)
	switch {
	case !ok:
		body.Fault_ = simulator.Fault("license key not found", &types.InvalidArgument{InvalidProperty: "licenseKey"})
	case strings.HasPrefix(info.EditionKey, "vc."):
		body.Fault_ = simulator.Fault("License "+info.Name+" ("+info.EditionKey+") does not apply to an ESXi host.",
			&types.LicenseKeyEntityMismatch{})
	default:
		info.Labels = req.Labels
		m.Licenses = []types.LicenseManagerLicenseInfo{info}
		body.Res = &types.UpdateLicenseResponse{Returnval: info}
	}
	return body
}

func vimContent() types.ServiceContent {
	return simulator.Map.Get(vimServiceInstance()).(*simulator.ServiceInstance).Content
}
