package main

// The "default" scene: fixed names the tests rely on (see README.md).
// Everything that the API can do is done through an in-process vim25 client (the
// simulator's own RoundTripper, no HTTP); the few facts vcsim cannot produce
// (VMFS type/info, per-host mounts, pod summary) are set on the simulator objects.

import (
	"context"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

const gb = int64(1) << 30

type seeder struct {
	ctx     context.Context
	c       *vim25.Client
	finder  *find.Finder
	dc      *object.Datacenter
	hosts   []*object.HostSystem // hosts of DC0_C0, sorted by name
	pool    *object.ResourcePool // DC0_C0's root resource pool
	folders map[string]*object.Folder
	ds      map[string]types.ManagedObjectReference
	dir     string // where the datastores' files live
	pod     types.ManagedObjectReference
}

func buildDefaultScene(model *simulator.Model, masterTargets, extraVMs int) (string, error) {
	ctx := context.Background()
	c, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "vcsim-harness-")
	if err != nil {
		return "", err
	}
	s := &seeder{ctx: ctx, c: c, finder: find.NewFinder(c, false), dir: dir,
		folders: map[string]*object.Folder{}, ds: map[string]types.ManagedObjectReference{}}
	if masterTargets < 2 {
		masterTargets = 2
	}
	return dir, s.build(masterTargets, extraVMs)
}

// wait returns the task's error: vcsim runs tasks synchronously, so the result is
// already in the registry (cheaper than a PropertyCollector wait per task).
func wait(t *object.Task, err error) error {
	if err != nil {
		return err
	}
	task := simulator.Map.Get(t.Reference()).(*simulator.Task)
	if task.Info.Error != nil {
		return fmt.Errorf("%s: %s", task.Info.DescriptionId, task.Info.Error.LocalizedMessage)
	}
	return nil
}

func (s *seeder) build(masterTargets, extraVMs int) error {
	ctx := s.ctx
	var err error
	if s.dc, err = s.finder.Datacenter(ctx, "DC0"); err != nil {
		return err
	}
	s.finder.SetDatacenter(s.dc)
	cluster, err := s.finder.ClusterComputeResource(ctx, "DC0_C0")
	if err != nil {
		return err
	}
	if s.hosts, err = cluster.Hosts(ctx); err != nil {
		return err
	}
	sort.Slice(s.hosts, func(i, j int) bool { return s.hosts[i].Name() < s.hosts[j].Name() })
	if s.pool, err = cluster.ResourcePool(ctx); err != nil {
		return err
	}
	drs := &types.ClusterConfigSpecEx{DrsConfig: &types.ClusterDrsConfigInfo{
		Enabled: types.NewBool(true), DefaultVmBehavior: types.DrsBehaviorFullyAutomated}}
	if err = wait(cluster.Reconfigure(ctx, drs, true)); err != nil {
		return err
	}
	// vcsim drops drsConfig; the HTTP fix (drs.go) does not see this in-process call.
	sim := simulator.Map.Get(cluster.Reference()).(*simulator.ClusterComputeResource)
	simulator.Map.WithLock(sim, func() { applyDrsConfig(sim, drs.DrsConfig, true) })

	if err = s.datastores(masterTargets, extraVMs); err != nil {
		return err
	}
	if err = s.storagePod(); err != nil {
		return err
	}
	folders, err := s.dc.Folders(ctx)
	if err != nil {
		return err
	}
	names := []string{"asr", "prod", "teamA", "teamB"}
	if extraVMs > 0 {
		names = append(names, "filler")
	}
	for _, name := range names {
		if s.folders[name], err = folders.VmFolder.CreateFolder(ctx, name); err != nil {
			return err
		}
	}
	if err = s.vms(masterTargets, extraVMs); err != nil {
		return err
	}
	s.podSummary()
	return nil
}

type mount struct {
	host    int
	mode    types.HostMountMode
	mounted bool
}

func allHosts(mode types.HostMountMode) []mount {
	return []mount{{0, mode, true}, {1, mode, true}, {2, mode, true}}
}

