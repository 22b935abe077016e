// Package conformdesk adapts a mock-desk Desk to the interfaces of the kit
// conformance suite (core/conformance), so a kit's test wires the two with
// one call:
//
//	desk, _ := mockdesk.New(mockdesk.Options{…})
//	srv := httptest.NewServer(desk)
//	h := &conformance.Harness{Factory: mykit.Factory(srv.URL), Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk)}
//
// It lives in its own package so that mockdesk itself never depends on the
// suite (and its testing imports).
package conformdesk
