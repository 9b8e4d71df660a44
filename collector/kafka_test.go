package collector

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/flowpb"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

// kafkaExports returns export packets of several exporters (IPv4 and
// IPv6): the benchmark v9 packet (25 flows) and v5 packet (30 flows) as
// each exporter sent them, with distinct receive times.
func kafkaExports(tb testing.TB, exporters int) []*Export {
	tb.Helper()
	var out []*Export
	tmpl, data := benchpkt.V9()
	for i := range exporters {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)})
		if i%2 == 1 {
			a = netip.MustParseAddr("2001:db8::" + strconv.Itoa(i+1))
		}
		var d decode.Decoder
		for j, pkt := range [][]byte{data, benchpkt.V5()} {
			p := new(decode.Packet)
			if err := d.Decode(a, tmpl, p); err != nil {
				tb.Fatal(err)
			}
			if err := d.Decode(a, pkt, p); err != nil {
				tb.Fatal(err)
			}
			out = append(out, &Export{Packet: p, Source: netip.AddrPortFrom(a, 9995), Received: int64(1700000000e9 + i*1000 + j), Complete: true})
		}
	}
	return out
}

// Framing a packet for Kafka allocates nothing.
func TestKafkaEncoderAllocs(t *testing.T) {
	e := kafkaExports(t, 1)[0]
	for _, enc := range []KafkaEncoder{{Format: KafkaProtobuf}, {Format: KafkaProtobuf, Options: flowpb.Extensions}, {Format: KafkaJSON}} {
		buf := enc.AppendPacket(nil, e)
		if n := testing.AllocsPerRun(100, func() { buf = enc.AppendPacket(buf[:0], e) }); n != 0 {
			t.Errorf("%+v: %v allocations per packet, want 0", enc, n)
		}
	}
}

// kafkaMessage is a record as a consumer sees it.
type kafkaMessage struct{ key, value string }

// expected returns the messages of exports, in order: key = the
// exporter's address bytes, value = what flowpb or flowjson writes.
func expected(exports []*Export, enc KafkaEncoder) []kafkaMessage {
	var out []kafkaMessage
	for _, e := range exports {
		for i := range e.Packet.Records {
			r := &e.Packet.Records[i]
			var v []byte
			if enc.Format == KafkaJSON {
				v = flowjson.AppendRecord(nil, r, e.Received)
				v = v[:len(v)-1]
			} else {
				v = flowpb.AppendRecord(nil, r, e.Received, enc.Options)
			}
			out = append(out, kafkaMessage{string(r.Exporter.Unmap().AsSlice()), string(v)})
		}
	}
	return out
}

func encodeBatch(exports []*Export, enc KafkaEncoder) ([]byte, int) {
	var b []byte
	n := 0
	for _, e := range exports {
		b = enc.AppendPacket(b, e)
		n += len(e.Packet.Records)
	}
	return b, n
}

// A batch splits into the records the encoders write, keyed by exporter.
func TestSplitKafkaBatch(t *testing.T) {
	exports := kafkaExports(t, 4)
	for _, enc := range []KafkaEncoder{{Format: KafkaProtobuf}, {Format: KafkaProtobuf, Options: flowpb.Extensions}, {Format: KafkaJSON}} {
		batch, records := encodeBatch(exports, enc)
		var got []kafkaMessage
		n, err := SplitKafkaBatch(batch, func(k, v []byte) { got = append(got, kafkaMessage{string(k), string(v)}) })
		if err != nil || n != records {
			t.Fatalf("%+v: SplitKafkaBatch = %d, %v; want %d records", enc, n, err, records)
		}
		want := expected(exports, enc)
		if len(got) != len(want) {
			t.Fatalf("%+v: %d messages, want %d", enc, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: message %d = %q, want %q", enc, i, got[i], want[i])
			}
		}
	}
}

