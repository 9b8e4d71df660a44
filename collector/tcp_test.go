package collector

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/testvec"
)

// liveTCP runs a collector with an IPFIX over TCP listener on an ephemeral
// loopback port for fn, then stops it.
func liveTCP(t *testing.T, cfg Config, tcfg TCPConfig, fn func(addr netip.AddrPort, c *Collector, in *TCPInput)) *Collector {
	t.Helper()
	cfg.Host = "127.0.0.1"
	c := newTestCollector(t, cfg)
	in, err := c.ListenTCP(0, tcfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Serve(ctx, in) }()
	fn(in.Addr(), c, in)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("collector did not stop")
	}
	return c
}

// ipfixStream is a template message and n data messages of one flow each
// (the flow's bytes count is its index), back to back.
func ipfixStream(n int) []byte {
	u := testvec.U16
	tmpl := testvec.IPFIX(0, 1, testvec.Set(2, u(256), u(3), u(8), u(4), u(12), u(4), u(1), u(4)))
	stream := append([]byte(nil), tmpl...)
	for i := range n {
		stream = append(stream, testvec.IPFIX(uint32(i), 1, testvec.Set(256,
			[]byte{192, 0, 2, 1}, []byte{198, 51, 100, 2}, testvec.U32(uint32(i+1))))...)
	}
	return stream
}

