package collector

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/nfkit/nfkit/flowpb"
)

// BenchmarkKafkaDeliver measures delivering 4 MiB batches of protobuf
// records (eight exporters) to an in-process broker that discards them:
// the producer's cost per flow, with the broker's in the same process.
func BenchmarkKafkaDeliver(b *testing.B) {
	for _, comp := range []string{"none", "lz4"} {
		b.Run(comp, func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.SeedTopics(4, "flows"), kfake.BlackholeProduce())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			d, err := NewKafkaDeliverer(KafkaConfig{Brokers: c.ListenAddrs(), Topic: "flows", Compression: comp})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			enc := KafkaEncoder{Format: KafkaProtobuf, Options: flowpb.Extensions}
			exports := kafkaExports(b, 8)
			var batch []byte
			records := 0
			for len(batch) < 4<<20 {
				for _, e := range exports {
					batch = enc.AppendPacket(batch, e)
					records += len(e.Packet.Records)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if err := d.Deliver(context.Background(), batch, records); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(records), "ns/flow")
		})
	}
}