// A cut or damaged batch is rejected with the offset named; no record of
// a damaged frame is produced, and the frames before it are intact.
func TestSplitKafkaBatchMalformed(t *testing.T) {
	exports := kafkaExports(t, 2)[:2]
	for _, enc := range []KafkaEncoder{{Format: KafkaProtobuf}, {Format: KafkaJSON}} {
		first := enc.AppendPacket(nil, exports[0])
		batch := enc.AppendPacket(bytes.Clone(first), exports[1])
		n0 := len(exports[0].Packet.Records)
		for cut := 1; cut < len(batch); cut++ {
			calls := 0
			n, err := SplitKafkaBatch(batch[:cut], func(k, v []byte) { calls++ })
			switch {
			case cut == len(first):
				if err != nil || n != n0 {
					t.Errorf("%d: cut at the frame boundary: %d, %v", enc.Format, n, err)
				}
			case err == nil:
				t.Errorf("%d: cut at %d of %d: no error (%d records)", enc.Format, cut, len(batch), n)
			case !errors.Is(err, ErrRejected):
				t.Errorf("%d: cut at %d: %v does not wrap ErrRejected", enc.Format, cut, err)
			case cut < len(first) && calls != 0, cut > len(first) && calls != n0:
				t.Errorf("%d: cut at %d: %d records produced from a damaged batch", enc.Format, cut, calls)
			}
		}
		for _, c := range []struct {
			off  int
			val  byte
			want string
		}{
			{0, 9, "unknown format 9"},
			{1, 5, "key length 5"},
			{6, 0, "bad record count"},
		} {
			bad := bytes.Clone(batch)
			bad[c.off] = c.val
			_, err := SplitKafkaBatch(bad, func(k, v []byte) {})
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Errorf("%d: byte %d = %d: %v, want %q", enc.Format, c.off, c.val, err, c.want)
			}
		}
	}
}

func FuzzSplitKafkaBatch(f *testing.F) {
	exports := kafkaExports(f, 2)
	for _, enc := range []KafkaEncoder{{Format: KafkaProtobuf}, {Format: KafkaJSON}} {
		b, _ := encodeBatch(exports, enc)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{1, 4, 192, 0, 2, 1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		n, err := SplitKafkaBatch(b, func(k, v []byte) {
			if len(k) != 4 && len(k) != 16 {
				t.Fatalf("key of %d bytes", len(k))
			}
			total += len(k) + len(v)
		})
		if err != nil && !errors.Is(err, ErrRejected) {
			t.Fatalf("error %v does not wrap ErrRejected", err)
		}
		if err == nil && total > len(b)*17 {
			t.Fatalf("%d record bytes from a %d-byte batch", total, len(b))
		}
		_ = n
	})
}

// newCluster starts an in-process Kafka cluster on a loopback port.
func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.ListenFn(func(network, _ string) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// consumeAll reads the topic from the start until it has want records (or
// 30 s pass) and returns them by partition, in offset order.
func consumeAll(t *testing.T, brokers []string, topic string, want int, opts ...kgo.Opt) map[int32][]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[int32][]*kgo.Record{}
	got := 0
	deadline := time.Now().Add(30 * time.Second)
	for got < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			got++
		})
	}
	// Anything beyond want (duplicates) within a short while.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out[r.Partition] = append(out[r.Partition], r); got++ })
	cancel()
	if got != want {
		t.Errorf("consumed %d records, want %d", got, want)
	}
	return out
}

// checkOrder checks that the consumed records are exactly want, each
// exporter's records in one partition, in order.
func checkKafkaOrder(t *testing.T, parts map[int32][]*kgo.Record, want []kafkaMessage) {
	t.Helper()
	byKey := map[string][]string{}
	for _, m := range want {
		byKey[m.key] = append(byKey[m.key], m.value)
	}
	seen := map[string]int32{}
	got := map[string][]string{}
	for p, rs := range parts {
		for _, r := range rs {
			k := string(r.Key)
			if q, ok := seen[k]; ok && q != p {
				t.Fatalf("exporter %v in partitions %d and %d", r.Key, q, p)
			}
			seen[k] = p
			got[k] = append(got[k], string(r.Value))
		}
	}
	if len(got) != len(byKey) {
		t.Errorf("%d exporters consumed, want %d", len(got), len(byKey))
	}
	for k, vs := range byKey {
		g := got[k]
		if len(g) != len(vs) {
			t.Errorf("exporter %x: %d records, want %d", k, len(g), len(vs))
			continue
		}
		for i := range vs {
			if g[i] != vs[i] {
				t.Errorf("exporter %x: record %d differs (order or content)", k, i)
				break
			}
		}
	}
}

