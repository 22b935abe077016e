package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Summary is what a run found; it is printed for people and as JSON.
type Summary struct {
	OK        bool    `json:"ok"`
	Instances int     `json:"instances"`
	Clients   int     `json:"clients"`
	Kit       string  `json:"kit"`
	Seed      uint64  `json:"seed"`
	DurationS float64 `json:"duration_s"`
	Dir       string  `json:"dir"`

	Messages struct {
		Target        int   `json:"target"`
		UserSent      int   `json:"user_sent"`
		UserAcked     int   `json:"user_acked"`
		UserAtDesk    int   `json:"user_at_desk"`
		AgentSent     int   `json:"agent_sent"`
		AgentReceived int   `json:"agent_received"`
		Echoed        int64 `json:"echoed"`
	} `json:"messages"`

	// The verdict: all must be 0.
	Lost       int    `json:"lost"`
	Duplicated int    `json:"duplicated"`
	Reordered  int    `json:"reordered"`
	Check      Report `json:"check"`

	// Faults injected by kind, and mock-desk's own count of what it did.
	Faults     map[string]int   `json:"faults"`
	FaultTotal int              `json:"fault_total"`
	DeskFaults map[string]int64 `json:"desk_faults"`
	// RecoveryMs per process fault kind, in order; and the worst.
	RecoveryMs    map[string][]int64 `json:"recovery_ms"`
	RecoveryMaxMs int64              `json:"recovery_max_ms"`
	FaultLog      []FaultRecord      `json:"fault_log"`

	// What the browsers went through.
	Reconnects int            `json:"reconnects"`
	Resends    int            `json:"resends"`
	MidSend    int            `json:"mid_send_drops"`
	Sockets    int            `json:"sockets"`
	Anomalies  map[string]int `json:"anomalies"`
	// Retried: answers the protocol says to retry, by op and code.
	Retried    map[string]int `json:"retried"`
	Notes      []string       `json:"notes,omitempty"`
	LBAccepted int64          `json:"lb_accepted"`
	LBRefused  int64          `json:"lb_refused"`

	// Unexercised names desk faults that were asked for but that
	// mock-desk never injected (no traffic met them).
	Unexercised []string `json:"unexercised,omitempty"`

	// Failures says why OK is false.
	Failures []string `json:"failures,omitempty"`
}

// anomalies that fail a run on their own: each means the server lost
// something or broke the protocol even if the message counts look right.
var fatalAnomalies = []string{"session_reset", "new_session", "seq_gap", "chat_ended", "echo_timeout"}

func (r *run) summarize(ctx context.Context, failures []string) Summary {
	cfg := r.cfg
	s := Summary{Instances: cfg.Instances, Clients: cfg.Clients, Kit: cfg.Kit, Seed: cfg.Seed, Dir: cfg.Dir,
		Faults: map[string]int{}, RecoveryMs: map[string][]int64{}, Anomalies: map[string]int{}, Retried: map[string]int{}}
	s.Messages.Target = cfg.Messages
	s.Messages.Echoed = r.n.echoed.Load()
	r.mu.Lock()
	s.FaultLog = slices.Clone(r.records)
	s.Notes = slices.Clone(r.notes)
	r.mu.Unlock()
	for _, f := range s.FaultLog {
		s.Faults[f.Kind]++
		s.FaultTotal++
		if recovers(f.Kind) {
			s.RecoveryMs[f.Kind] = append(s.RecoveryMs[f.Kind], f.RecoveryMs)
			s.RecoveryMaxMs = max(s.RecoveryMaxMs, f.RecoveryMs)
		}
	}
	for _, c := range r.clients {
		c.mu.Lock()
		s.Messages.UserSent += len(c.sent)
		s.Messages.UserAcked += len(c.acked)
		s.Messages.AgentReceived += len(c.agent)
		s.Reconnects += c.reconnects
		s.Resends += c.resends
		s.MidSend += c.midDrops
		s.Sockets += c.sockets
		for k, v := range c.anoms {
			s.Anomalies[k] += v
		}
		for k, v := range c.retries {
			s.Retried[k] += v
		}
		for _, n := range c.notes {
			if len(s.Notes) < 40 {
				s.Notes = append(s.Notes, n)
			}
		}
		c.mu.Unlock()
	}
	s.LBAccepted, s.LBRefused = r.lb.Stats()
	if counts, err := r.ctl.counts(ctx); err == nil {
		s.DeskFaults = counts
	} else {
		failures = append(failures, err.Error())
	}
	for kind := range s.Faults {
		forced := deskFaults(cfg.Kit, kind, 1)
		for k := range forced {
			if s.DeskFaults != nil && s.DeskFaults[k] == 0 {
				s.Unexercised = append(s.Unexercised, kind+": "+k)
			}
		}
	}
	slices.Sort(s.Unexercised)
	ts, err := r.transcripts(ctx)
	if err != nil {
		failures = append(failures, "the desk's chats: "+err.Error())
	}
	for _, t := range ts {
		s.Messages.UserAtDesk += len(t.DeskGot)
		s.Messages.AgentSent += len(t.DeskSent)
	}
	s.Check = Check(ts)
	s.Lost, s.Duplicated, s.Reordered = s.Check.Lost(), s.Check.Duplicated(), s.Check.Reordered()

	if s.Lost+s.Duplicated+s.Reordered > 0 {
		failures = append(failures, fmt.Sprintf("lost %d, duplicated %d, reordered %d", s.Lost, s.Duplicated, s.Reordered))
	}
	if u := s.Check.Unexpected(); u > 0 {
		failures = append(failures, fmt.Sprintf("%d messages received that nobody sent", u))
	}
	if s.Check.NoDeskChat > 0 {
		failures = append(failures, fmt.Sprintf("%d clients have no chat at the desk", s.Check.NoDeskChat))
	}
	if s.Messages.UserAcked < cfg.Messages || int(s.Messages.Echoed) < cfg.Messages {
		failures = append(failures, fmt.Sprintf("only %d messages acknowledged and %d echoed of %d", s.Messages.UserAcked, s.Messages.Echoed, cfg.Messages))
	}
	if s.FaultTotal < cfg.Faults {
		failures = append(failures, fmt.Sprintf("only %d faults of %d injected", s.FaultTotal, cfg.Faults))
	}
	for _, k := range FaultKindsFor(cfg.Kit) {
		if s.Faults[k] == 0 && len(cfg.Plan) == 0 && cfg.Faults >= len(FaultKindsFor(cfg.Kit)) {
			failures = append(failures, "no fault of kind "+k)
		}
	}
	for _, k := range fatalAnomalies {
		if n := s.Anomalies[k]; n > 0 {
			failures = append(failures, fmt.Sprintf("%d × %s", n, k))
		}
	}
	s.Failures = failures
	s.OK = len(failures) == 0
	return s
}

