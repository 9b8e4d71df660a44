package collector

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/flowpb"
)

// KafkaFormat is the encoding of a Kafka message: one flow each.
type KafkaFormat uint8

const (
	// KafkaProtobuf is goflow2's FlowMessage, length-delimited (package
	// flowpb).
	KafkaProtobuf KafkaFormat = 1
	// KafkaJSON is the output schema (docs/output-schema.md), one object
	// without a newline.
	KafkaJSON KafkaFormat = 2
)

// ParseKafkaFormat parses "protobuf" or "json".
func ParseKafkaFormat(s string) (KafkaFormat, error) {
	switch s {
	case "protobuf":
		return KafkaProtobuf, nil
	case "json":
		return KafkaJSON, nil
	}
	return 0, fmt.Errorf("%q: want protobuf or json", s)
}

// KafkaEncoder frames the records of an export packet for the
// KafkaDeliverer: a batch is a sequence of packet frames, each
//
//	format (1 byte: KafkaProtobuf or KafkaJSON)
//	key length (1 byte: 4 or 16), key (the exporter's address)
//	record count (uvarint)
//	the records: length-delimited FlowMessages, or JSON lines
//
// so that the deliverer splits a batch into keyed messages, without
// copying, by reading lengths (or finding newlines), and a spooled batch
// says how it was encoded whatever the flags of a later run. The Kafka
// message of a record is its FlowMessage with its length prefix (as
// goflow2 sends it) or its JSON object without the newline.
type KafkaEncoder struct {
	Format  KafkaFormat
	Options flowpb.Options // with KafkaProtobuf
}

