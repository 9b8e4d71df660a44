//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

const perfSample = `nfcollect 18853  2164.763239:    1001001 cpu-clock:ppp: 
	          2cbb74 github.com/klauspost/compress/flate.(*fastEncL1).Encode+0x554 (/tmp/nfcollect)
	          36ccb1 github.com/nfkit/nfkit/collector.(*worker).flush+0x51 (/tmp/nfcollect)
	          36a7b4 github.com/nfkit/nfkit/collector.(*worker).run+0x1b4 (/tmp/nfcollect)

nfcollect 18853  2164.764231:    1001001 cpu-clock:ppp: 
	          2bf071 github.com/nfkit/nfkit/decode.readClassV5SetWide+0xd1 (/tmp/nfcollect)
	          36a9eb github.com/nfkit/nfkit/collector.(*worker).handle+0xeb (/tmp/nfcollect)

nfcollect 18853  2164.771140:    1001001 cpu-clock:ppp: 
	          130438 net/netip.Addr.appendTo4+0x2b8 (/tmp/nfcollect)
	          2b73cb github.com/nfkit/nfkit/flowjson.AppendFlow+0x66b (/tmp/nfcollect)
	          36b3f2 github.com/nfkit/nfkit/collector.(*worker).emit+0x452 (/tmp/nfcollect)

nfcollect 18850  2164.788723:    1001001 cpu-clock:ppp: 
	ffffffff8141fbfd __x64_sys_recvmmsg+0x9d ([kernel.kallsyms])
	ffffffff821ecc51 do_syscall_64+0x71 ([kernel.kallsyms])
	           935d7 golang.org/x/net/internal/socket.(*Conn).recvMsgs+0x37 (/tmp/nfcollect)
	           60ab2 github.com/nfkit/nfkit/collector.(*Collector).receive+0xb2 (/tmp/nfcollect)

nfcollect 18850  2164.788724:    1001001 cpu-clock:ppp: 
	ffffffff82200809 _raw_spin_unlock_irqrestore+0x19 ([kernel.kallsyms])
	           935d7 runtime.usleep.abi0+0x37 (/tmp/nfcollect)
	           60ab2 runtime.sysmon+0xb2 (/tmp/nfcollect)
`

func TestParsePerfScript(t *testing.T) {
	counts, leaves, total, foreign := parsePerfScript(strings.NewReader(perfSample+`
bench.test 99 [000] 2164.9: 1001001 cpu-clock:ppp:
	          2bf071 github.com/nfkit/nfkit/decode.readClassV5SetWide+0xd1 (/tmp/bench.test)
`), "nfcollect")
	if foreign != 1 {
		t.Errorf("foreign samples %d, want 1", foreign)
	}
	if total != 5 {
		t.Fatalf("total %d", total)
	}
	want := map[string]int{"compress": 1, "decode": 1, "JSON encode": 1, "receive (recvmmsg, copy, queue)": 1, "runtime, scheduler": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d samples, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
	if leaves["github.com/klauspost/compress/flate.(*fastEncL1).Encode"] != 1 || leaves["net/netip.Addr.appendTo4"] != 1 {
		t.Errorf("leaves %v", leaves)
	}
}

func TestParseUDPDrops(t *testing.T) {
	b := []byte(`   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:719F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5051 2 0000000000000000 17
  124: 0100007F:719F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5052 2 0000000000000000 3
  125: 0100007F:D431 0100007F:719F 01 00000000:00000000 00:00000000 00000000     0        0 5053 2 0000000000000000 99
`)
	drops, n := parseUDPDrops(b, ":719F")
	if drops != 20 || n != 2 {
		t.Errorf("drops %d on %d sockets, want 20 on 2 (the sender's socket has the port as remote)", drops, n)
	}
}

func TestParseNfcollectMetrics(t *testing.T) {
	m := parseNfcollectMetrics([]byte(`# HELP x
nfcollect_packets_received_total{exporter="127.0.0.1"} 10
nfcollect_packets_received_total{exporter="127.0.0.2"} 5
nfcollect_flows_decoded_total{type="NETFLOW_V9"} 250
nfcollect_queue_drops_total{exporter="127.0.0.1"} 2
nfcollect_kernel_receive_drops 7
nfcollect_output_flows_total 200
`))
	if m.Packets != 15 || m.Flows != 250 || m.QueueDrops != 2 || m.KernelDrops != 7 || m.OutFlows != 200 {
		t.Errorf("%+v", m)
	}
}

func TestCount(t *testing.T) {
	dir := t.TempDir()
	lines := strings.Repeat("{\"a\":1}\n", 1000)
	// Two gzip members and two zstd frames, as nfcollect writes chunks.
	var gz bytes.Buffer
	for range 2 {
		w := gzip.NewWriter(&gz)
		w.Write([]byte(lines))
		w.Close()
	}
	os.WriteFile(filepath.Join(dir, "f.gz"), gz.Bytes(), 0o644)
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll([]byte(lines), nil)
	zs = enc.EncodeAll([]byte(lines), zs)
	os.WriteFile(filepath.Join(dir, "f.zst"), zs, 0o644)
	os.WriteFile(filepath.Join(dir, "f.json"), []byte(lines), 0o644)
	for name, want := range map[string]uint64{"f.gz": 2000, "f.zst": 2000, "f.json": 1000} {
		if n, err := countLines(filepath.Join(dir, name)); err != nil || n != want {
			t.Errorf("%s: %d lines, %v; want %d", name, n, err, want)
		}
	}
	var pb []byte
	for i := range 300 {
		msg := bytes.Repeat([]byte{1}, i)
		pb = binary.AppendUvarint(pb, uint64(len(msg)))
		pb = append(pb, msg...)
	}
	os.WriteFile(filepath.Join(dir, "f.pb"), pb, 0o644)
	if n, err := countDelimited(filepath.Join(dir, "f.pb")); err != nil || n != 300 {
		t.Errorf("delimited: %d, %v", n, err)
	}
	os.WriteFile(filepath.Join(dir, "bad.pb"), pb[:len(pb)-3], 0o644)
	if _, err := countDelimited(filepath.Join(dir, "bad.pb")); err == nil {
		t.Error("truncated stream counted without error")
	}
}

func TestRateLabel(t *testing.T) {
	for v, want := range map[float64]string{1e5: "100k", 5e5: "500k", 1e6: "1M", 2e6: "2M", 1.5e6: "1.5M", 2.25e6: "2.25M"} {
		if got := rateLabel(v); got != want {
			t.Errorf("rateLabel(%g) = %s, want %s", v, got, want)
		}
	}
}

func TestCalibrateLeavesAffinity(t *testing.T) {
	before := affinityCount(t)
	if d := calibrate(); d <= 0 {
		t.Fatalf("calibrate = %v", d)
	}
	// Every thread this process has, including any the calibration used,
	// may run on all the CPUs it could before.
	for range 50 {
		if n := affinityCount(t); n != before {
			t.Fatalf("thread affinity %d CPUs after calibrate, %d before", n, before)
		}
		runtime.Gosched()
	}
	out, err := exec.Command("sh", "-c", "grep Cpus_allowed_list /proc/self/status").Output()
	if err != nil {
		t.Skip(err)
	}
	t.Logf("child: %s", strings.TrimSpace(string(out)))
}

func affinityCount(t *testing.T) int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skip(err)
	}
	return set.Count()
}
