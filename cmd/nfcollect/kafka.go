package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/nfkit/nfkit/collector"
	"github.com/nfkit/nfkit/flowpb"
)

// kafkaOptions are the --kafka-* flags.
type kafkaOptions struct {
	brokers      string
	topic        string
	format       string
	extensions   bool
	compression  string
	clientID     string
	acks         string
	createTopic  int
	replication  int
	tlsOn        bool
	tlsCA        string
	tlsCert      string
	tlsKey       string
	tlsServer    string
	tlsInsecure  bool
	saslMech     string
	saslUser     string
	saslPassFile string
	timeout      time.Duration
	linger       time.Duration
	batchBytes   int
	memoryMiB    int
	spool        string
	spoolMiB     int
}

func addKafkaFlags(fs *flag.FlagSet, k *kafkaOptions) {
	fs.StringVar(&k.brokers, "kafka", "", "publish every flow to Kafka: comma-separated seed `brokers` (host:port)")
	fs.StringVar(&k.topic, "kafka-topic", "flows", "Kafka `topic`")
	fs.StringVar(&k.format, "kafka-format", "protobuf", "Kafka message `format`: protobuf (goflow2's FlowMessage, length-delimited) or json (the output schema)")
	fs.BoolVar(&k.extensions, "kafka-extensions", true, "protobuf: also write the fields goflow2 has no slot for (numbers 42 and 1000 up; see the README)")
	fs.StringVar(&k.compression, "kafka-compression", "lz4", "Kafka batch `compression`: "+strings.Join(collector.KafkaCompressions, ", "))
	fs.StringVar(&k.clientID, "kafka-client-id", "nfcollect", "Kafka client `id`")
	fs.StringVar(&k.acks, "kafka-acks", "all", "`acks` the broker waits for: all (idempotent producer), leader or none")
	fs.IntVar(&k.createTopic, "kafka-create-topic", 0, "create the topic with `N` partitions when it is missing (0: do not)")
	fs.IntVar(&k.replication, "kafka-replication", -1, "replication `factor` of a topic --kafka-create-topic creates (-1: the broker's default)")
	fs.BoolVar(&k.tlsOn, "kafka-tls", false, "connect with TLS (implied by the other --kafka-tls-* flags)")
	fs.StringVar(&k.tlsCA, "kafka-tls-ca", "", "PEM `file` of the CAs that sign the brokers' certificates (default: the system's)")
	fs.StringVar(&k.tlsCert, "kafka-tls-cert", "", "PEM client certificate `file` (with --kafka-tls-key)")
	fs.StringVar(&k.tlsKey, "kafka-tls-key", "", "PEM client key `file`")
	fs.StringVar(&k.tlsServer, "kafka-tls-server-name", "", "`name` the brokers' certificates must carry (default: the host of each broker)")
	fs.BoolVar(&k.tlsInsecure, "kafka-tls-insecure", false, "do not verify the brokers' certificates")
	fs.StringVar(&k.saslMech, "kafka-sasl", "", "SASL `mechanism`: plain, scram-sha-256 or scram-sha-512")
	fs.StringVar(&k.saslUser, "kafka-user", "", "SASL `user`")
	fs.StringVar(&k.saslPassFile, "kafka-password-file", "", "`file` holding the SASL password (its first line)")
	fs.DurationVar(&k.timeout, "kafka-timeout", 30*time.Second, "how long one delivery may wait for the brokers before it is retried")
	fs.DurationVar(&k.linger, "kafka-linger", time.Second, "deliver a batch to Kafka once it is this old, or --kafka-batch-bytes big")
	fs.IntVar(&k.batchBytes, "kafka-batch-bytes", 4<<20, "deliver a batch to Kafka once it is this big (`bytes`), or --kafka-linger old")
	fs.IntVar(&k.memoryMiB, "kafka-memory-mib", 256, "batches waiting for Kafka in memory (`MiB`) before the spool")
	fs.StringVar(&k.spool, "kafka-spool", "", "`directory` keeping the batches Kafka cannot take yet, across restarts (default: none: past --kafka-memory-mib they are dropped)")
	fs.IntVar(&k.spoolMiB, "kafka-spool-mib", 10240, "bound of --kafka-spool in `MiB`")
}

