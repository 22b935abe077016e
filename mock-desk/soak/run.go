package soak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Config is one soak run.
type Config struct {
	// Binaries: deskbridge, mock-desk, redis-server.
	Deskbridge, MockDesk, Redis string
	// Dir holds every process's data and logs; kept after the run.
	Dir string

	Instances int
	Clients   int
	// Messages: the run goes on until at least this many user messages
	// were acknowledged and as many echoes received (and every fault ran).
	Messages int
	Faults   int
	Seed     uint64
	Kit      string // websocket or rest
	Agents   int
	// Think is the mean pause between a client's messages.
	Think time.Duration
	// Deadline bounds the whole run.
	Deadline time.Duration
	// RestartDelay is how long a killed process stays down.
	RestartDelay time.Duration
	// RecoveryBound: a fault not recovered from by then counts as a failure.
	RecoveryBound time.Duration
	// FaultGap is the least time from the end of one fault to the next.
	FaultGap time.Duration
	// Plan, when set, are the faults to inject, in order, instead of a
	// seeded plan of Faults (to replay one sequence).
	Plan []string
	// BrowserFaultShare is the share of clients one browser fault hits.
	BrowserFaultShare float64
	Client            ClientConfig

	Log io.Writer
}

// run is the state of one soak run.
type run struct {
	cfg     Config
	rng     *mrand.Rand
	redis   *proc
	desk    *proc
	serves  []*proc
	lb      *LB
	ctl     deskControl
	clients []*Client
	n       counters

	mu      sync.Mutex
	records []FaultRecord
	notes   []string
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "%s soak: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (r *run) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.logf("%s", s)
	r.mu.Lock()
	r.notes = append(r.notes, s)
	r.mu.Unlock()
}

// Run runs the soak: processes, traffic, faults, the check. The summary is
// returned even when the run failed; err is for a run that could not be
// carried out at all.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	r := &run{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0x50a6))}
	defer r.teardown()
	if err := r.startProcs(ctx); err != nil {
		return Summary{}, err
	}
	sum := r.traffic(ctx)
	sum.DurationS = time.Since(start).Seconds()
	return sum, nil
}

func (r *run) startProcs(ctx context.Context) error {
	cfg := r.cfg
	sub := func(name string) (string, error) {
		d := filepath.Join(cfg.Dir, name)
		return d, os.MkdirAll(d, 0o700)
	}
	addr := func() string {
		a, err := freeAddr()
		if err != nil {
			panic(err) // no loopback port at all: nothing can run
		}
		return a
	}
	dir, err := sub("redis")
	if err != nil {
		return err
	}
	redisAddr := addr()
	if r.redis, err = newRedis(cfg.Redis, redisAddr, dir); err != nil {
		return err
	}
	if err := r.redis.start(ctx); err != nil {
		return err
	}
	r.logf("redis-server on %s (appendonly, appendfsync always), dir %s", redisAddr, dir)

	deskAddr, lbAddr := addr(), addr()
	webhookSecret := randomHex(24)
	tokenSecret := randomHex(24)
	if dir, err = sub("mock-desk"); err != nil {
		return err
	}
	controlToken := rand.Text()
	r.desk = newMockDesk(cfg.MockDesk, deskAddr, dir, controlToken, []string{"-agents", strconv.Itoa(cfg.Agents), "-echo", "-fault-seed", strconv.FormatUint(cfg.Seed, 10)})
	r.desk.env = append(r.desk.env, "MOCKDESK_WEBHOOK_SECRET="+webhookSecret)
	if err := r.desk.start(ctx); err != nil {
		return err
	}
	r.ctl = deskControl{base: "http://" + deskAddr, token: controlToken, c: &http.Client{Timeout: 30 * time.Second}}
	r.logf("mock-desk on %s: %d echo agents", deskAddr, cfg.Agents)

	var backends []string
	for i := range cfg.Instances {
		if dir, err = sub(fmt.Sprintf("serve-%d", i+1)); err != nil {
			return err
		}
		a := addr()
		args := []string{"--kit", cfg.Kit, "--desk-url", "http://" + deskAddr, "--store", "redis://" + redisAddr + "/0", "--log-level", "info",
			// Every client comes from loopback through the balancer.
			"--max-conns-per-addr", "-1", "--new-sessions-per-minute", "-1", "--start-chats-per-minute", "-1", "--desk-ops-per-minute", "-1"}
		if cfg.Kit == "rest" {
			// Webhooks come through the balancer, as in a deployment.
			args = append(args, "--public-url", "http://"+lbAddr)
		}
		env := []string{"DESKBRIDGE_TOKEN_SECRET=" + tokenSecret, "DESKBRIDGE_WEBHOOK_SECRET=" + webhookSecret}
		p := newServe(fmt.Sprintf("serve-%d", i+1), cfg.Deskbridge, a, dir, env, args)
		if err := p.start(ctx); err != nil {
			return err
		}
		r.serves = append(r.serves, p)
		backends = append(backends, a)
	}
	r.logf("%d deskbridge serve on %s (kit %s)", cfg.Instances, strings.Join(backends, ", "), cfg.Kit)
	if r.lb, err = NewLB(ctx, lbAddr, backends, 500*time.Millisecond); err != nil {
		return err
	}
	r.logf("load balancer on %s", r.lb.Addr())
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *run) teardown() {
	if r.lb != nil {
		_ = r.lb.Close()
	}
	var wg sync.WaitGroup
	for _, p := range r.serves {
		wg.Add(1)
		go func() { defer wg.Done(); p.term(30 * time.Second) }()
	}
	wg.Wait()
	for _, p := range []*proc{r.desk, r.redis} {
		if p != nil {
			p.term(10 * time.Second)
		}
	}
}

