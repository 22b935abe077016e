package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// server reads a process's CPU time and memory from /proc (Linux).
type server struct{ pid int }

// cpu is the process's user and system CPU time.
func (s server) cpu() time.Duration {
	if s.pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// Fields count from after the command name, which may hold spaces;
	// utime and stime are fields 14 and 15, in clock ticks (100 a second).
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * (time.Second / 100)
}

// syscalls is how many read and write system calls the process made
// (/proc/PID/io syscr and syscw): each frame a socket writes on its own is
// one, so they show what batching saves, whatever the machine's noise.
func (s server) syscalls() (reads, writes int64) {
	if s.pid == 0 {
		return 0, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", s.pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// rss is the process's resident memory in KiB.
func (s server) rss() int64 {
	if s.pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// mode is the mode of the runs labelled label.
func mode(runs []result, label string) string {
	for _, r := range runs {
		if r.Label == label {
			return r.Mode
		}
	}
	return ""
}

// report prints the medians of the runs in path (JSON lines; other lines
// are passed over) as a markdown table: each load's raw runs beside its
// gateway runs, with ratios.
func report(path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var runs []result
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Mode == "" {
			continue
		}
		runs = append(runs, r)
		if !slices.Contains(labels, r.Label) {
			labels = append(labels, r.Label)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	med := func(label, proto string, v func(result) float64) (float64, int) {
		var xs []float64
		for _, r := range runs {
			if r.Label == label && r.Proto == proto {
				xs = append(xs, v(r))
			}
		}
		if len(xs) == 0 {
			return math.NaN(), 0
		}
		slices.Sort(xs)
		return xs[len(xs)/2], len(xs)
	}
	ms := func(us float64) string { return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms" }
	fmt.Fprintln(out, "| load | raw echo | deskbridge | ratio | deskbridge server |")
	fmt.Fprintln(out, "| --- | --- | --- | --- | --- |")
	for _, l := range labels {
		rt, n := med(l, "raw", func(r result) float64 { return r.PerSecond })
		r99, _ := med(l, "raw", func(r result) float64 { return float64(r.P99us) })
		r50, _ := med(l, "raw", func(r result) float64 { return float64(r.P50us) })
		dt, _ := med(l, "gateway", func(r result) float64 { return r.PerSecond })
		d99, _ := med(l, "gateway", func(r result) float64 { return float64(r.P99us) })
		d50, _ := med(l, "gateway", func(r result) float64 { return float64(r.P50us) })
		cpu, _ := med(l, "gateway", func(r result) float64 { return r.ServerCPUus })
		cores, _ := med(l, "gateway", func(r result) float64 { return r.ServerCores })
		kb, _ := med(l, "gateway", func(r result) float64 { return r.ServerKBPerClient })
		sysw, _ := med(l, "gateway", func(r result) float64 { return r.ServerWritesPerTrip })
		sysr, _ := med(l, "gateway", func(r result) float64 { return r.ServerReadsPerTrip })
		if mode(runs, l) == "idle" {
			fmt.Fprintf(out, "| %s | — | — | — | %.2f cores, %.0f KB RSS a session |\n", l, cores, kb)
			continue
		}
		rawCell, ratio := "—", "—"
		if n > 0 {
			rawCell = fmt.Sprintf("p50 %s, p99 %s, %.0f msg/s", ms(r50), ms(r99), rt)
			ratio = fmt.Sprintf("%.1f× p99, %.3f× throughput", d99/r99, dt/rt)
		}
		srv := fmt.Sprintf("%.0f µs CPU a round trip, %.2f cores", cpu, cores)
		if n > 0 {
			srv += fmt.Sprintf(", %.1f writes and %.1f reads a round trip", sysw, sysr)
		}
		if n == 0 {
			srv += fmt.Sprintf(", %.0f KB RSS a chat", kb)
		}
		fmt.Fprintf(out, "| %s | %s | p50 %s, p99 %s, %.0f msg/s | %s | %s |\n", l, rawCell, ms(d50), ms(d99), dt, ratio, srv)
	}
	fmt.Fprintf(out, "\nMedians of each load's runs; no run lost, doubled or reordered a message (loadgen fails a run that does).\n")
	return nil
}