// check validates the Kafka flags (set: the flags given).
func (k *kafkaOptions) check(set map[string]bool) error {
	if k.brokers == "" {
		for name := range set {
			if strings.HasPrefix(name, "kafka-") {
				return usagef("--%s needs --kafka", name)
			}
		}
		return nil
	}
	switch {
	case k.topic == "":
		return usagef("--kafka-topic: give a topic")
	case k.createTopic < 0 || k.createTopic > 1<<20:
		return usagef("--kafka-create-topic %d: want 0 (do not create) or a partition count", k.createTopic)
	case k.replication == 0 || k.replication < -1 || k.replication > 32767:
		return usagef("--kafka-replication %d: want -1 (the broker's default) or a factor", k.replication)
	case k.timeout < time.Second:
		return usagef("--kafka-timeout %v: must be at least 1s", k.timeout)
	case k.linger <= 0:
		return usagef("--kafka-linger %v: must be positive", k.linger)
	case k.batchBytes < 1:
		return usagef("--kafka-batch-bytes %d: must be positive", k.batchBytes)
	case k.memoryMiB < 1:
		return usagef("--kafka-memory-mib %d: must be at least 1", k.memoryMiB)
	case k.spoolMiB < 1:
		return usagef("--kafka-spool-mib %d: must be at least 1", k.spoolMiB)
	case (k.tlsCert == "") != (k.tlsKey == ""):
		return usagef("--kafka-tls-cert and --kafka-tls-key go together")
	case k.saslMech != "" && (k.saslUser == "" || k.saslPassFile == ""):
		return usagef("--kafka-sasl needs --kafka-user and --kafka-password-file")
	case k.saslMech == "" && (k.saslUser != "" || k.saslPassFile != ""):
		return usagef("--kafka-user and --kafka-password-file need --kafka-sasl")
	}
	for _, b := range strings.Split(k.brokers, ",") {
		if b = strings.TrimSpace(b); b == "" || !strings.Contains(b, ":") {
			return usagef("--kafka %q: want comma-separated host:port", k.brokers)
		}
	}
	if _, err := collector.ParseKafkaFormat(k.format); err != nil {
		return usagef("--kafka-format %v", err)
	}
	if set["kafka-extensions"] && k.format != "protobuf" {
		return usagef("--kafka-extensions applies to --kafka-format protobuf")
	}
	switch k.acks {
	case "all", "leader", "none":
	default:
		return usagef("--kafka-acks %q: want all, leader or none", k.acks)
	}
	ok := false
	for _, c := range collector.KafkaCompressions {
		ok = ok || c == k.compression
	}
	if !ok {
		return usagef("--kafka-compression %q: want one of %s", k.compression, strings.Join(collector.KafkaCompressions, ", "))
	}
	switch k.saslMech {
	case "", "plain", "scram-sha-256", "scram-sha-512":
	default:
		return usagef("--kafka-sasl %q: want plain, scram-sha-256 or scram-sha-512", k.saslMech)
	}
	return nil
}

// tlsConfig reads the TLS files (nil: no TLS).
func (k *kafkaOptions) tlsConfig() (*tls.Config, error) {
	if !k.tlsOn && k.tlsCA == "" && k.tlsCert == "" && k.tlsServer == "" && !k.tlsInsecure {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: k.tlsServer, InsecureSkipVerify: k.tlsInsecure}
	if k.tlsCA != "" {
		pem, err := os.ReadFile(k.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--kafka-tls-ca: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--kafka-tls-ca %s: no PEM certificate in it", k.tlsCA)
		}
	}
	if k.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(k.tlsCert, k.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--kafka-tls-cert/--kafka-tls-key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// saslMechanism reads the password file (nil: no SASL).
func (k *kafkaOptions) saslMechanism() (sasl.Mechanism, error) {
	if k.saslMech == "" {
		return nil, nil
	}
	b, err := os.ReadFile(k.saslPassFile)
	if err != nil {
		return nil, fmt.Errorf("--kafka-password-file: %w", err)
	}
	pass, _, _ := strings.Cut(string(b), "\n")
	pass = strings.TrimSuffix(pass, "\r")
	if pass == "" {
		return nil, fmt.Errorf("--kafka-password-file %s: empty", k.saslPassFile)
	}
	switch k.saslMech {
	case "plain":
		return plain.Auth{User: k.saslUser, Pass: pass}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: k.saslUser, Pass: pass}.AsSha256Mechanism(), nil
	case "scram-sha-512":
		return scram.Auth{User: k.saslUser, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, errors.New("unreachable")
}

// output builds the Kafka output.
func (k *kafkaOptions) output(closeTimeout time.Duration, log *slog.Logger) (collector.Output, error) {
	tc, err := k.tlsConfig()
	if err != nil {
		return collector.Output{}, err
	}
	mech, err := k.saslMechanism()
	if err != nil {
		return collector.Output{}, err
	}
	var brokers []string
	for _, b := range strings.Split(k.brokers, ",") {
		brokers = append(brokers, strings.TrimSpace(b))
	}
	d, err := collector.NewKafkaDeliverer(collector.KafkaConfig{
		Brokers: brokers, Topic: k.topic, ClientID: k.clientID, Acks: k.acks, Compression: k.compression,
		TLS: tc, SASL: mech, CreateTopic: int32(k.createTopic), ReplicationFactor: int16(k.replication),
		Timeout: k.timeout, Logger: log,
	})
	if err != nil {
		return collector.Output{}, err
	}
	format, _ := collector.ParseKafkaFormat(k.format)
	enc := collector.KafkaEncoder{Format: format}
	if k.extensions {
		enc.Options = flowpb.Extensions
	}
	s, err := collector.NewKafkaSink(d, collector.DeliveryConfig{
		Name: "kafka", BatchBytes: k.batchBytes, Flush: k.linger,
		MemoryBytes: int64(k.memoryMiB) << 20, SpoolDir: k.spool, SpoolBytes: int64(k.spoolMiB) << 20,
		CloseTimeout: closeTimeout,
	}, log)
	if err != nil {
		d.Close()
		return collector.Output{}, fmt.Errorf("--kafka-spool: %w", err)
	}
	return collector.Output{Name: "kafka", Encoder: enc, Sink: s}, nil
}