// AppendPacket appends one frame with the packet's records (nothing for a
// packet without records).
func (e KafkaEncoder) AppendPacket(b []byte, ex *Export) []byte {
	rs := ex.Packet.Records
	n := len(rs)
	// sFlow in JSON: the lines of the file schema, its counter samples
	// included (one message each); FlowMessage has no counters, and a
	// flow sample's FlowMessage carries its sFlow keys (flowpb.AppendPacket).
	sflow := e.Format == KafkaJSON && ex.Packet.Version == decode.VersionSFlow5
	if sflow {
		n += len(ex.Packet.Counters)
	}
	if n == 0 {
		return b
	}
	a := ex.Source.Addr().Unmap()
	if len(rs) != 0 && rs[0].Exporter.IsValid() {
		a = rs[0].Exporter.Unmap()
	}
	b = append(b, byte(e.Format))
	if a.Is4() {
		k := a.As4()
		b = append(b, 4)
		b = append(b, k[:]...)
	} else {
		k := a.As16()
		b = append(b, 16)
		b = append(b, k[:]...)
	}
	b = appendUvarint(b, uint64(n))
	if sflow {
		return flowjson.AppendSFlow(b, ex.Packet, ex.Received)
	}
	if e.Format == KafkaJSON {
		return flowjson.AppendRecords(b, rs, ex.Received)
	}
	return flowpb.AppendPacket(b, ex.Packet, ex.Received, e.Options)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func readUvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// errFrame is a batch that is not a sequence of KafkaEncoder frames.
var errFrame = errors.New("malformed Kafka batch")

// SplitKafkaBatch calls fn with the key and the message of every record
// of a batch of KafkaEncoder frames, in order; key and value alias batch.
// It returns the number of records, or an error wrapping ErrRejected that
// names the offset where the batch is malformed (nothing is called for a
// frame that is malformed).
func SplitKafkaBatch(batch []byte, fn func(key, value []byte)) (int, error) {
	n := 0
	bad := func(off int, what string) (int, error) {
		return n, fmt.Errorf("%w: %w at byte %d of %d: %s", ErrRejected, errFrame, off, len(batch), what)
	}
	for off := 0; off < len(batch); {
		start := off
		if len(batch)-off < 2 {
			return bad(off, "frame header cut short")
		}
		format := KafkaFormat(batch[off])
		if format != KafkaProtobuf && format != KafkaJSON {
			return bad(off, fmt.Sprintf("unknown format %d", batch[off]))
		}
		kl := int(batch[off+1])
		if kl != 4 && kl != 16 {
			return bad(off+1, fmt.Sprintf("key length %d (want 4 or 16)", kl))
		}
		off += 2
		if len(batch)-off < kl {
			return bad(off, "key cut short")
		}
		key := batch[off : off+kl : off+kl]
		off += kl
		count, w := readUvarint(batch[off:])
		if w == 0 || count == 0 || count > uint64(len(batch)-off) {
			return bad(off, "bad record count")
		}
		off += w
		// Check the whole frame before calling fn for any record of it.
		end := off
		for i := uint64(0); i < count; i++ {
			switch format {
			case KafkaProtobuf:
				l, w := readUvarint(batch[end:])
				if w == 0 || l > uint64(len(batch)-end-w) {
					return bad(end, fmt.Sprintf("record %d of the frame at byte %d: bad length", i, start))
				}
				end += w + int(l)
			case KafkaJSON:
				j := bytes.IndexByte(batch[end:], '\n')
				if j <= 0 {
					return bad(end, fmt.Sprintf("record %d of the frame at byte %d: no JSON line", i, start))
				}
				end += j + 1
			}
		}
		for p := off; p < end; {
			var v []byte
			if format == KafkaProtobuf {
				l, w := readUvarint(batch[p:])
				v = batch[p : p+w+int(l)]
				p += w + int(l)
			} else {
				j := bytes.IndexByte(batch[p:], '\n')
				v = batch[p : p+j]
				p += j + 1
			}
			fn(key, v)
			n++
		}
		off = end
	}
	return n, nil
}

// KafkaConfig configures a KafkaDeliverer.
type KafkaConfig struct {
	Brokers  []string
	Topic    string
	ClientID string // default "nfcollect"
	// Acks: "all" (the default; the idempotent producer), "leader" or
	// "none" (both without idempotence, which needs all).
	Acks string
	// Compression: "zstd", "lz4" (the default), "snappy", "gzip" or
	// "none". Kafka batches are compressed by the client.
	Compression string
	TLS         *tls.Config    // nil: plaintext
	SASL        sasl.Mechanism // nil: none
	// CreateTopic, when above 0, creates the topic with this many
	// partitions (and ReplicationFactor, -1 for the broker's default)
	// before the first delivery, if it does not exist.
	CreateTopic       int32
	ReplicationFactor int16
	// Timeout bounds one delivery attempt (default 30s, at least 1s):
	// records not
	// acknowledged by then fail it, and the delivery sink retries.
	Timeout time.Duration
	// Linger is how long the client waits for more records of a
	// partition before sending (default 0: a delivery hands the client a
	// whole batch at once, and records gather while requests are in
	// flight).
	Linger time.Duration
	// MaxMessageBytes bounds a Kafka record batch (default 1 MB, the
	// broker's default message.max.bytes).
	MaxMessageBytes int32
	Logger          *slog.Logger
}

// KafkaDeliverer is a Deliverer that produces every record of a batch
// (KafkaEncoder frames) as one Kafka message keyed by its exporter's
// address, so that the default partitioner keeps each exporter's flows in
// order on one partition. It uses franz-go's idempotent producer (with
// acks=all): the client retries transient failures itself without
// duplicating or reordering records. Deliver is called from one goroutine
// at a time (the delivery sink's); Stats may be called from any.
type KafkaDeliverer struct {
	cfg KafkaConfig
	cl  *kgo.Client
	log *slog.Logger

	topicReady bool

	// The records of the batch being delivered, reused.
	recs []kgo.Record
	// What an earlier failed attempt of the same batch stored: a batch
	// retried after a partial failure sends only the records the broker
	// did not acknowledge (the idempotent producer fails whole
	// partitions, so order within a partition is kept).
	seed     maphash.Seed
	lastSum  uint64
	lastLen  int
	done     []bool
	produced atomic.Uint64 // records acknowledged
	failed   atomic.Uint64 // records whose produce failed (retried by the sink)
}

// NewKafkaDeliverer makes the Kafka client; it does not connect until the
// first delivery, so an unreachable broker does not stop nfcollect from
// starting (batches wait in memory and the spool).
func NewKafkaDeliverer(cfg KafkaConfig) (*KafkaDeliverer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers")
	}
	if cfg.Topic == "" {
		return nil, errors.New("kafka: no topic")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "nfcollect"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	cfg.Timeout = max(cfg.Timeout, time.Second) // franz-go's least record timeout
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ProducerLinger(cfg.Linger),
		kgo.RecordDeliveryTimeout(cfg.Timeout),
		kgo.UnknownTopicRetries(-1),
		// A delivery that times out fails even records in flight, so
		// that Deliver returns (the sink retries, and Close is
		// bounded); such records may have been stored, and are sent
		// again: delivery is at least once.
		kgo.AllowIdempotentProduceCancellation(),
		kgo.MaxBufferedRecords(1 << 20),
	}
	if cfg.MaxMessageBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(cfg.MaxMessageBytes))
	}
	switch strings.ToLower(cfg.Acks) {
	case "", "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "leader", "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "none", "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("kafka: acks %q: want all, leader or none", cfg.Acks)
	}
	codec, err := kafkaCodec(cfg.Compression)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS))
	}
	if cfg.SASL != nil {
		opts = append(opts, kgo.SASL(cfg.SASL))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &KafkaDeliverer{cfg: cfg, cl: cl, log: cfg.Logger, seed: maphash.MakeSeed(), topicReady: cfg.CreateTopic <= 0}, nil
}