// Print writes the summary for people, then the JSON summary as the last
// line.
func (s Summary) Print(w io.Writer) {
	verdict := "PASS"
	if !s.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n==== soak %s: %d instance(s), %d clients, kit %s, seed %d, %.1fs (logs: %s)\n", verdict, s.Instances, s.Clients, s.Kit, s.Seed, s.DurationS, s.Dir)
	m := s.Messages
	fmt.Fprintf(w, "messages   user: %d sent, %d acknowledged, %d at the desk | agent: %d sent by the desk, %d received (target %d)\n", m.UserSent, m.UserAcked, m.UserAtDesk, m.AgentSent, m.AgentReceived, m.Target)
	fmt.Fprintf(w, "verdict    lost %d  duplicated %d  reordered %d   (user→desk %d/%d/%d, desk→browser %d/%d/%d, unexpected %d)\n",
		s.Lost, s.Duplicated, s.Reordered, s.Check.User.Lost, s.Check.User.Duplicated, s.Check.User.Reordered,
		s.Check.Agent.Lost, s.Check.Agent.Duplicated, s.Check.Agent.Reordered, s.Check.Unexpected())
	for _, e := range append(s.Check.User.Examples, s.Check.Agent.Examples...) {
		fmt.Fprintf(w, "           %s\n", e)
	}
	fmt.Fprintf(w, "faults     %d:", s.FaultTotal)
	for _, k := range slices.Sorted(maps.Keys(s.Faults)) {
		fmt.Fprintf(w, " %s=%d", k, s.Faults[k])
	}
	fmt.Fprintln(w)
	if len(s.DeskFaults) > 0 {
		fmt.Fprint(w, "mock-desk  injected:")
		for _, k := range slices.Sorted(maps.Keys(s.DeskFaults)) {
			fmt.Fprintf(w, " %s=%d", k, s.DeskFaults[k])
		}
		fmt.Fprintln(w)
	}
	for _, k := range slices.Sorted(maps.Keys(s.RecoveryMs)) {
		var parts []string
		for _, v := range s.RecoveryMs[k] {
			parts = append(parts, (time.Duration(v) * time.Millisecond).String())
		}
		fmt.Fprintf(w, "recovery   %s: %s\n", k, strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "browsers   %d sockets, %d reconnects, %d resends, %d dropped mid-send; lb accepted %d, refused %d\n", s.Sockets, s.Reconnects, s.Resends, s.MidSend, s.LBAccepted, s.LBRefused)
	if len(s.Retried) > 0 {
		fmt.Fprint(w, "retried   ")
		for _, k := range slices.Sorted(maps.Keys(s.Retried)) {
			fmt.Fprintf(w, " %s=%d", k, s.Retried[k])
		}
		fmt.Fprintln(w)
	}
	if len(s.Anomalies) > 0 {
		fmt.Fprint(w, "anomalies ")
		for _, k := range slices.Sorted(maps.Keys(s.Anomalies)) {
			fmt.Fprintf(w, " %s=%d", k, s.Anomalies[k])
		}
		fmt.Fprintln(w)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note       %s\n", n)
	}
	for _, u := range s.Unexercised {
		fmt.Fprintf(w, "WARNING    asked mock-desk for %s, which it never injected\n", u)
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAILURE    %s\n", f)
	}
	b, _ := json.Marshal(s)
	fmt.Fprintf(w, "%s\n", b)
}
