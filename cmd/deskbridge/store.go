package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	boltstore "github.com/deskbridge/deskbridge/stores/bolt"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
)

// eventsKept is how many events each session keeps in its store: what a
// browser that was away can catch up on.
const eventsKept = 1024

// storeSpec is what --store names: memory, file:PATH or a redis:// URL.
// Empty means the default: a file in the data directory.
type storeSpec struct {
	kind string // "memory", "file", "redis"
	path string // file
	url  string // redis
}

func parseStoreSpec(spec, dataDir string) (storeSpec, error) {
	switch {
	case spec == "" || spec == "file":
		return storeSpec{kind: "file", path: filepath.Join(dataDir, "deskbridge.db")}, nil
	case spec == "memory":
		return storeSpec{kind: "memory"}, nil
	case strings.HasPrefix(spec, "file:"):
		p := strings.TrimPrefix(spec, "file:")
		if p == "" {
			return storeSpec{}, fmt.Errorf("store %q: give the database file after file:, as in file:/var/lib/deskbridge/deskbridge.db", spec)
		}
		return storeSpec{kind: "file", path: p}, nil
	case strings.HasPrefix(spec, "redis://") || strings.HasPrefix(spec, "rediss://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" {
			return storeSpec{}, fmt.Errorf("store %s: want redis://[user:password@]host:port[/db]", redactURL(spec))
		}
		return storeSpec{kind: "redis", url: spec}, nil
	}
	return storeSpec{}, fmt.Errorf("store %q: want memory, file:PATH or redis://host:port[/db]", redactURL(spec))
}

// redactURL hides a password in a URL for messages and logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func (s storeSpec) String() string {
	switch s.kind {
	case "file":
		return "file:" + s.path
	case "redis":
		return redactURL(s.url)
	}
	return s.kind
}

// persists says whether sessions outlive the process.
func (s storeSpec) persists() bool { return s.kind != "memory" }

// storeOptions are what a shared store needs to know of this instance.
type storeOptions struct {
	Instance string
	LeaseTTL time.Duration
}

// openStore opens the store; closing it is the caller's.
func openStore(ctx context.Context, spec storeSpec, so storeOptions, log *slog.Logger) (flow.Store, error) {
	switch spec.kind {
	case "memory":
		log.Warn("deskbridge: sessions are kept in memory: a restart ends every live chat (use the default file store, or --store redis://…)")
		return flow.NewMemoryStore(eventsKept), nil
	case "file":
		if err := os.MkdirAll(filepath.Dir(spec.path), 0o700); err != nil {
			return nil, fmt.Errorf("store %s: make its directory: %w", spec, err)
		}
		st, err := boltstore.Open(spec.path, boltstore.Options{Tail: eventsKept, Logger: log.With("component", "store")})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	case "redis":
		// A Redis store may be shared by several instances: this one owns
		// the chats it drives through leases (flow.Owners).
		st, err := redisstore.Open(ctx, spec.url, redisstore.Options{
			Tail: eventsKept, Instance: so.Instance, LeaseTTL: so.LeaseTTL, Logger: log.With("component", "store"),
		})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("store: unknown kind %q", spec.kind)
}

func closeStore(st flow.Store) error {
	if c, ok := st.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// tokenSecretFile keeps a generated token secret in the data directory, so
// that browsers' session tokens outlive a restart of a server that was
// given none: without it, a persistent store would keep chats nobody can
// reach again.
func tokenSecretFile(dataDir string, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(dataDir, "token-secret")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		secret := strings.TrimSpace(string(b))
		if len(secret) < 32 {
			return nil, fmt.Errorf("token secret %s: shorter than 32 characters; delete it to have a new one made (open sessions will need a new chat)", path)
		}
		return []byte(secret), nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("token secret: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("token secret: make the data directory: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	secret := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	_, werr := f.WriteString(secret + "\n")
	serr := f.Sync()
	if cerr := f.Close(); werr == nil && serr == nil {
		werr = cerr
	}
	if werr = errors.Join(werr, serr); werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("token secret: write %s: %w", path, werr)
	}
	log.Info("deskbridge: made a session token secret in the data directory (set DESKBRIDGE_TOKEN_SECRET to choose one)", "path", path)
	return []byte(secret), nil
}

// prepareUploadDir makes dir, where uploads are received, and clears it of
// what a crash left there; "" and the error when it cannot (the gateway
// then uses the system's temporary directory).
func prepareUploadDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("deskbridge: upload directory: %w", err)
	}
	left, err := filepath.Glob(filepath.Join(dir, "deskbridge-upload-*"))
	if err != nil {
		return "", fmt.Errorf("deskbridge: upload directory %s: %w", dir, err)
	}
	for _, f := range left {
		if err := os.Remove(f); err != nil {
			return "", fmt.Errorf("deskbridge: upload directory %s: remove what a crash left: %w", dir, err)
		}
	}
	return dir, nil
}

// defaultDataDir is where serve keeps its data unless told: the XDG state
// directory of the user, else ./deskbridge-data.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "deskbridge")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "deskbridge")
	}
	return "deskbridge-data"
}
