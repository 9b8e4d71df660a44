package chtest

import (
	"os"
	"strings"
	"testing"
)

var cluster *Cluster

func TestMain(m *testing.M) { os.Exit(Main(m, &cluster)) }

// The two servers form one cluster: a Distributed table over them reaches
// both.
func TestCluster(t *testing.T) {
	Skip(t, cluster)
	for _, s := range cluster.Shards {
		s.MustQuery(t, "CREATE TABLE t_local (x UInt32) ENGINE = MergeTree ORDER BY x")
		s.MustQuery(t, "CREATE TABLE t AS t_local ENGINE = Distributed("+ClusterName+", default, t_local, x)")
	}
	a := cluster.Shards[0]
	a.MustQuery(t, "INSERT INTO t SELECT number FROM system.numbers LIMIT 1000", "insert_distributed_sync", "1")
	if got := strings.TrimSpace(a.MustQuery(t, "SELECT count() FROM t")); got != "1000" {
		t.Fatalf("count %s; local %s %s", got, a.MustQuery(t, "SELECT count() FROM t_local"), cluster.Shards[1].MustQuery(t, "SELECT count() FROM t_local"))
	}
	for i, s := range cluster.Shards {
		n := strings.TrimSpace(s.MustQuery(t, "SELECT count() FROM t_local"))
		if n == "0" || n == "1000" {
			t.Errorf("shard %d holds %s rows", i+1, n)
		}
	}
	// A killed shard comes back with its data.
	b := cluster.Shards[1]
	before := b.MustQuery(t, "SELECT count() FROM t_local")
	b.Kill()
	if _, err := b.Query("SELECT 1"); err == nil {
		t.Fatal("killed server answers")
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(60e9); err != nil {
		t.Fatal(err)
	}
	if after := b.MustQuery(t, "SELECT count() FROM t_local"); after != before {
		t.Fatalf("after restart %s rows, before %s", after, before)
	}
	v := strings.TrimSpace(a.MustQuery(t, "SELECT version()"))
	t.Logf("ClickHouse %s", v)
}