// Every record reaches the topic keyed by its exporter, one exporter's
// records in order on one partition, in both formats.
func TestKafkaDeliver(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(4, "pb", "json"))
	exports := kafkaExports(t, 6)
	for _, tc := range []struct {
		topic string
		enc   KafkaEncoder
	}{{"pb", KafkaEncoder{Format: KafkaProtobuf, Options: flowpb.Extensions}}, {"json", KafkaEncoder{Format: KafkaJSON}}} {
		d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: tc.topic, Compression: "zstd"})
		if err != nil {
			t.Fatal(err)
		}
		// Two batches, so that order holds across deliveries too.
		half := len(exports) / 2
		for _, part := range [][]*Export{exports[:half], exports[half:]} {
			batch, n := encodeBatch(part, tc.enc)
			if err := d.Deliver(context.Background(), batch, n); err != nil {
				t.Fatalf("%s: %v", tc.topic, err)
			}
		}
		if st := d.Stats(); st.Produced != uint64(len(expected(exports, tc.enc))) || st.Failed != 0 {
			t.Errorf("%s: stats %+v", tc.topic, st)
		}
		d.Close()
		want := expected(exports, tc.enc)
		parts := consumeAll(t, c.ListenAddrs(), tc.topic, len(want))
		if len(parts) < 2 {
			t.Errorf("%s: %d partitions used by 6 exporters", tc.topic, len(parts))
		}
		checkKafkaOrder(t, parts, want)
	}
}

// A batch that does not say its record count is rejected, never sent.
func TestKafkaDeliverRejects(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "flows"))
	d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "flows"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	batch, n := encodeBatch(kafkaExports(t, 1), KafkaEncoder{Format: KafkaProtobuf})
	if err := d.Deliver(context.Background(), batch, n+1); !errors.Is(err, ErrRejected) {
		t.Errorf("wrong record count: %v, want ErrRejected", err)
	}
	if err := d.Deliver(context.Background(), batch[:len(batch)-1], n); !errors.Is(err, ErrRejected) {
		t.Errorf("cut batch: %v, want ErrRejected", err)
	}
	if st := d.Stats(); st.Produced != 0 {
		t.Errorf("%d records produced from rejected batches", st.Produced)
	}
}

// --kafka-create-topic: the topic is created with the partitions asked
// for before the first delivery; an existing topic is left alone.
func TestKafkaCreateTopic(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "existing"))
	for _, tc := range []struct {
		topic string
		want  int
	}{{"created", 5}, {"existing", 2}} {
		d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: tc.topic, CreateTopic: 5})
		if err != nil {
			t.Fatal(err)
		}
		batch, n := encodeBatch(kafkaExports(t, 1), KafkaEncoder{Format: KafkaProtobuf})
		if err := d.Deliver(context.Background(), batch, n); err != nil {
			t.Fatal(err)
		}
		d.Close()
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		td, err := kadm.NewClient(cl).ListTopics(context.Background(), tc.topic)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := len(td[tc.topic].Partitions); got != tc.want {
			t.Errorf("topic %s: %d partitions, want %d", tc.topic, got, tc.want)
		}
	}
}

// SASL SCRAM: the deliverer authenticates; a wrong password fails the
// delivery (retried), not the process.
func TestKafkaSASL(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "nf", "secret"), kfake.SeedTopics(1, "flows"))
	batch, n := encodeBatch(kafkaExports(t, 1), KafkaEncoder{Format: KafkaProtobuf})
	bad, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "flows", Timeout: 2 * time.Second,
		SASL: scram.Auth{User: "nf", Pass: "wrong"}.AsSha256Mechanism()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Deliver(context.Background(), batch, n); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("wrong password: Deliver = %v, want a retryable error", err)
	}
	bad.Close()
	d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "flows",
		SASL: scram.Auth{User: "nf", Pass: "secret"}.AsSha256Mechanism()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Deliver(context.Background(), batch, n); err != nil {
		t.Fatal(err)
	}
	consumeAll(t, c.ListenAddrs(), "flows", n, kgo.SASL(scram.Auth{User: "nf", Pass: "secret"}.AsSha256Mechanism()))
}

