//go:build linux

package main

// The Kafka setups: nfcollect and goflow2 publishing to a Kafka topic of
// franz-go's in-process cluster (kfake), started by this program on a
// loopback port. The cluster discards what it is sent (BlackholeProduce)
// but advances the offsets as a broker does, so the flows that reached a
// topic are the sum of its partitions' end offsets, and a long run does
// not fill the memory. It runs in this program, unpinned: its CPU time
// shows as "other CPU" of a run, as a broker on the same machine would.

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaPartitions is the partition count of every topic.
const kafkaPartitions = 4

var broker struct {
	once sync.Once
	c    *kfake.Cluster
	addr string
	err  error
}

// kafkaBroker starts the cluster on first use and returns its address.
func kafkaBroker() (string, error) {
	broker.once.Do(func() {
		broker.c, broker.err = kfake.NewCluster(
			kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }),
			kfake.BlackholeProduce(), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(kafkaPartitions))
		if broker.err == nil {
			broker.addr = broker.c.ListenAddrs()[0]
		}
	})
	return broker.addr, broker.err
}

// kafkaTopic is the topic of a run: its scratch directory's name.
func kafkaTopic(dir string) string { return filepath.Base(dir) }

// countTopic returns the records produced to a topic: the sum of its
// partitions' end offsets.
func countTopic(dir string) (uint64, error) {
	addr, err := kafkaBroker()
	if err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, kafkaTopic(dir))
	if err != nil {
		return 0, err
	}
	var n uint64
	err = offs.Error()
	offs.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			n += uint64(o.Offset)
		}
	})
	return n, err
}

// nfcollectKafkaSetup publishes goflow2's protobuf (the default format,
// lz4) keyed by exporter; with spool, batches the broker cannot take yet
// wait in --kafka-spool rather than being dropped past
// --kafka-memory-mib.
func nfcollectKafkaSetup(name string, spool bool) *setup {
	output := "Kafka (kfake), protobuf, lz4"
	if spool {
		output += ", spool"
	}
	return &setup{
		name: name, label: "nfcollect (1 core)", output: output, pinned: true,
		args: func(o *options, port, mport int, dir string) []string {
			addr, err := kafkaBroker()
			if err != nil {
				fatal(err)
			}
			a := []string{o.nfcollect, "--host", "127.0.0.1", "-p", strconv.Itoa(port),
				"--kafka", addr, "--kafka-topic", kafkaTopic(dir), "--kafka-create-topic", strconv.Itoa(kafkaPartitions),
				"--metrics", "127.0.0.1:" + strconv.Itoa(mport), "--stats-interval", "-1s"}
			if spool {
				a = append(a, "--kafka-spool", filepath.Join(dir, "spool"))
			}
			return a
		},
		outFile: func(dir string) string { return dir },
		count:   func(o *options, dir string) (uint64, error) { return countTopic(dir) },
		metrics: true,
	}
}

// goflow2KafkaSetup publishes goflow2's protobuf (-format bin) with its
// Kafka transport (sarama; its defaults: no compression, round-robin
// partitions).
func goflow2KafkaSetup(name string) *setup {
	return &setup{
		name: name, label: "goflow2 v2.2.6", output: "Kafka (kfake), protobuf", pinned: true,
		args: func(o *options, port, mport int, dir string) []string {
			addr, err := kafkaBroker()
			if err != nil {
				fatal(err)
			}
			return []string{o.goflow2, "-listen", "netflow://127.0.0.1:" + strconv.Itoa(port), "-format", "bin",
				"-transport", "kafka", "-transport.kafka.brokers", addr, "-transport.kafka.topic", kafkaTopic(dir),
				"-addr", "127.0.0.1:" + strconv.Itoa(mport), "-loglevel", "warn"}
		},
		outFile: func(dir string) string { return dir },
		count:   func(o *options, dir string) (uint64, error) { return countTopic(dir) },
		gfMet:   true,
	}
}

func init() {
	setups = append(setups, nfcollectKafkaSetup("nfcollect-kafka", false), nfcollectKafkaSetup("nfcollect-kafka-spool", true),
		goflow2KafkaSetup("goflow2-kafka"))
	defaultSetups = append(defaultSetups, "nfcollect-kafka", "goflow2-kafka")
}