// KafkaCompressions are the values of KafkaConfig.Compression.
var KafkaCompressions = []string{"zstd", "lz4", "snappy", "gzip", "none"}

func kafkaCodec(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(s) {
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "", "lz4":
		return kgo.Lz4Compression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka: compression %q: want one of %s", s, strings.Join(KafkaCompressions, ", "))
}

// ensureTopic creates the topic (CreateTopic partitions) if it is missing.
func (k *KafkaDeliverer) ensureTopic(ctx context.Context) error {
	if k.topicReady {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Timeout)
	defer cancel()
	resp, err := kadm.NewClient(k.cl).CreateTopic(ctx, k.cfg.CreateTopic, k.cfg.ReplicationFactor, nil, k.cfg.Topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		k.log.Info("kafka: topic created", "topic", k.cfg.Topic, "partitions", k.cfg.CreateTopic)
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		return fmt.Errorf("kafka: creating topic %s: %w", k.cfg.Topic, err)
	}
	k.topicReady = true
	return nil
}

// Deliver produces the records of a batch and waits until the broker has
// acknowledged all of them (nil), or until one failed and every other one
// has an outcome (an error; the acknowledged ones are not sent again when
// the same batch is retried). A malformed batch is rejected.
func (k *KafkaDeliverer) Deliver(ctx context.Context, batch []byte, records int) error {
	k.recs = k.recs[:0]
	now := time.Now() // the records' timestamp: one clock read per batch, not per record
	n, err := SplitKafkaBatch(batch, func(key, value []byte) {
		k.recs = append(k.recs, kgo.Record{Key: key, Value: value, Topic: k.cfg.Topic, Timestamp: now})
	})
	if err != nil {
		return err
	}
	if n < records { // more is fine: sFlow counter samples are messages too in JSON
		return fmt.Errorf("%w: %w: %d records in the batch, %d expected", ErrRejected, errFrame, n, records)
	}
	if err := k.ensureTopic(ctx); err != nil {
		return err
	}
	sum := maphash.Bytes(k.seed, batch)
	if sum != k.lastSum || len(batch) != k.lastLen || len(k.done) != n {
		k.done = append(k.done[:0], make([]bool, n)...)
		k.lastSum, k.lastLen = sum, len(batch)
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Timeout)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failed   int
	)
	for i := range k.recs {
		if k.done[i] {
			continue
		}
		wg.Add(1)
		k.cl.Produce(ctx, &k.recs[i], func(_ *kgo.Record, err error) {
			if err == nil {
				k.done[i] = true
				k.produced.Add(1)
			} else {
				k.failed.Add(1)
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				failed++
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("kafka: %d of %d records not stored: %w", failed, n, firstErr)
	}
	k.lastSum, k.lastLen = 0, 0
	return nil
}

// Close flushes nothing (Deliver waits for its records) and closes the
// client.
func (k *KafkaDeliverer) Close() error {
	k.cl.Close()
	return nil
}

// KafkaStats are the deliverer's record counters.
type KafkaStats struct {
	Produced uint64 // records the broker acknowledged
	Failed   uint64 // record produce attempts that failed (retried)
}

// Stats returns the deliverer's counters. It is safe to call while
// Deliver runs.
func (k *KafkaDeliverer) Stats() KafkaStats {
	return KafkaStats{Produced: k.produced.Load(), Failed: k.failed.Load()}
}

// KafkaSink is the delivery sink of a KafkaDeliverer: a DeliverySink whose
// metrics add the deliverer's record counters.
type KafkaSink struct {
	*DeliverySink
	d *KafkaDeliverer
}

// NewKafkaSink returns the delivery sink of d (NewDeliverySink).
func NewKafkaSink(d *KafkaDeliverer, cfg DeliveryConfig, log *slog.Logger) (*KafkaSink, error) {
	s, err := NewDeliverySink(d, cfg, log)
	if err != nil {
		return nil, err
	}
	return &KafkaSink{DeliverySink: s, d: d}, nil
}

// SinkMetrics reports the delivery counters and the records the brokers
// acknowledged or failed (MetricsSink).
func (s *KafkaSink) SinkMetrics() []SinkMetric {
	st := s.d.Stats()
	return append(s.DeliverySink.SinkMetrics(),
		SinkMetric{Name: "nfcollect_kafka_records_produced_total", Type: "counter",
			Help: "Kafka records the brokers acknowledged (a record sent again after a failed delivery counts again).", Value: float64(st.Produced)},
		SinkMetric{Name: "nfcollect_kafka_record_errors_total", Type: "counter",
			Help: "Kafka records whose produce failed (their batch is retried).", Value: float64(st.Failed)},
	)
}
