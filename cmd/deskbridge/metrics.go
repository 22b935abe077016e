package main

import (
	"time"

	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/redact"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/prometheus/client_golang/prometheus"
)

// storeMetrics times every save the engine makes (flow.Options.OnSave).
type storeMetrics struct {
	saves  *prometheus.HistogramVec
	events prometheus.Counter
}

// redactionCollector exports the hand-off redactor's counts.
type redactionCollector struct {
	r    *redact.Redactor
	desc *prometheus.Desc
}

func (c redactionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c redactionCollector) Collect(ch chan<- prometheus.Metric) {
	for rule, n := range c.r.Counts() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), rule)
	}
}

func newStoreMetrics() *storeMetrics {
	return &storeMetrics{
		saves: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "deskbridge_store_save_seconds",
			Help:    "Time of one save of a session (record and events) to the store, by outcome.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}, []string{"outcome"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "deskbridge_store_saved_events_total", Help: "Events saved to the store."}),
	}
}

func (m *storeMetrics) observe(took time.Duration, events int, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	} else {
		m.events.Add(float64(events))
	}
	m.saves.WithLabelValues(outcome).Observe(took.Seconds())
}

func (m *storeMetrics) register(reg *prometheus.Registry) {
	reg.MustRegister(m.saves, m.events)
}

// sharedCollector exports what instances sharing a store do: leases held,
// takeovers, lost leases, forwarded requests and sockets.
type sharedCollector struct {
	gw                                        *gateway.Gateway
	store                                     *redisstore.Store
	leases, adopted, lost, fwdSent, fwdServed *prometheus.Desc
	forwardedSockets, forwardedOps            *prometheus.Desc
}

func newSharedCollector(gw *gateway.Gateway, st *redisstore.Store) *sharedCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("deskbridge_"+name, help, nil, nil)
	}
	return &sharedCollector{
		gw: gw, store: st,
		leases:           d("leases", "Sessions this instance owns (leases held in Redis)."),
		adopted:          d("takeovers_total", "Chats taken over from an instance that was gone."),
		lost:             d("leases_lost_total", "Sessions whose lease this instance lost to another."),
		fwdSent:          d("forwarded_requests_sent_total", "Requests forwarded to the instance owning their session."),
		fwdServed:        d("forwarded_requests_served_total", "Requests other instances forwarded here and this one answered."),
		forwardedSockets: d("forwarded_sockets_total", "Browser sockets here on sessions another instance owns."),
		forwardedOps:     d("forwarded_ops_total", "Browser requests of such sockets."),
	}
}

func (c *sharedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.leases, c.adopted, c.lost, c.fwdSent, c.fwdServed, c.forwardedSockets, c.forwardedOps} {
		ch <- d
	}
}

func (c *sharedCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.Stats()
	own := c.gw.Engine().OwnershipStats()
	gs := c.gw.Stats()
	n := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	ch <- prometheus.MustNewConstMetric(c.leases, prometheus.GaugeValue, float64(st.Leases))
	n(c.adopted, own.Adopted)
	n(c.lost, own.Lost)
	n(c.fwdSent, st.ForwardsSent)
	n(c.fwdServed, st.ForwardsServed)
	n(c.forwardedSockets, gs.ForwardedSockets)
	n(c.forwardedOps, gs.ForwardedOps)
}