func (s *seeder) datastores(masterTargets, extraVMs int) error {
	rw := types.HostMountModeReadWrite
	vmfs := []struct {
		name     string
		capacity int64
		mounts   []mount
	}{
		// capacities leave room for the disks below (vcsim subtracts full disk sizes)
		{"vmfs-mt-01", int64(4+2*masterTargets) * 1024 * gb, allHosts(rw)},
		{"vmfs-prod-01", (4*1024 + 20*int64(extraVMs)) * gb, allHosts(rw)},
		{"vmfs-prod-02", 4 * 1024 * gb, allHosts(rw)},
		{"vmfs-readonly", 1024 * gb, []mount{{0, types.HostMountModeReadOnly, true}}},
		{"vmfs-unmounted", 1024 * gb, []mount{{0, rw, false}}},
	}
	dss, err := s.hosts[0].ConfigManager().DatastoreSystem(s.ctx)
	if err != nil {
		return err
	}
	for i, d := range vmfs {
		dir := filepath.Join(s.dir, d.name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		// vcsim can only create "local" datastores (type OTHER); made VMFS below
		ds, err := dss.CreateLocalDatastore(s.ctx, d.name, dir)
		if err != nil {
			return err
		}
		s.ds[d.name] = ds.Reference()
		s.makeVMFS(ds.Reference(), d.name, i, d.capacity)
		s.attach(ds.Reference(), d.mounts)
	}

	// CreateNasDatastore names the datastore after the local path, which must exist
	dir := filepath.Join(s.dir, "nfs-prod-01")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	nfs, err := dss.CreateNasDatastore(s.ctx, types.HostNasVolumeSpec{
		RemoteHost: "nfs01.lab.local", RemotePath: "/export/prod01", LocalPath: dir,
		AccessMode: string(rw), Type: string(types.HostFileSystemVolumeFileSystemTypeNFS),
	})
	if err != nil {
		return err
	}
	s.ds["nfs-prod-01"] = nfs.Reference()
	s.setCapacity(nfs.Reference(), 2*1024*gb)
	s.attach(nfs.Reference(), allHosts(rw))
	s.mountModelDatastores()
	return nil
}

// mountModelDatastores gives the model's LocalDS_0 a mount for every host that
// lists it (vcsim records only the first host).
func (s *seeder) mountModelDatastores() {
	for _, e := range simulator.Map.All("HostSystem") {
		host := e.(*simulator.HostSystem)
		for _, ref := range host.Datastore {
			ds := simulator.Map.Get(ref).(*simulator.Datastore)
			if _, ours := s.ds[ds.Name]; ours {
				continue
			}
			simulator.Map.WithLock(ds, func() {
				for _, m := range ds.Host {
					if m.Key == host.Self {
						return
					}
				}
				ds.Host = append(ds.Host, types.DatastoreHostMount{Key: host.Self, MountInfo: types.HostMountInfo{
					Path: "/vmfs/volumes/" + ds.Name, AccessMode: string(types.HostMountModeReadWrite),
					Mounted: types.NewBool(true), Accessible: types.NewBool(true)}})
				ds.Summary.MultipleHostAccess = types.NewBool(len(ds.Host) > 1)
			})
		}
	}
}

// hexID derives stable hex digits from a name (VMFS uuids, disk uuids, naa ids).
func hexID(name string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(name)))
}

// makeVMFS turns a vcsim "local" (OTHER) datastore into a VMFS 6 one.
func (s *seeder) makeVMFS(ref types.ManagedObjectReference, name string, n int, capacity int64) {
	ds := simulator.Map.Get(ref).(*simulator.Datastore)
	h := hexID(name)
	uuid := fmt.Sprintf("%s-%s-%s-%s", h[0:8], h[8:16], h[16:20], h[20:32])
	simulator.Map.WithLock(ds, func() {
		info := *ds.Info.GetDatastoreInfo() // url stays the local directory vcsim writes files to
		ds.Info = &types.VmfsDatastoreInfo{
			DatastoreInfo:          info,
			MaxPhysicalRDMFileSize: 64 * 1024 * gb,
			MaxVirtualRDMFileSize:  62 * 1024 * gb,
			Vmfs: &types.HostVmfsVolume{
				HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: name, Capacity: capacity},
				BlockSizeMb:          1,
				MaxBlocks:            64 * 1024 * 1024,
				MajorVersion:         6,
				Version:              "6.82",
				Uuid:                 uuid,
				Extent:               []types.HostScsiDiskPartition{{DiskName: fmt.Sprintf("naa.6000c29%s", h[:23]), Partition: 1}},
				VmfsUpgradable:       false,
				Ssd:                  types.NewBool(true),
				Local:                types.NewBool(false),
			},
		}
		ds.Summary.Type = string(types.HostFileSystemVolumeFileSystemTypeVMFS)
	})
	s.setCapacity(ref, capacity)
}

