package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/redact"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serverConfig assembles a deskbridge server.
type serverConfig struct {
	// LeaseTTL of a shared store: the adopt loop runs twice a lease.
	LeaseTTL time.Duration
	Listen   string
	Kit      kitConfig
	Gateway  gateway.Options
	Flow     flow.Options
	// Demo serves the demo chat page and the demo bot.
	Demo bool
	// Carbon, with Demo, is the directory of the built @carbon/ai-chat
	// page, served at /carbon/.
	Carbon string
	Logger *slog.Logger
}

// server is a running deskbridge server.
type server struct {
	log      *slog.Logger
	gw       *gateway.Gateway
	kit      *kit
	http     *http.Server
	ln       net.Listener
	url      string
	draining atomic.Bool
	served   chan error
	store    flow.Store
	resumed  int           // sessions restored from the store at start
	adopting chan struct{} // closed to stop the adopt loop
	adopted  chan struct{} // closed when it stopped
}

func startServer(cfg serverConfig) (*server, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	url := "http://" + ln.Addr().String()
	if cfg.Kit.PublicURL == "" {
		cfg.Kit.PublicURL = url
	}
	if r, ok := cfg.Flow.Store.(relay); ok && cfg.Kit.Relay == nil {
		cfg.Kit.Relay = r
	}
	k, err := newKit(cfg.Kit)
	if err != nil {
		ln.Close()
		return nil, err
	}
	opts := cfg.Gateway
	opts.Factory = k.factory
	opts.Flow = cfg.Flow
	saves := newStoreMetrics()
	if opts.Flow.OnSave == nil {
		opts.Flow.OnSave = saves.observe
	}
	opts.Logger = cfg.Logger.With("component", "gateway")
	gw, err := gateway.New(opts)
	if err != nil {
		ln.Close()
		_ = k.close()
		return nil, err
	}
	s := &server{log: cfg.Logger, gw: gw, kit: k, ln: ln, url: url, served: make(chan error, 1), store: cfg.Flow.Store}
	// Chats that were running before a restart reconnect to the desk now,
	// before the first browser comes back.
	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	s.resumed, err = gw.Resume(rctx)
	cancel()
	if err != nil {
		cfg.Logger.Error("deskbridge: some sessions could not be restored", "restored", s.resumed, "err", err)
	} else if s.resumed > 0 {
		cfg.Logger.Info("deskbridge: sessions restored from the store", "sessions", s.resumed)
	}
	s.adopting, s.adopted = make(chan struct{}), make(chan struct{})
	go s.adopt(cfg.LeaseTTL)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newGatewayCollector(gw))
	saves.register(reg)
	if rs, ok := cfg.Flow.Store.(*redisstore.Store); ok {
		reg.MustRegister(newSharedCollector(gw, rs))
	}
	if r, ok := cfg.Flow.Redactor.(*redact.Redactor); ok {
		reg.MustRegister(redactionCollector{r, prometheus.NewDesc("deskbridge_handoff_redactions_total",
			"Texts the hand-off's redactor replaced before they reached the desk, by rule (card, email, phone).", []string{"rule"}, nil)})
	}

	mux := http.NewServeMux()
	for _, p := range []string{"/ws", "/v1/files", "/v1/history", "/deskbridge.js"} {
		mux.Handle(p, gw)
	}
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if k.webhook != nil {
		mux.Handle(k.webhookPath, k.webhook)
	}
	if cfg.Demo {
		sub, _ := fs.Sub(webFS, "web")
		mux.Handle("/", securePage(http.FileServerFS(sub)))
		mux.Handle("/demo/bot", botHandler())
		// The console's markdown renderer and icon: both pages show an
		// agent's message alike.
		mux.Handle("/markdown.js", securePage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write(mockdesk.MarkdownJS)
		})))
		mux.Handle("/favicon.svg", mockdesk.FaviconHandler())
		mux.Handle("/favicon.ico", mockdesk.FaviconHandler())
		if cfg.Carbon != "" {
			mux.Handle("/carbon/", serveCarbonPage(cfg.Carbon))
		}
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintln(w, "deskbridge gateway: import /deskbridge.js; the socket is /ws")
		})
	}

	s.http = &http.Server{
		Handler:           logRequests(cfg.Logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // uploads; sockets clear their deadlines
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// healthz answers 200 while the server takes work, and 503 while it
// drains or its store cannot be reached (a load balancer then sends
// browsers elsewhere; what they had is kept).
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	st := s.gw.Stats()
	status, storeStatus := "ok", "ok"
	if err := s.storeHealth(r.Context()); err != nil {
		status, storeStatus = "store_unavailable", err.Error()
		s.log.Warn("deskbridge: health: the store is not working", "err", err)
	}
	if s.draining.Load() {
		status = "draining"
	}
	if status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "store": storeStatus, "sessions": st.Sessions, "connections": st.Connections})
}

// storeHealth pings a store that can be unreachable, and reports sessions
// whose saves are failing.
func (s *server) storeHealth(ctx context.Context) error {
	if p, ok := s.store.(flow.Pinger); ok {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			return err
		}
	}
	return s.gw.Engine().StoreError()
}

