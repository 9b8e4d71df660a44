//go:build linux

package main

import (
	"fmt"
	"strings"
	"time"
)

func pct(v float64) string {
	switch {
	case v >= 100:
		return "100%"
	case v >= 99.95:
		return fmt.Sprintf("%.2f%%", v)
	case v >= 10:
		return fmt.Sprintf("%.1f%%", v)
	}
	return fmt.Sprintf("%.2f%%", v)
}

func rateLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", v/1e6), "0"), ".0") + "M"
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// markdown renders the results: the side-by-side table, the details of
// every kept run, the profile split and the commands.
func markdown(o *options, mach []string, rs []*result, prof []*profile, wall time.Duration) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## End-to-end throughput (`make bench-e2e`)\n\n")
	p("25-flow NetFlow v9 packets (1400 bytes; the decoder benchmarks' packet, template first and every 1000 packets) from %d exporters on 127.0.0.1-%d, sent by `nfreplay` pinned to core 1 for %s per point. ", o.sources, o.sources, o.duration)
	p("\"1 core\" collectors are pinned to core 0 (`taskset -c 0`); \"2 cores\" ones float over both cores, sharing the sender's. ")
	p("*Written* is the share of the flows sent that reached the output file after the collector went idle and was stopped with SIGTERM ")
	p("(nfcollect: lines of the decompressed file; nfcapd: `nfdump -I`; goflow2: lines). ")
	p("Before each point the benchmark waits (up to %s) for the machine to be idle (below %.2f busy cores); ", o.quietWait, o.quietCores)
	p("a point runs again (up to %d runs) when it lost flows while other work used more than %.1f CPU-s, the sender fell short of the rate, or core 0 ran a fixed calibration loop more than 10%% slower than its best (the host can slow this virtual machine down unseen); the best run is shown, all are in `e2e.txt`. ", o.attempts, o.noisyCPU)
	p("Points near a collector's limit vary by several percent from run to run.\n\n")

	// Side-by-side table.
	type key struct{ setup, rate string }
	byKey := map[key]*result{}
	var order []string
	seen := map[string]bool{}
	for _, r := range rs {
		byKey[key{r.Setup, r.RateName}] = r
		if !seen[r.Setup] {
			seen[r.Setup] = true
			order = append(order, r.Setup)
		}
	}
	p("| collector | output |")
	for _, rn := range o.rates {
		p(" %s/s |", rateLabel(rn))
	}
	p(" lossless up to (%s runs) |\n|---|---|", o.duration)
	for range o.rates {
		p("---:|")
	}
	p("---:|\n")
	for _, sn := range order {
		var first *result
		for _, rn := range o.rateNames {
			if r := byKey[key{sn, rn}]; r != nil {
				first = r
				break
			}
		}
		p("| %s | %s |", first.Label, first.Output)
		lossless, broken := "-", false
		for i, rn := range o.rateNames {
			r := byKey[key{sn, rn}]
			if r == nil {
				p(" |")
				continue
			}
			cell := pct(r.WrittenPct)
			if r.Error != "" {
				cell += " (!)"
			}
			p(" %s |", cell)
			if r.Written == r.Sender.Flows && r.Sender.Flows > 0 && r.Error == "" && !broken {
				lossless = rateLabel(o.rates[i]) + "/s"
			} else {
				broken = true
			}
		}
		p(" %s |\n", lossless)
	}
	p("\n")

	extra := func(pts []point) {
		p("| collector | output |")
		for _, bp := range pts {
			p(" %s/s for %s |", rateLabel(bp.rate), bp.dur)
		}
		p("\n|---|---|")
		for range pts {
			p("---:|")
		}
		p("\n")
		for _, sn := range order {
			var first *result
			for _, bp := range pts {
				if r := byKey[key{sn, bp.name}]; r != nil {
					first = r
					break
				}
			}
			if first == nil {
				continue
			}
			p("| %s | %s |", first.Label, first.Output)
			for _, bp := range pts {
				r := byKey[key{sn, bp.name}]
				if r == nil {
					p(" |")
					continue
				}
				cell := pct(r.WrittenPct)
				if r.Error != "" {
					cell += " (!)"
				}
				p(" %s |", cell)
			}
			p("\n")
		}
		p("\n")
	}
	if len(o.long) > 0 {
		p("Longer runs: a few seconds at a rate just above what a collector sustains can still be lossless, because the backlog fits in its buffers ")
		p("(nfcollect's decode queue holds tens of thousands of packets); these runs tell a sustained rate from a carried one.\n\n")
		extra(o.long)
	}
	if len(o.bursts) > 0 {
		p("Bursts: the same packets at a high rate for a short time, then nothing; *written* after the collector caught up. ")
		p("A burst is absorbed when nothing is lost: the socket buffer and nfcollect's bounded queue between receiving and decoding hold what the decoder has not reached yet.\n\n")
		extra(o.bursts)
	}

	// Details.
	p("<details><summary>Per run: offered rate, drops, CPU, memory</summary>\n\n")
	p("| collector | output | offered flows/s | for s | received pkts | decoded | written | kernel drops (pkts) | queue drops (pkts) | CPU s (user+sys) | CPU ns/flow written | peak RSS MiB | out bytes/flow | drain s | stop s | rcvbuf MiB | load avg | other CPU s |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rs {
		qd, recv, dec := "-", "-", "-"
		if r.Metrics != nil {
			qd = fmt.Sprint(r.Metrics.QueueDrops)
			recv = fmt.Sprintf("%d of %d", r.Metrics.Packets, r.Sender.Packets)
			if r.Sender.Flows > 0 {
				dec = pct(100 * float64(r.Metrics.Flows) / float64(r.Sender.Flows))
			}
		} else if r.GoflowPkts > 0 {
			recv = fmt.Sprintf("%d of %d", r.GoflowPkts, r.Sender.Packets)
		}
		nsf := "-"
		if r.Written > 0 {
			nsf = fmt.Sprintf("%.0f", r.cpu()*1e9/float64(r.Written))
		}
		bpf := "-"
		if r.Written > 0 {
			bpf = fmt.Sprintf("%.1f", float64(r.OutputBytes)/float64(r.Written))
		}
		written := pct(r.WrittenPct)
		if r.Error != "" {
			written += " (" + strings.ReplaceAll(r.Error, "|", "/") + ")"
		}
		p("| %s | %s | %.0f | %.2g | %s | %s | %s | %d | %s | %.2f | %s | %d | %s | %.1f | %.1f | %.0f | %s | %.2f |\n",
			r.Label, r.Output, r.Sender.FlowsPerS, r.Sender.ElapsedS, recv, dec, written, r.KernelDrops, qd, r.cpu(), nsf, r.MaxRSSKiB>>10, bpf, r.DrainS, r.StopS,
			float64(r.RcvBuf)/(1<<20), r.LoadAvg, r.OtherCPU)
	}
	p("\n*kernel drops*: datagrams the kernel dropped on the collector's sockets (full receive buffer, `/proc/net/udp`); ")
	p("*queue drops*: nfcollect's bounded queue between receiving and decoding overflowed (counted, `nfcollect_queue_drops_total`); ")
	p("*received pkts*: nfcollect's `nfcollect_packets_received_total` (counted when a worker takes a packet off the queue, so received + queue drops = sent), goflow2's `goflow2_flow_traffic_packets_total`, read before SIGTERM (goflow2 keeps working off its queue after it); ")
	p("*drain*: seconds the collector kept working after the sender stopped (at most %s, then SIGTERM; more than a few tenths means it fell behind during the run); *stop*: seconds from SIGTERM to exit; ", o.drainMax)
	p("*rcvbuf*: receive buffer as the kernel accounts it (`ss -m`, twice the usable size; nfcapd's `-B` is capped by net.core.rmem_max, goflow2 keeps the default); ")
	p("*other CPU*: CPU time used on the machine by neither the sender nor the collector during the run.\n\n</details>\n\n")

	if len(prof) > 0 {
		p("### Where nfcollect's time goes\n\n")
		p("`perf record -g` on nfcollect (pinned to one core) for %.0f s while it is offered %s flows/s; samples are attributed by call stack. ", o.profileSecs, rateLabel(prof[0].Rate))
		p("ns/flow is the stage's share of the run's CPU time per flow written.\n\n")
		p("| stage |")
		for _, pr := range prof {
			p(" %s share | %s ns/flow |", pr.Run.Output, pr.Run.Output)
		}
		p("\n|---|")
		for range prof {
			p("---:|---:|")
		}
		p("\n")
		names := []string{}
		for _, c := range categories {
			names = append(names, c.name)
		}
		names = append(names, otherCategory)
		for _, n := range names {
			any := false
			for _, pr := range prof {
				if pr.Share[n] > 0 {
					any = true
				}
			}
			if !any {
				continue
			}
			p("| %s |", n)
			for _, pr := range prof {
				p(" %.1f%% | %.0f |", 100*pr.Share[n], pr.NsPerFlow[n])
			}
			p("\n")
		}
		p("| **total** |")
		for _, pr := range prof {
			p(" 100%% (%d samples) | %.0f |", pr.Samples, pr.CPUPerFlow)
		}
		p("\n\n")
		for _, pr := range prof {
			qd := uint64(0)
			if pr.Run.Metrics != nil {
				qd = pr.Run.Metrics.QueueDrops
			}
			p("%s run: offered %.0f flows/s, written %s, kernel drops %d, queue drops %d. Hottest functions: ", pr.Run.Output, pr.Run.Sender.FlowsPerS, pct(pr.Run.WrittenPct), pr.Run.KernelDrops, qd)
			for i, l := range pr.TopLeaf {
				if i == 8 {
					break
				}
				if i > 0 {
					p(", ")
				}
				p("`%s` %.1f%%", shortSym(l.Sym), 100*l.Share)
			}
			p(".\n\n")
		}
	}

	p("Machine and versions:\n\n```\n")
	for _, l := range mach {
		p("%s\n", l)
	}
	p("loadavg-end: %s\nwall time: %s\n```\n\n", loadavg(), wall.Round(time.Second))
	p("Commands (what `make bench-e2e` runs for each point; ports vary):\n\n```sh\n")
	if o.commands != "" {
		p("%s\n", o.commands)
	}
	p("taskset -c 0 nfcollect --host 127.0.0.1 -p PORT -o flows.gz --metrics 127.0.0.1:MPORT --stats-interval -1s   # or flows.zst; no taskset for \"2 cores\"\n")
	p("taskset -c 0 nfcapd -b 127.0.0.1 -p PORT -w DIR -t 3600 -B %d [%s]\n", 32<<20, lz4Flag(o.nfcapd))
	p("taskset -c 0 goflow2 -listen netflow://127.0.0.1:PORT -format json -transport.file flows.json -addr 127.0.0.1:MPORT\n")
	p("taskset -c 1 nfreplay -t 127.0.0.1:PORT --rate RATE --duration %s --count N --source-addrs %d --json\n", o.duration, o.sources)
	p("# wait until the collector is idle, read /metrics and /proc/net/udp, kill -TERM PID, then count:\n")
	p("gzip -dc flows.gz | wc -l; zstd -dc flows.zst | wc -l; nfdump -r DIR/nfcapd.* -I; wc -l flows.json\n```\n")
	return b.String()
}

func shortSym(s string) string {
	s = strings.TrimPrefix(s, "github.com/")
	s = strings.TrimPrefix(s, "nfkit/nfkit/")
	s = strings.TrimPrefix(s, "klauspost/compress/")
	return s
}