func dialTCP(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// Messages split across reads (byte by byte, and odd chunks) and several
// in one write all decode; every flow arrives once, in order.
func TestTCPFraming(t *testing.T) {
	const n = 200
	stream := ipfixStream(n)
	for _, chunk := range []int{1, 7, 1000, len(stream)} {
		out := filepath.Join(t.TempDir(), "out.json")
		liveTCP(t, Config{Outputs: fileOut(t, out)}, TCPConfig{}, func(addr netip.AddrPort, c *Collector, _ *TCPInput) {
			conn := dialTCP(t, addr)
			for b := stream; len(b) > 0; {
				k := min(chunk, len(b))
				if _, err := conn.Write(b[:k]); err != nil {
					t.Fatal(err)
				}
				b = b[k:]
			}
			conn.Close()
			waitDecoded(t, c, n+1)
		})
		lines := readLines(t, out)
		if len(lines) != n {
			t.Fatalf("chunk %d: %d flows, want %d", chunk, len(lines), n)
		}
		for i, l := range lines {
			if l["bytes"] != float64(i+1) || l["type"] != "IPFIX" {
				t.Fatalf("chunk %d: flow %d: %v", chunk, i, l)
			}
		}
	}
}

// Templates are scoped to the session: a second connection cannot use the
// first one's templates, and a reconnect starts clean.
func TestTCPSessionTemplates(t *testing.T) {
	stream := ipfixStream(3)
	tmplLen := len(testvec.IPFIX(0, 1, testvec.Set(2, make([]byte, 4+3*4))))
	out := filepath.Join(t.TempDir(), "out.json")
	c := liveTCP(t, Config{Outputs: fileOut(t, out)}, TCPConfig{}, func(addr netip.AddrPort, c *Collector, _ *TCPInput) {
		a := dialTCP(t, addr)
		a.Write(stream) // template + 3 flows
		waitDecoded(t, c, 4)
		b := dialTCP(t, addr)
		b.Write(stream[tmplLen:]) // 3 flows without the template: they wait
		waitDecoded(t, c, 7)
		b.Close()
		a.Close()
		time.Sleep(100 * time.Millisecond)
		a2 := dialTCP(t, addr) // reconnect: no template either
		a2.Write(stream[tmplLen:])
		waitDecoded(t, c, 10)
		a2.Close()
	})
	if lines := readLines(t, out); len(lines) != 3 {
		t.Errorf("%d flows written, want the first session's 3", len(lines))
	}
	m := string(c.AppendMetrics(nil))
	for _, want := range []string{"nfcollect_tcp_connections_accepted_total 3", "nfcollect_tcp_messages_total 10", "nfcollect_tcp_framing_errors_total 0"} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// A stream that is not IPFIX (a NetFlow v9 packet, or a short length) is
// closed and counted; a message cut short by the close is counted too.
func TestTCPFramingErrors(t *testing.T) {
	v9 := testvec.V9(1, 0, testvec.Set(0, testvec.U16(256), testvec.U16(1), testvec.U16(8), testvec.U16(4)))
	short := append(testvec.U16(10), testvec.U16(8)...) // length below the header
	cut := ipfixStream(1)
	cut = cut[:len(cut)-3]
	c := liveTCP(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "out.json"))}, TCPConfig{}, func(addr netip.AddrPort, c *Collector, in *TCPInput) {
		for _, b := range [][]byte{v9, append(short, make([]byte, 12)...), cut} {
			conn := dialTCP(t, addr)
			conn.Write(b)
			if bytes.Equal(b, cut) {
				conn.Close()
			} else {
				// The collector closes a bad stream: the read ends.
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Read(make([]byte, 1)); err == nil {
					t.Error("bad stream not closed")
				}
				conn.Close()
			}
		}
		for range 100 {
			if in.framingErrors.Load() == 3 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if m := string(c.AppendMetrics(nil)); !strings.Contains(m, "nfcollect_tcp_framing_errors_total 3\n") {
		t.Errorf("framing errors not counted:\n%s", grepLines(m, "nfcollect_tcp_"))
	}
}

// Connections beyond MaxConns are closed at once; an idle connection is
// closed after IdleTimeout.
func TestTCPLimits(t *testing.T) {
	c := liveTCP(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "out.json"))}, TCPConfig{MaxConns: 2, IdleTimeout: 300 * time.Millisecond}, func(addr netip.AddrPort, c *Collector, in *TCPInput) {
		a, b := dialTCP(t, addr), dialTCP(t, addr)
		defer a.Close()
		defer b.Close()
		for range 100 {
			if in.active.Load() == 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		extra := dialTCP(t, addr)
		extra.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := extra.Read(make([]byte, 1)); err == nil {
			t.Error("connection beyond MaxConns not closed")
		}
		extra.Close()
		// a and b say nothing: closed when idle.
		a.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := a.Read(make([]byte, 1)); err == nil {
			t.Error("idle connection not closed")
		}
		for range 100 {
			if in.closedIdle.Load() == 2 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	m := string(c.AppendMetrics(nil))
	for _, want := range []string{"nfcollect_tcp_connections_refused_total 1", "nfcollect_tcp_connections_idle_closed_total 2", "nfcollect_tcp_connections 0"} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "nfcollect_tcp_"))
		}
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// softflowd exporting IPFIX over TCP (-P tcp) to a live collector: the
// flows are those of softflowd-ipfix.pcap, the same exporter's UDP export of
// the same traffic. Skipped when softflowd is not installed (make test
// installs it; see the Makefile).
func TestTCPSoftflowd(t *testing.T) {
	bin, err := exec.LookPath("softflowd")
	if err != nil {
		if os.Getenv("NFKIT_REQUIRE_EXPORTERS") != "" {
			t.Fatal("softflowd not installed")
		}
		t.Skip("SKIPPED: softflowd not installed (apt-get install softflowd)")
	}
	want := len(readLinesOfCapture(t, "softflowd-ipfix.pcap"))
	out := filepath.Join(t.TempDir(), "out.json")
	c := liveTCP(t, Config{Outputs: fileOut(t, out)}, TCPConfig{}, func(addr netip.AddrPort, c *Collector, in *TCPInput) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-r", "synthetic-traffic.pcap", "-d", "-c", "none", "-a",
			"-v", "10", "-P", "tcp", "-n", addr.String())
		cmd.Dir = filepath.Join(testvec.Root(), "testdata")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softflowd: %v\n%s", err, b)
		}
		for range 500 {
			if c.Stats().Flows >= uint64(want) && in.active.Load() == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	got := readLines(t, out)
	if len(got) != want {
		t.Fatalf("%d flows over TCP, %d in softflowd-ipfix.pcap", len(got), want)
	}
	m := string(c.AppendMetrics(nil))
	if !strings.Contains(m, "nfcollect_tcp_connections_accepted_total 1\n") || !strings.Contains(m, "nfcollect_tcp_framing_errors_total 0\n") {
		t.Errorf("metrics:\n%s", grepLines(m, "nfcollect_tcp_"))
	}
}

// readLinesOfCapture replays a capture and returns its flows.
func readLinesOfCapture(t *testing.T, name string) []map[string]any {
	t.Helper()
	out := filepath.Join(t.TempDir(), "replay.json")
	c := newTestCollector(t, Config{Outputs: fileOut(t, out)})
	if err := replay(t, c, filepath.Join(testvec.Root(), "testdata", name)); err != nil {
		t.Fatal(err)
	}
	return readLines(t, out)
}
