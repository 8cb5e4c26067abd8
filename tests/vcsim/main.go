// Command vcsim-harness serves a vCenter simulator (govmomi vcsim 0.24) with the
// scene the siterecovery.master_target tests expect. See README.md.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	username := flag.String("username", "administrator@vsphere.local", "the only user name accepted by Login")
	password := flag.String("password", "VMware1!", "the only password accepted by Login")
	certFile := flag.String("cert", "", "PEM certificate (default: generate a self-signed one)")
	keyFile := flag.String("key", "", "PEM private key for -cert")
	certOut := flag.String("cert-out", "", "write the generated certificate (PEM) here, so clients can trust it")
	scene := flag.String("scene", "default", "inventory: default, empty (plain VPX model) or esx (plain ESX model)")
	extraVMs := flag.Int("extra-vms", 0, "number of extra plain VMs filler-0001.. in folder 'filler'")
	masterTargets := flag.Int("master-targets", 2, "number of master targets asr-mt-01.. (>= 2 in the default scene)")
	flag.Parse()
	log.SetPrefix("vcsim-harness: ")

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen must be a loopback address, got %q", *listen)
	}

	cert, certPath, err := loadOrCreateCert(*certFile, *keyFile, *certOut)
	if err != nil {
		log.Fatal(err)
	}

	model := simulator.VPX()
	if *scene == "default" {
		model.Machine = 0 // our own VMs replace the model's DC0_*_VM* ones
	} else if *scene == "esx" {
		model = simulator.ESX() // a direct connection to one ESXi host (about.apiType HostAgent), with its own licence (license.go)
	} else if *scene != "empty" {
		log.Fatalf("unknown -scene %q (want default, empty or esx)", *scene)
	}
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	// Start-up order, and why (each step's file says what it changes; README.md's table says why):
	//  1. model.Create: vcsim's inventory (datacenter, cluster and hosts, datastores). Everything
	//     below needs its objects; the scene adds VMs, folders and datastores, never hosts.
	//  2. Before the scene, because the scene's own calls go through them:
	//     - installExtensions (extend.go): the scene configures Storage DRS overrides through the
	//       StorageResourceManager wrapper and lists datastores through the ViewManager wrapper;
	//     - installLicenses, installPrivileges: need only the model's hosts and root folder;
	//     - installDiskFacts, installStorageSystems, installVMFacts, installEntityTasks: Registry
	//       handlers and host wrappers that must see every VM, disk and task the scene creates;
	//     - installAnyTypeMoRefAlias, installDrsDefaults: the type registry and the model's cluster.
	//  3. buildDefaultScene (scene.go, vms.go), default scene only.
	//  4. After the scene: installTools gives Tools to the VMs present now (VMs created later by a
	//     client start without); installGuestDescriptors wraps every compute resource's browser.
	//  5. The HTTP handlers below: each wrap goes around the previous ones, so the last one wrapped
	//     sees a request first. Each acts on its own SOAP methods (or VMs with its knob) and passes
	//     the rest on; withTaskDelay is outside withReconfigureFault so that a delayed task ends with
	//     the fault harness.reconfigureFault asks for; withFetchFix is innermost, next to vcsim.
	installExtensions()
	// host licences, UpdateAssignedLicense (license.go); roles behind HasPrivilegeOnEntities (privileges.go)
	installLicenses()
	installPrivileges(*username)
	installDiskFacts()      // ReconfigVM_Task: new disks' uuid and label, free space on disk edit (disks.go)
	installStorageSystems() // HostStorageSystem.MountVmfsVolume/UnmountVmfsVolume (storage.go)
	installVMFacts()
	installEntityTasks()       // each VM's recentTask, as vCenter lists it (tasks.go)
	installAnyTypeMoRefAlias() // anyType MoRefs from pyVmomi, e.g. removeKey of VM overrides (drs.go)
	installDrsDefaults()       // every cluster reports enableVmBehaviorOverrides=true, as vCenter (drs.go)
	var sceneDir string
	if *scene == "default" {
		if sceneDir, err = buildDefaultScene(model, *masterTargets, *extraVMs); err != nil {
			model.Remove()
			log.Fatal(err)
		}
	}
	installTools()            // VMware Tools state of the VMs present now + harness.tools control (tools.go)
	installGuestDescriptors() // guest OS descriptors with their disk controllers (guestos.go)

	// A user in Listen makes SessionManager.validLogin compare name and password
	// exactly (with no user it accepts any non-empty pair).
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server := model.Service.NewServer()
	// NewServer has just started serving, but nobody knows the port until we print
	// it below, so no request can be in flight while the handler is swapped.
	server.Config.Handler = withFetchFix(model.Service, server.Config.Handler)
	server.Config.Handler = withToolsInstaller(server.Config.Handler) // Mount/UnmountToolsInstaller (tools.go)
	server.Config.Handler = withGuestShutdown(server.Config.Handler)  // ShutdownGuest faults and timing as in vCenter (guestshutdown.go)
	// the -readonly-username user's Login (privileges.go)
	server.Config.Handler = withReadOnlyLogin(model.Service, server.Config.Handler)
	// ReconfigVM_Task faults on demand: extraConfig harness.reconfigureFault (faults.go)
	server.Config.Handler = withReconfigureFault(server.Config.Handler)
	// long-running ReconfigVM_Task/RemoveAllSnapshots_Task: extraConfig harness.taskDelay (tasks.go)
	server.Config.Handler = withTaskDelay(server.Config.Handler)
	server.Config.Handler = withPowerOn(server.Config.Handler) // runtime.bootTime as vCenter sets it, harness.question and AnswerVM (power.go)
	// DisconnectHost_Task, ReconnectHost_Task (hosts.go)
	server.Config.Handler = withHostConnection(server.Config.Handler)
	server.Config.Handler = withClusterReconfigure(server.Config.Handler) // ReconfigureComputeResource_Task applies drsConfig (drs.go)
	// DatastoreEnterMaintenanceMode, DatastoreExitMaintenanceMode_Task (maintenance.go)
	server.Config.Handler = withDatastoreMaintenance(server.Config.Handler)

	addr := server.Listener.Addr().(*net.TCPAddr)
	line, _ := json.Marshal(map[string]interface{}{
		"host":     "127.0.0.1",
		"port":     addr.Port,
		"url":      "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port)) + "/sdk",
		"username": *username,
		"password": *password,
		"cert":     certPath,
	})
	fmt.Println(string(line))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	server.Close()
	model.Remove()
	if sceneDir != "" {
		_ = os.RemoveAll(sceneDir)
	}
}
