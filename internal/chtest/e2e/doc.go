// Package e2e holds the end-to-end tests of nfcollect and nfanalyze
// against the two-shard ClickHouse test cluster of package chtest: the
// captures of testdata/ through nfcollect into the cluster, a shard
// killed mid-stream, ClickHouse down at startup, a restart with a full
// spool, and nfanalyze's views on ClickHouse against the same views on
// files. It has no code of its own.
package e2e