// traffic runs the clients and the faults, then checks.
func (r *run) traffic(ctx context.Context) Summary {
	cfg := r.cfg
	stop := make(chan struct{})
	var wg sync.WaitGroup
	cctx, ccancel := context.WithCancel(context.Background())
	defer ccancel()
	for i := range cfg.Clients {
		c := newClient(fmt.Sprintf("c%04d", i+1), r.lb.Addr(), cfg.Client)
		c.think = cfg.Think
		r.clients = append(r.clients, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(cctx, stop, &r.n)
		}()
		// Ramp up: a few hundred new chats a second.
		if i%20 == 19 {
			sleepCtx(ctx, 50*time.Millisecond)
		}
	}
	var failures []string
	fail := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		r.logf("FAIL: %s", s)
		failures = append(failures, s)
	}
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	go func() {
		for {
			select {
			case <-cctx.Done():
				return
			case <-progress.C:
				r.logf("progress: %d acked, %d echoed, phases %v, lb healthy %v", r.n.acked.Load(), r.n.echoed.Load(), r.phases(), r.lb.Healthy())
			}
		}
	}()

	if err := r.await(ctx, 2*time.Minute, func() bool { return r.phases()["chatting"] == cfg.Clients }); err != nil {
		fail("not every client reached an agent: %v (phases %v)", err, r.phases())
	} else {
		r.logf("all %d clients are chatting", cfg.Clients)
		r.faults(ctx, fail)
	}
	target := func() bool {
		return r.n.acked.Load() >= int64(cfg.Messages) && r.n.echoed.Load() >= int64(cfg.Messages)
	}
	if err := r.await(ctx, cfg.Deadline, target); err != nil {
		fail("message target not met: %d acked, %d echoed of %d (%v)", r.n.acked.Load(), r.n.echoed.Load(), cfg.Messages, err)
	}
	close(stop)
	r.logf("stopping clients: each completes its message in flight")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(max(time.Until(deadlineOf(ctx)), 0) + 60*time.Second):
		fail("clients did not stop within 60s (phases %v)", r.phases())
		ccancel()
		<-done
	}
	ccancel()
	return r.summarize(context.Background(), failures)
}

func deadlineOf(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now()
	}
	return d
}

func (r *run) phases() map[string]int {
	m := map[string]int{}
	for _, c := range r.clients {
		m[c.Phase()]++
	}
	return m
}