// adopt takes over, now and then, the chats of instances that died or were
// cut off (a store several instances share; otherwise it returns at once).
func (s *server) adopt(lease time.Duration) {
	defer close(s.adopted)
	if _, shared := s.store.(flow.Owners); !shared {
		return
	}
	every := cmp.Or(lease, 10*time.Second) / 2
	full := false
	for {
		// Jitter, so that the instances do not all look at once; right
		// away again after a full batch (a takeover storm).
		wait := every/2 + rand.N(every)
		if full {
			wait = 0
		}
		select {
		case <-s.adopting:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		n, err := s.gw.Adopt(ctx, adoptBatch)
		cancel()
		full = n == adoptBatch
		if err != nil {
			s.log.Warn("deskbridge: take over orphaned chats", "taken", n, "err", err)
		} else if n > 0 {
			s.log.Info("deskbridge: took over chats of an instance that is gone", "chats", n)
		}
	}
}

// adoptBatch bounds the chats one instance takes over per round, so that
// the live instances share them.
const adoptBatch = 500

// shutdown drains: health turns 503, the listener closes, sockets get what
// they have not seen and 1001, the kit closes.
func (s *server) shutdown(ctx context.Context) error {
	s.draining.Store(true)
	close(s.adopting)
	<-s.adopted
	err := s.http.Shutdown(ctx)
	if gerr := s.gw.Shutdown(ctx); gerr != nil {
		err = errors.Join(err, gerr)
	}
	if kerr := s.kit.close(); kerr != nil {
		err = errors.Join(err, fmt.Errorf("close kit: %w", kerr))
	}
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// securePage sets the demo page's security headers: no inline script, no
// framing, no sniffing.
func securePage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// serveCarbonPage serves the built @carbon/ai-chat page: its HTML and its
// bundle, nothing else of the directory (node_modules stays private).
// Carbon's components set inline styles, so styles may be inline; scripts
// may not.
func serveCarbonPage(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var file string
		switch r.URL.Path {
		case "/carbon/", "/carbon/index.html":
			file = "index.html"
		case "/carbon/dist/page.js":
			file = filepath.Join("dist", "page.js")
		default:
			http.NotFound(w, r)
			return
		}
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		http.ServeFile(w, r, filepath.Join(dir, file))
	})
}

// logRequests logs each HTTP request at debug level (never its body or
// headers: tokens travel there).
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		log.Debug("http", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "took", time.Since(start))
	})
}

// gatewayCollector exports the gateway's counters.
type gatewayCollector struct {
	gw                                           *gateway.Gateway
	sessions, conns, opened, framesIn, framesOut *prometheus.Desc
	events, errs, origins, uploads, uploadBytes  *prometheus.Desc
	limited, evicted, uploadHeld                 *prometheus.Desc
	identities                                   *prometheus.Desc
}

func newGatewayCollector(gw *gateway.Gateway) *gatewayCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("deskbridge_gateway_"+name, help, labels, nil)
	}
	return &gatewayCollector{
		gw:          gw,
		sessions:    d("sessions", "Sessions the gateway knows."),
		conns:       d("connections", "Open browser sockets."),
		opened:      d("connections_opened_total", "Browser sockets opened."),
		framesIn:    d("frames_in_total", "Frames received from browsers."),
		framesOut:   d("frames_out_total", "Frames sent to browsers."),
		events:      d("events_out_total", "Events sent to browsers."),
		errs:        d("errors_total", "Error answers by code.", "code"),
		origins:     d("origin_rejected_total", "Requests refused for their Origin."),
		uploads:     d("uploads_total", "Files accepted."),
		uploadBytes: d("upload_bytes_total", "Bytes of files accepted."),
		limited:     d("limited_total", "Requests a limit refused or cut, by limit (docs/limits.md).", "limit"),
		evicted:     d("sessions_evicted_total", "Chat-less sessions forgotten to make room at the session limit."),
		uploadHeld:  d("upload_bytes_held", "Bytes of uploads kept for running chats and being received."),
		identities:  d("identities_total", "Identity token checks of hellos, by outcome: verified, refused, missing, mismatch.", "outcome"),
	}
}

func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.conns, c.opened, c.framesIn, c.framesOut, c.events, c.errs, c.origins, c.uploads, c.uploadBytes, c.limited, c.evicted, c.uploadHeld, c.identities} {
		ch <- d
	}
}

func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.gw.Stats()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	n := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	g(c.sessions, float64(st.Sessions))
	g(c.conns, float64(st.Connections))
	g(c.uploadHeld, float64(st.UploadBytesHeld))
	n(c.opened, st.ConnsOpened)
	n(c.framesIn, st.FramesIn)
	n(c.framesOut, st.FramesOut)
	n(c.events, st.EventsOut)
	n(c.origins, st.OriginRejected)
	n(c.uploads, st.Uploads)
	n(c.uploadBytes, st.UploadBytes)
	n(c.evicted, st.Evicted)
	for limit, v := range st.Limited {
		ch <- prometheus.MustNewConstMetric(c.limited, prometheus.CounterValue, float64(v), limit)
	}
	for outcome, v := range st.Identities {
		ch <- prometheus.MustNewConstMetric(c.identities, prometheus.CounterValue, float64(v), outcome)
	}
	for code, v := range st.Errors {
		ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(v), code)
	}
}