// freeLoopbackPort returns a TCP port free on 127.0.0.1 now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The broker stops in the middle of the stream and comes back (its data
// kept on disk): the delivery sink keeps the batches (memory, then the
// spool), retries, and every record arrives, in order per exporter.
func TestKafkaBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a broker")
	}
	port := freeLoopbackPort(t)
	data := t.TempDir()
	start := func() *kfake.Cluster {
		var c *kfake.Cluster
		var err error
		for range 50 { // the port may linger a moment after Close
			c, err = kfake.NewCluster(kfake.Ports(port), kfake.DataDir(data), kfake.SeedTopics(3, "flows"))
			if err == nil {
				return c
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal(err)
		return nil
	}
	c := start()
	brokers := []string{"127.0.0.1:" + strconv.Itoa(port)}
	d, err := NewKafkaDeliverer(KafkaConfig{Brokers: brokers, Topic: "flows", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	enc := KafkaEncoder{Format: KafkaProtobuf, Options: flowpb.Extensions}
	s, err := NewKafkaSink(d, DeliveryConfig{Name: "kafka", BatchBytes: 1, MemoryBytes: 8 << 10,
		SpoolDir: filepath.Join(t.TempDir(), "spool"), RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		CloseTimeout: 20 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exports := kafkaExports(t, 8)
	write := func(es []*Export) {
		for _, e := range es {
			b := enc.AppendPacket(nil, e)
			if err := s.Write(Chunk{Data: b, Records: len(e.Packet.Records), Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	third := len(exports) / 3
	write(exports[:third])
	waitLong(t, "first third delivered", func() bool { return s.Stats().Records == uint64(recordsOf(exports[:third])) })
	c.Close()
	write(exports[third : 2*third])
	waitLong(t, "batches spooled while the broker is down", func() bool { st := s.Stats(); return st.Errors > 0 && st.Spool.Records > 0 })
	t0 := time.Now()
	c = start()
	defer c.Close()
	write(exports[2*third:])
	waitLong(t, "everything delivered after the restart", func() bool { return s.Stats().Records == uint64(recordsOf(exports)) })
	st := s.Stats()
	t.Logf("delivered %d records in %d batches; %d retries; caught up %v after the restart", st.Records, st.Batches, st.Retries, time.Since(t0).Round(time.Millisecond))
	if st.Dropped != 0 || st.Rejected != 0 {
		t.Errorf("dropped %d, rejected %d", st.Dropped, st.Rejected)
	}
	var failed, produced float64
	for _, m := range s.SinkMetrics() {
		switch m.Name {
		case "nfcollect_kafka_record_errors_total":
			failed = m.Value
		case "nfcollect_kafka_records_produced_total":
			produced = m.Value
		}
	}
	if failed == 0 || produced < float64(st.Records) {
		t.Errorf("kafka metrics: %v records failed, %v produced; want some failed and at least %d produced", failed, produced, st.Records)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := expected(exports, enc)
	checkKafkaOrder(t, consumeAll(t, brokers, "flows", len(want)), want)
}

// waitLong waits up to a minute for cond: a broker's restart and the
// client's reconnection take seconds, more on a busy machine.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func recordsOf(es []*Export) int {
	n := 0
	for _, e := range es {
		n += len(e.Packet.Records)
	}
	return n
}

// A broker that accepts connections and never answers does not hang a
// delivery past its timeout, nor Close past the sink's CloseTimeout: the
// batches are spooled.
func TestKafkaHungBroker(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { // read and never answer
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	d, err := NewKafkaDeliverer(KafkaConfig{Brokers: []string{l.Addr().String()}, Topic: "flows", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	exports := kafkaExports(t, 2)
	enc := KafkaEncoder{Format: KafkaProtobuf}
	batch, n := encodeBatch(exports, enc)
	t0 := time.Now()
	if err := d.Deliver(context.Background(), batch, n); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("Deliver to a silent broker = %v, want a retryable error", err)
	}
	if el := time.Since(t0); el > 15*time.Second {
		t.Errorf("Deliver took %v with a 1s timeout", el)
	}
	spoolDir := filepath.Join(t.TempDir(), "spool")
	s, err := NewDeliverySink(d, DeliveryConfig{Name: "kafka", BatchBytes: 1, SpoolDir: spoolDir, CloseTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exports {
		if err := s.Write(Chunk{Data: enc.AppendPacket(nil, e), Records: len(e.Packet.Records), Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	t0 = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 15*time.Second {
		t.Errorf("Close took %v with a 1s CloseTimeout", el)
	}
	if st := s.Stats(); st.Spool.Records != int64(n) || st.Dropped != 0 {
		t.Errorf("after Close: %d records spooled, %d dropped; want %d spooled", st.Spool.Records, st.Dropped, n)
	}
}

// acks=leader and acks=none (the producer without idempotence) deliver
// too; a bad value is refused.
func TestKafkaAcks(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "leader", "none"))
	exports := kafkaExports(t, 2)
	enc := KafkaEncoder{Format: KafkaJSON}
	for _, acks := range []string{"leader", "none"} {
		d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: acks, Acks: acks})
		if err != nil {
			t.Fatalf("acks %s: %v", acks, err)
		}
		batch, n := encodeBatch(exports, enc)
		if err := d.Deliver(context.Background(), batch, n); err != nil {
			t.Fatalf("acks %s: %v", acks, err)
		}
		d.Close()
		want := expected(exports, enc)
		checkKafkaOrder(t, consumeAll(t, c.ListenAddrs(), acks, len(want)), want)
	}
	if _, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "x", Acks: "2"}); err == nil {
		t.Error("acks 2 accepted")
	}
	if _, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "x", Compression: "brotli"}); err == nil {
		t.Error("compression brotli accepted")
	}
}