// await polls cond every 50 ms for up to d.
func (r *run) await(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// faults injects the planned faults, each once the traffic has made its
// share of progress, so they spread over the run; after a process fault it
// waits for every client to round-trip a message again.
func (r *run) faults(ctx context.Context, fail func(string, ...any)) {
	cfg := r.cfg
	plan := cfg.Plan
	if len(plan) == 0 {
		plan = planFaults(r.rng, FaultKindsFor(cfg.Kit), cfg.Faults)
	}
	var prevAt time.Time
	base := r.n.acked.Load()
	step := int64(cfg.Messages) / int64(len(plan)+1)
	var prevEnd int64
	for i, kind := range plan {
		// Its share of the run, and half a share after the previous fault
		// at least: faults that fell due during a recovery do not bunch.
		at := max(base+step*int64(i+1), prevEnd+step/2)
		ready := func() bool { return r.n.acked.Load() >= at && time.Since(prevAt) >= cfg.FaultGap }
		if err := r.await(ctx, cfg.Deadline, ready); err != nil {
			fail("faults: stuck before fault %d (%s) at %d acked: %v", i+1, kind, r.n.acked.Load(), err)
			return
		}
		rec := FaultRecord{Kind: kind, At: time.Now()}
		if err := r.inject(ctx, &rec); err != nil {
			fail("fault %d %s: %v", i+1, kind, err)
			return
		}
		if recovers(kind) {
			rec.RecoveryMs = r.recovery(ctx, rec.At)
			if rec.RecoveryMs < 0 {
				fail("fault %d %s (%s): not every client round-tripped a message within %v (phases %v, stuck %s)", i+1, kind, rec.Target, cfg.RecoveryBound, r.phases(), r.stuck(rec.At))
			}
		}
		prevEnd, prevAt = r.n.acked.Load(), time.Now()
		msg := fmt.Sprintf("fault %d/%d %s: %s", i+1, len(plan), kind, rec.Target)
		if rec.Note != "" {
			msg += ", " + rec.Note
		}
		if recovers(kind) {
			msg += fmt.Sprintf(", recovered in %dms", rec.RecoveryMs)
		}
		r.logf("%s", msg)
		r.mu.Lock()
		r.records = append(r.records, rec)
		r.mu.Unlock()
	}
}

// stuck names a few clients that have not recovered since t0.
func (r *run) stuck(t0 time.Time) string {
	var s []string
	for _, c := range r.clients {
		if _, ok := c.recoveredAfter(t0); !ok && len(s) < 5 {
			s = append(s, c.Name+"("+c.Phase()+")")
		}
	}
	return strings.Join(s, " ")
}

// recovery waits until every client completed a round trip of a message
// first sent after t0, and returns the time from t0 to the last of them
// (-1 if the bound passed first).
func (r *run) recovery(ctx context.Context, t0 time.Time) int64 {
	var last time.Time
	err := r.await(ctx, r.cfg.RecoveryBound, func() bool {
		last = t0
		for _, c := range r.clients {
			t, ok := c.recoveredAfter(t0)
			if !ok {
				return false
			}
			if t.After(last) {
				last = t
			}
		}
		return true
	})
	if err != nil {
		return -1
	}
	return last.Sub(t0).Milliseconds()
}

func (r *run) inject(ctx context.Context, rec *FaultRecord) error {
	cfg := r.cfg
	switch rec.Kind {
	case FaultInstanceKill9, FaultInstanceSIGTERM:
		i := r.rng.IntN(len(r.serves))
		p := r.serves[i]
		rec.Target = p.name
		if rec.Kind == FaultInstanceKill9 {
			p.kill()
		} else {
			t := time.Now()
			if !p.term(30 * time.Second) {
				rec.Note = "drain took over 30s: killed"
				r.note("%s: SIGTERM drain did not end within 30s", p.name)
			} else {
				rec.Note = fmt.Sprintf("drained in %dms", time.Since(t).Milliseconds())
			}
		}
		sleepCtx(ctx, cfg.RestartDelay)
		if err := p.start(ctx); err != nil {
			return fmt.Errorf("restart %s: %w\n%s", p.name, err, p.lastLines(20))
		}
	case FaultRedisKill9:
		rec.Target = "redis"
		r.redis.kill()
		sleepCtx(ctx, cfg.RestartDelay)
		if err := r.redis.start(ctx); err != nil {
			return fmt.Errorf("restart redis: %w", err)
		}
	case FaultBrowserDrop, FaultBrowserResend:
		k := max(1, int(float64(len(r.clients))*cfg.BrowserFaultShare))
		order := orderDrop
		if rec.Kind == FaultBrowserResend {
			order = orderDropMidSend
		}
		hit := 0
		for _, i := range r.rng.Perm(len(r.clients))[:k] {
			if r.clients[i].order(order) {
				hit++
			}
		}
		rec.Target = fmt.Sprintf("%d clients", hit)
	default:
		forced := deskFaults(cfg.Kit, rec.Kind, max(2, len(r.clients)/10))
		if forced == nil {
			return fmt.Errorf("fault kind %q does not apply to kit %s", rec.Kind, cfg.Kit)
		}
		var parts []string
		for _, kind := range slices.Sorted(maps.Keys(forced)) {
			if err := r.ctl.inject(ctx, kind, forced[kind]); err != nil {
				return err
			}
			parts = append(parts, fmt.Sprintf("%s×%d", kind, forced[kind]))
		}
		rec.Target = "mock-desk " + strings.Join(parts, " ")
	}
	return nil
}

// transcripts joins each client's view with the desk's chats (found by
// the summary "soak <client>" each client starts its chat with).
func (r *run) transcripts(ctx context.Context) ([]Transcript, error) {
	var st mockdesk.DeskState
	if err := r.ctl.get(ctx, "/control/state", &st); err != nil {
		return nil, err
	}
	byClient := map[string][]mockdesk.ChatView{}
	for _, ch := range st.Chats {
		// The gateway heads what a browser says with a line of its own
		// (the user's words, not the bot's): the name follows "soak ".
		i := strings.LastIndex(ch.Summary, "soak ")
		if i < 0 {
			continue
		}
		name := strings.TrimSpace(ch.Summary[i+len("soak "):])
		byClient[name] = append(byClient[name], ch)
	}
	var out []Transcript
	for _, c := range r.clients {
		c.mu.Lock()
		t := Transcript{Client: c.Name, Sent: slices.Clone(c.sent), Acked: slices.Clone(c.acked)}
		for _, m := range c.agent {
			t.AgentSeen = append(t.AgentSeen, m.ID)
		}
		c.mu.Unlock()
		chats := byClient[c.Name]
		slices.SortFunc(chats, func(a, b mockdesk.ChatView) int { return a.Created.Compare(b.Created) })
		t.DeskChats = len(chats)
		for _, ch := range chats {
			for _, e := range ch.Transcript {
				switch e.From {
				case "customer":
					t.DeskGot = append(t.DeskGot, e.Text)
				case "agent":
					t.DeskSent = append(t.DeskSent, e.ID)
				}
			}
		}
		out = append(out, t)
	}
	return out, nil
}
