package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"regexp"

	"github.com/vmware/govmomi/simulator"
)

// Fetch (what pyvmomi's property accessors send) of a property that is unset, e.g.
// VirtualMachine.snapshot on a VM without snapshots, makes vcsim 0.24 index an empty
// result in PropertyCollector.Fetch and panic; net/http then drops the connection.
// vCenter answers such a Fetch with an empty FetchResponse (the client reads None).
// The fix lives here, around the simulator's own /sdk handler, because Fetch is typed
// with simulator/internal, which cannot be imported to override the method.
// The panic happens after the property collector has released its locks (they are
// taken with defer) and before anything is written, so recovering is safe.

var fetchRequest = regexp.MustCompile(`<(\w+:)?Fetch[\s/>]`)

const emptyFetchResponse = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><FetchResponse xmlns="urn:vim25"></FetchResponse></soapenv:Body></soapenv:Envelope>`

const systemErrorFault = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring><detail><SystemErrorFault xmlns="urn:vim25" xsi:type="SystemError"><reason>%s</reason></SystemErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`

func withFetchFix(svc *simulator.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readSOAP(w, r, next)
		if !ok {
			return
		}
		isFetch := fetchRequest.Match(body)

		defer func() {
			p := recover()
			if p == nil {
				return
			}
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			if isFetch {
				_, _ = io.WriteString(w, emptyFetchResponse)
				return
			}
			// Any other simulator panic: answer with a SOAP fault instead of
			// dropping the connection, and log it so the harness gap is visible.
			log.Printf("recovered simulator panic: %v", p)
			msg := fmt.Sprintf("vcsim panic: %v", p)
			var esc bytes.Buffer
			_ = xml.EscapeText(&esc, []byte(msg))
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = fmt.Fprintf(w, systemErrorFault, esc.String(), esc.String())
		}()
		svc.ServeSDK(w, r)
	})
}
