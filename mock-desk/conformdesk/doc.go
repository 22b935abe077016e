// Package conformdesk adapts a mock-desk Desk to the interfaces of the kit
// conformance suite (core/conformance), so a kit's test is one call with a
// maker of a few lines:
//
//	conformance.Run(t, features, func(t *testing.T) *conformance.Harness {
//		d := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1)})
//		srv := conformdesk.Serve(t, d) // closed with the test
//		kit, err := mykit.New(mykit.Config{BaseURL: srv.URL})
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Cleanup(func() { _ = kit.Close() })
//		return conformdesk.Harness(d, kit.Factory)
//	})
//
// A vendor face goes in front of the desk with ServeHandler.
//
// It lives in its own package so that mockdesk itself never depends on the
// suite (and its testing imports).
package conformdesk