// setCapacity replaces the size of the temp file system vcsim reports with a
// plausible one; VM disks created afterwards are subtracted from it by vcsim.
func (s *seeder) setCapacity(ref types.ManagedObjectReference, capacity int64) {
	ds := simulator.Map.Get(ref).(*simulator.Datastore)
	simulator.Map.WithLock(ds, func() {
		info := ds.Info.GetDatastoreInfo()
		ds.Summary.Capacity = capacity
		ds.Summary.FreeSpace = capacity
		info.FreeSpace = capacity
		info.MaxFileSize = 62 * 1024 * gb
		info.MaxMemoryFileSize = 62 * 1024 * gb
		info.MaxVirtualDiskCapacity = 62 * 1024 * gb
	})
}

// attach gives every listed host its own DatastoreHostMount (vcsim lists only the
// creating host, and none at all for NFS) and lists the datastore on those hosts.
func (s *seeder) attach(ref types.ManagedObjectReference, mounts []mount) {
	ds := simulator.Map.Get(ref).(*simulator.Datastore)
	var hm []types.DatastoreHostMount
	accessible := false
	for _, m := range mounts {
		href := s.hosts[m.host].Reference()
		path := "/vmfs/volumes/" + ds.Name
		if v, ok := ds.Info.(*types.VmfsDatastoreInfo); ok {
			path = "/vmfs/volumes/" + v.Vmfs.Uuid
		}
		hm = append(hm, types.DatastoreHostMount{Key: href, MountInfo: types.HostMountInfo{
			Path: path, AccessMode: string(m.mode),
			Mounted: types.NewBool(m.mounted), Accessible: types.NewBool(m.mounted),
		}})
		accessible = accessible || m.mounted
		if m.host == 0 {
			continue // host 0 created it: already in its lists
		}
		host := simulator.Map.Get(href).(*simulator.HostSystem)
		hds := simulator.Map.Get(*host.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
		simulator.Map.WithLock(host, func() {
			// same bookkeeping as HostDatastoreSystem.add: host.datastore aliases the system's list
			hds.Datastore = append(hds.Datastore, ref)
			host.Datastore = hds.Datastore
		})
	}
	simulator.Map.WithLock(ds, func() {
		ds.Host = hm
		ds.Summary.MultipleHostAccess = types.NewBool(len(hm) > 1)
		ds.Summary.Accessible = accessible
	})
}

func (s *seeder) storagePod() error {
	folders, err := s.dc.Folders(s.ctx)
	if err != nil {
		return err
	}
	pod, err := folders.DatastoreFolder.CreateStoragePod(s.ctx, "dsc-failback")
	if err != nil {
		return err
	}
	members := []types.ManagedObjectReference{s.ds["vmfs-mt-01"], s.ds["vmfs-prod-01"]}
	if err = wait(pod.MoveInto(s.ctx, members)); err != nil {
		return err
	}
	// vcsim creates pods with Storage DRS enabled; make the behaviour explicit
	_, err = methods.ConfigureStorageDrsForPod_Task(s.ctx, s.c, &types.ConfigureStorageDrsForPod_Task{
		This: *s.c.ServiceContent.StorageResourceManager, Pod: pod.Reference(), Modify: true,
		Spec: types.StorageDrsConfigSpec{PodConfigSpec: &types.StorageDrsPodConfigSpec{
			Enabled: types.NewBool(true), DefaultVmBehavior: string(types.StorageDrsPodConfigInfoBehaviorAutomated)}},
	})
	s.pod = pod.Reference()
	return err
}

// podSummary fills the pod summary, which vcsim leaves empty (vCenter sums its
// datastores); called once the VMs' disks have been subtracted.
func (s *seeder) podSummary() {
	members := []types.ManagedObjectReference{s.ds["vmfs-mt-01"], s.ds["vmfs-prod-01"]}
	p := simulator.Map.Get(s.pod).(*simulator.StoragePod)
	simulator.Map.WithLock(p, func() {
		p.Summary = &types.StoragePodSummary{Name: "dsc-failback"}
		for _, m := range members {
			ds := simulator.Map.Get(m).(*simulator.Datastore)
			p.Summary.Capacity += ds.Summary.Capacity
			p.Summary.FreeSpace += ds.Summary.FreeSpace
		}
	})
}

func taskResult(t *object.Task) types.ManagedObjectReference {
	task := simulator.Map.Get(t.Reference()).(*simulator.Task)
	return task.Info.Result.(types.ManagedObjectReference)
}
