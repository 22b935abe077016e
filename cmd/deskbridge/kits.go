package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// kitSpec is one kit deskbridge can run: what serve, demo, the usage text
// and the README know of it. Each kit registers itself from its own file
// (kit_NAME.go); scripts/new-kit.sh adds one for a new kit.
type kitSpec struct {
	Name    string
	Aliases []string // other names --kit accepts
	About   string   // one line for the usage text
	// NeedsDeskURL: the kit talks to a desk at --desk-url. The vendor kits
	// talk to the vendor's cloud, or to a mock-desk face at --desk-url.
	NeedsDeskURL bool
	// Settings are the kit's own, read from the environment only.
	Settings []envSetting
	// Start builds the kit.
	Start func(kitConfig) (*kit, error)
	// MockFace is what the demo's mock desk serves for the kit; nil: the
	// desk protocol itself.
	MockFace func(*mockdesk.Desk) http.Handler
	// order places the shipped kits in lists, the default first; kits
	// added later (0) follow by name.
	order int
}

var kitRegistry []kitSpec

// registerKit adds a kit; kit_NAME.go files call it from init.
func registerKit(k kitSpec) {
	if _, ok := lookupKit(k.Name); ok {
		panic("kit registered twice: " + k.Name)
	}
	kitRegistry = append(kitRegistry, k)
	slices.SortStableFunc(kitRegistry, func(a, b kitSpec) int {
		return cmp.Or(cmp.Compare(a.order, b.order), strings.Compare(a.Name, b.Name))
	})
}

// lookupKit finds a kit by its name or an alias, in any case.
func lookupKit(name string) (kitSpec, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, k := range kitRegistry {
		if k.Name == name || slices.Contains(k.Aliases, name) {
			return k, true
		}
	}
	return kitSpec{}, false
}

// kitNames lists the kits deskbridge can run, the default first.
func kitNames() []string {
	names := make([]string, len(kitRegistry))
	for i, k := range kitRegistry {
		names[i] = k.Name
	}
	return names
}

// unknownKit is the error for a kit name nobody registered.
func unknownKit(name, from string) error {
	return fmt.Errorf("unknown kit %q (from %s); known: %s", name, from, strings.Join(kitNames(), ", "))
}

// kitSettings resolves a kit's settings from the environment: each
// variable's value, or its default.
func kitSettings(k kitSpec, getenv func(string) string) map[string]string {
	vals := map[string]string{}
	for _, s := range k.Settings {
		vals[s.Env] = cmp.Or(getenv(s.Env), s.Default)
	}
	return vals
}

// checkKitSettings reports the kit's required settings that are not set;
// a vendor kit pointed at a mock-desk face (a desk URL) needs none.
func checkKitSettings(k kitSpec, vals map[string]string, deskURL string) error {
	if deskURL != "" && !k.NeedsDeskURL {
		return nil
	}
	var missing []string
	for _, s := range k.Settings {
		if s.Required && vals[s.Env] == "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", s.Env, s.Usage))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("kit %s: set %s", k.Name, strings.Join(missing, " and "))
}

// kitConfig is what a kit needs from the server's configuration.
type kitConfig struct {
	Name    string
	DeskURL string
	// PublicURL is where the server is reached from the desk (webhooks).
	PublicURL string
	// Settings are the kit's own settings (kitSettings), by variable.
	Settings map[string]string
	// Relay, when instances share a store, carries a webhook that reached
	// an instance not following its chat to the others (rest kit).
	Relay  relay
	Logger *slog.Logger
}

// relay broadcasts between the instances sharing a store (stores/redis).
type relay interface {
	Broadcast(ctx context.Context, topic string, payload []byte) (int64, error)
	OnBroadcast(topic string, fn func(payload []byte))
}

// webhookPath is where a kit's webhook handler is mounted.
const webhookPath = "/desk/webhook"

// kit is a built desk kit.
type kit struct {
	factory servicedesk.Factory
	close   func() error
	// webhook, when set, is mounted at webhookPath on the server.
	webhook     http.Handler
	webhookPath string
}

func newKit(cfg kitConfig) (*kit, error) {
	spec, ok := lookupKit(cmp.Or(cfg.Name, kitRegistry[0].Name))
	if !ok {
		return nil, unknownKit(cfg.Name, "the server's configuration")
	}
	given := cfg.Settings
	cfg.Settings = kitSettings(spec, func(name string) string { return given[name] })
	if err := checkKitSettings(spec, cfg.Settings, cfg.DeskURL); err != nil {
		return nil, err
	}
	cfg.Name = spec.Name
	cfg.Logger = cfg.Logger.With("kit", spec.Name)
	k, err := spec.Start(cfg)
	if err != nil && strings.HasPrefix(err.Error(), spec.Name+": ") {
		return nil, fmt.Errorf("kit %w", err) // the kit's error names it already
	} else if err != nil {
		return nil, fmt.Errorf("kit %s: %w", spec.Name, err)
	}
	return k, nil
}

// deskHandler is what the demo's mock desk serves for a kit: the vendor
// kits talk to it through the vendor's face.
func deskHandler(kitName string, desk *mockdesk.Desk) http.Handler {
	if spec, ok := lookupKit(kitName); ok && spec.MockFace != nil {
		return spec.MockFace(desk)
	}
	return desk
}
