// HTTP interception shared by the handlers that change how vcsim answers one SOAP
// call (fetchfix.go, tools.go, guestshutdown.go, faults.go, privileges.go).

package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// readSOAP returns the body of a SOAP request (a POST to /sdk...) and puts it back for
// the next handler. For any other request it serves it with next and returns ok=false.
func readSOAP(w http.ResponseWriter, r *http.Request, next http.Handler) (body []byte, ok bool) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
		next.ServeHTTP(w, r)
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return nil, false
	}
	setBody(r, body)
	return body, true
}

func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// withVMStandIn serves a method that vcsim's VirtualMachine lacks or answers wrongly on a
// per-VM stand-in object: VirtualMachine objects cannot be wrapped (vcsim type-asserts
// them), so the request's _this is rewritten from the VM to the stand-in of type
// standType, created on first use by newStandIn. `call` matches the SOAP call; its two
// groups are the _this element's attributes and the VM's moid. `wanted` (nil: always)
// says whether this VM's call goes to the stand-in.
func withVMStandIn(next http.Handler, call *regexp.Regexp, standType string,
	wanted func(*simulator.VirtualMachine) bool,
	newStandIn func(self, vm types.ManagedObjectReference) mo.Reference) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		if m := call.FindSubmatchIndex(body); m != nil {
			attrs := body[m[2]:m[3]]
			ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: string(body[m[4]:m[5]])}
			vm, isVM := simulator.Map.Get(ref).(*simulator.VirtualMachine)
			if isVM && bytes.Contains(attrs, []byte(`"VirtualMachine"`)) && (wanted == nil || wanted(vm)) {
				stand := types.ManagedObjectReference{Type: standType, Value: ref.Value}
				mu.Lock()
				if simulator.Map.Get(stand) == nil {
					simulator.Map.Put(newStandIn(stand, ref))
				}
				mu.Unlock()
				attrs = bytes.Replace(attrs, []byte(`"VirtualMachine"`), []byte(`"`+standType+`"`), 1)
				setBody(r, append(append(append([]byte{}, body[:m[2]]...), attrs...), body[m[3]:]...))
			}
		}
		next.ServeHTTP(w, r)
	})
}
