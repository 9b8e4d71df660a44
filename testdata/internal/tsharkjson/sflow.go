package main

// The sFlow v5 expectations: tshark's sflow dissector run as
//
//	TZ=UTC tshark -n -r X.pcap -d udp.port==PORT,sflow -T json -J "frame ip ipv6 sflow"
//
// reduced to, per datagram, its header fields and its samples, each with
// its own fields and its records (flow or counter records by tshark's
// label), every field flattened as for NetFlow. tshark dissects the bytes
// of a raw packet header record as a frame of its own; of that dissection
// only the fields a flow decoder reads are kept ("header": the first
// occurrence of each, i.e. the outer headers, not those an ICMP error
// quotes).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// headerFields are the fields of tshark's dissection of a sampled header
// that the expectations keep.
var headerFields = map[string]bool{
	"eth.dst": true, "eth.src": true, "eth.type": true,
	"vlan.id": true, "vlan.etype": true,
	"ip.version": true, "ip.dsfield": true, "ip.ttl": true, "ip.proto": true, "ip.src": true, "ip.dst": true, "ip.len": true,
	"ipv6.tclass": true, "ipv6.hlim": true, "ipv6.nxt": true, "ipv6.src": true, "ipv6.dst": true,
	"tcp.srcport": true, "tcp.dstport": true, "tcp.flags": true,
	"udp.srcport": true, "udp.dstport": true,
	"icmp.type": true, "icmp.code": true, "icmpv6.type": true, "icmpv6.code": true,
}

// keepHeader copies the kept fields below o into r, first occurrence only.
func keepHeader(o *obj, r *out) {
	for i, k := range o.keys {
		switch v := o.vals[i].(type) {
		case *obj:
			keepHeader(v, r)
		case []any:
			for _, e := range v {
				if eo, ok := e.(*obj); ok {
					keepHeader(eo, r)
				} else if s, ok := e.(string); ok && headerFields[k] && r.get(k) == nil {
					r.set(k, s)
				}
			}
		case string:
			if headerFields[k] && r.get(k) == nil {
				r.set(k, v)
			}
		}
	}
}

// sflowNode reduces a sample or a record: its scalar fields flattened,
// its sub-objects as records (a sample's) or flattened (a record's), the
// sampled header's dissection as "header".
func sflowNode(label string, o *obj, depth int, stats *sflowStats) *out {
	r := &out{}
	r.set("name", label)
	var records []*out
	for i, k := range o.keys {
		v := o.vals[i]
		switch {
		case strings.HasSuffix(k, ".header_tree"):
			h := &out{}
			if vo, ok := v.(*obj); ok {
				keepHeader(vo, h)
			}
			r.set("header", h)
		case depth == 0 && isObj(v) && !strings.HasSuffix(k, "_tree"):
			records = append(records, sflowNode(k, v.(*obj), 1, stats))
			stats.records++
		default:
			flattenValue(k, v, r)
		}
	}
	if depth == 0 {
		if records == nil {
			records = []*out{}
		}
		r.set("records", records)
	}
	return r
}

func isObj(v any) bool { _, ok := v.(*obj); return ok }

type sflowStats struct{ packets, flowSamples, counterSamples, records int }

func runSFlow(tsharkBin, pcap string, port int, outPath string) error {
	ver, err := exec.Command(tsharkBin, "-v").Output()
	if err != nil {
		return fmt.Errorf("tshark -v: %w", err)
	}
	verLine, _, _ := strings.Cut(string(ver), "\n")
	cmd := exec.Command(tsharkBin, "-n", "-r", pcap, "-d", fmt.Sprintf("udp.port==%d,sflow", port),
		"-T", "json", "-J", "frame ip ipv6 sflow")
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	d := json.NewDecoder(stdout)
	d.UseNumber()
	top, perr := parseValue(d)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("tshark: %w: %s", err, stderr.String())
	}
	if perr != nil {
		return fmt.Errorf("parsing tshark json: %w", perr)
	}
	arr, ok := top.([]any)
	if !ok {
		return errors.New("tshark json: not an array")
	}
	var st sflowStats
	packets := []*out{}
	for _, e := range arr {
		src, _ := e.(*obj).get("_source")
		lv, _ := src.(*obj).get("layers")
		layers := lv.(*obj)
		p := &out{}
		fr, _ := layers.get("frame")
		p.set("frame", atoi(fr.(*obj).str("frame.number")))
		addr := ""
		if ip, ok := layers.get("ip"); ok {
			addr = ip.(*obj).str("ip.src")
		} else if ip, ok := layers.get("ipv6"); ok {
			addr = ip.(*obj).str("ipv6.src")
		}
		p.set("src", addr)
		sv, ok := layers.get("sflow")
		so, isO := sv.(*obj)
		if !ok || !isO {
			return fmt.Errorf("frame %v: no single sflow layer", p.get("frame"))
		}
		header := &out{}
		samples := []*out{}
		for i, k := range so.keys {
			v := so.vals[i]
			if vo, ok := v.(*obj); ok && !strings.HasSuffix(k, "_tree") {
				s := sflowNode(k, vo, 0, &st)
				if strings.HasPrefix(k, "Counters sample") || strings.HasPrefix(k, "Expanded counters sample") {
					st.counterSamples++
				} else {
					st.flowSamples++
				}
				samples = append(samples, s)
				continue
			}
			flattenValue(k, v, header)
		}
		p.set("header", header)
		p.set("samples", samples)
		packets = append(packets, p)
		st.packets++
	}
	res := &out{}
	res.set("capture", filepath.Base(pcap))
	res.set("tshark", verLine)
	res.set("port", port)
	counts := &out{}
	counts.set("packets", st.packets)
	counts.set("flow_samples", st.flowSamples)
	counts.set("counter_samples", st.counterSamples)
	counts.set("records", st.records)
	res.set("counts", counts)
	res.set("packets", packets)
	var b bytes.Buffer
	write(&b, res, "")
	b.WriteByte('\n')
	return os.WriteFile(outPath, b.Bytes(), 0o644)
}
