package main

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// podmanCLI runs podman with the global flags this machine needs.
type podmanCLI struct {
	t      *testing.T
	global []string
}

func (p *podmanCLI) run(args ...string) (string, error) {
	out, err := exec.Command("podman", append(slices.Clone(p.global), args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (p *podmanCLI) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(args...)
	if err != nil {
		p.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// sandboxRunFlags are what podman run needs where the container runtime
// may not set resource limits or use a hybrid cgroup tree (crun refuses
// both, saying "setrlimit"; runc says "error setting rlimit"; some sandboxes, such as the one this project is developed in,
// have them): runc, and limits no higher than the current ones.
var sandboxRunFlags = []string{"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"}

// start runs the image detached, publishing its port on a free loopback
// port, and returns that address.
func (p *podmanCLI) start(name, image, volume string, args ...string) string {
	p.t.Helper()
	for attempt := 0; ; attempt++ {
		addr := freeAddr(p.t)
		run := []string{"run", "-d", "--name", name, "-v", volume + ":/data", "-p", addr + ":8080"}
		if len(p.global) > 0 {
			run = append(run, sandboxRunFlags...)
		}
		out, err := p.run(append(append(run, image), args...)...)
		if err == nil {
			return addr
		}
		_, _ = p.run("rm", "-f", name)
		switch {
		case attempt < 3 && strings.Contains(out, "address already in use"):
			continue // the free port was taken meanwhile
		case len(p.global) == 0 && (strings.Contains(out, "rlimit") || strings.Contains(out, "cgroups in hybrid mode")):
			if _, lerr := exec.LookPath("runc"); lerr != nil {
				p.t.Fatalf("podman run: %s; this machine needs runc (apt-get install -y runc)", out)
			}
			p.t.Logf("podman run with its default runtime failed here (%s): using runc and %v", errorLine(out), sandboxRunFlags)
			p.global = []string{"--runtime", "runc"}
			continue
		}
		p.t.Fatalf("podman run: %v\n%s", err, out)
	}
}

// TestContainerImage builds the image of deploy/Containerfile with
// scripts/build-image.sh, starts it, and checks it: a non-root user, the
// data directory a volume the user can write, /healthz answered, its
// HEALTHCHECK (deskbridge healthcheck, the image has no shell) healthy, a
// drain on stop, and the token secret kept on the volume across containers.
func TestContainerImage(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		msg := "podman is not installed (scripts/install-deps.sh installs it): the container image is not tested"
		if os.Getenv("CI") != "" || os.Getenv("DESKBRIDGE_REQUIRE_PODMAN") == "1" {
			t.Fatal(msg)
		}
		skipReasons.Store(t, msg)
		reportBrowserTest(t)
		t.Skip(msg)
	}
	reportBrowserTest(t)
	id := strings.ToLower(rand.Text()[:10])
	image := "localhost/deskbridge-test:" + id
	p := &podmanCLI{t: t}
	build := exec.Command(filepath.Join(repoRoot, "scripts", "build-image.sh"), image)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = p.run("rmi", "-f", image) })

	var cfg []struct {
		Config struct {
			User       string
			Volumes    map[string]any
			Entrypoint []string
			Cmd        []string
		}
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(p.must("image", "inspect", image)), &cfg); err != nil || len(cfg) != 1 {
		t.Fatalf("image inspect: %v", err)
	}
	c := cfg[0].Config
	if c.User != "65532:65532" || c.Volumes["/data"] == nil || !slices.Equal(c.Entrypoint, []string{"/deskbridge"}) || !slices.Equal(c.Cmd, []string{"serve"}) || !slices.Equal(cfg[0].Healthcheck.Test, []string{"CMD", "/deskbridge", "healthcheck"}) {
		t.Fatalf("image config: %+v, health check %v", c, cfg[0].Healthcheck)
	}

	volume := "deskbridge-test-" + id
	t.Cleanup(func() { _, _ = p.run("volume", "rm", "-f", volume) })
	serveArgs := []string{"serve", "--desk-url", "http://desk.invalid:9"}
	healthy := func(name, addr string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				logs, _ := p.run("logs", name)
				t.Fatalf("/healthz of the container at %s: %v\n%s", addr, err, logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		p.must("healthcheck", "run", name)
		if st := p.must("inspect", "--format", "{{.State.Health.Status}}", name); st != "healthy" {
			t.Errorf("health of %s: %s", name, st)
		}
	}

	first := "deskbridge-test-" + id + "-1"
	t.Cleanup(func() { _, _ = p.run("rm", "-f", first) })
	healthy(first, p.start(first, image, volume, serveArgs...))
	if user := p.must("exec", first, "/deskbridge", "healthcheck"); !strings.Contains(user, `"status":"ok"`) {
		t.Errorf("deskbridge healthcheck in the container: %s", user)
	}
	p.must("stop", "-t", "30", first)
	logs := p.must("logs", first)
	if !strings.Contains(logs, "made a session token secret") || !strings.Contains(logs, "/data/token-secret") || !strings.Contains(logs, "deskbridge draining") {
		t.Errorf("first container's log lacks the token secret made in /data or the drain:\n%s", logs)
	}

	// A new container on the same volume finds the secret and the store.
	second := "deskbridge-test-" + id + "-2"
	t.Cleanup(func() { _, _ = p.run("rm", "-f", second) })
	healthy(second, p.start(second, image, volume, serveArgs...))
	if logs := p.must("logs", second); strings.Contains(logs, "made a session token secret") {
		t.Errorf("the second container made a new token secret: the volume did not keep it\n%s", logs)
	}
}

// TestSystemdUnit: deploy/deskbridge.service passes systemd-analyze verify
// (with its ExecStart pointed at a real binary).
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "deskbridge.service"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "deskbridge.service")
	text := strings.Replace(string(unit), "ExecStart=/usr/local/bin/deskbridge serve", "ExecStart="+self+" serve", 1)
	if text == string(unit) {
		t.Fatal("deploy/deskbridge.service: no ExecStart=/usr/local/bin/deskbridge serve")
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// errorLine is the line of podman's output that says what failed.
func errorLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Error:") {
			return l
		}
	}
	return out
}
