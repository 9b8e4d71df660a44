package chrow

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Server{"18.16.1\n": {18, 16}, "24.3.2.23": {24, 3}, "19.6": {19, 6}} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x.y", "18", "Code: 81"} {
		if _, err := ParseVersion(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if (Server{18, 16}).TTL() || !(Server{19, 6}).TTL() || !(Server{24, 3}).TTL() || (Server{19, 5}).TTL() {
		t.Error("TTL support by version")
	}
}

// The DDL uses only what 18.16 has, and a TTL only where the server has
// one.
func TestCreate(t *testing.T) {
	tb := Table{Database: "net`flow", Name: "flows", Cluster: "c1", Retention: 30*24*time.Hour - time.Minute}
	old := strings.Join(tb.Create(Server{18, 16}), ";\n")
	for _, want := range []string{
		"CREATE DATABASE IF NOT EXISTS `net\\`flow`",
		"CREATE TABLE IF NOT EXISTS `net\\`flow`.`flows_local` (",
		"`src_addr` FixedString(16)",
		"`other_names` Array(String)",
		"ENGINE = MergeTree\nPARTITION BY toYYYYMMDD(date)\nORDER BY " + OrderBy,
		"ENGINE = Distributed('c1', 'net`flow', 'flows_local', rand())",
	} {
		if !strings.Contains(old, want) {
			t.Errorf("18.16 DDL lacks %q:\n%s", want, old)
		}
	}
	for _, bad := range []string{"TTL", "LowCardinality", "DateTime64", "IPv6", "IPv4", "Nullable"} {
		if strings.Contains(old, bad) {
			t.Errorf("18.16 DDL has %s", bad)
		}
	}
	if n := strings.Count(old, "\n    `"); n != len(Columns()) {
		t.Errorf("%d columns in the DDL, %d in Columns", n, len(Columns()))
	}
	cur := tb.CreateLocal(Server{24, 3})
	if !strings.HasSuffix(cur, "\nTTL date + toIntervalDay(30)") {
		t.Errorf("24.3 DDL without the TTL:\n%s", cur)
	}
	if got := tb.ModifyTTL(); got != "ALTER TABLE `net\\`flow`.`flows_local` MODIFY TTL date + toIntervalDay(30)" {
		t.Errorf("ModifyTTL %q", got)
	}
	if s := (Table{Name: "flows"}).Create(Server{24, 3}); len(s) != 1 || strings.Contains(s[0], "TTL") || !strings.Contains(s[0], "IF NOT EXISTS `flows` (") {
		t.Errorf("no database, cluster or retention: %q", s)
	}
}

func TestRetentionStatements(t *testing.T) {
	tb := Table{Database: "nf", Name: "flows", Retention: 30 * 24 * time.Hour}
	q := tb.OldPartitions(time.Date(2026, 12, 2, 23, 0, 0, 0, time.FixedZone("x", 5*3600)))
	if !strings.Contains(q, "database = 'nf' AND table = 'flows' AND active AND partition < '20261102'") {
		t.Errorf("OldPartitions %q", q)
	}
	if s, err := tb.DropPartition("20261101"); err != nil || s != "ALTER TABLE `nf`.`flows` DROP PARTITION 20261101" {
		t.Errorf("DropPartition %q %v", s, err)
	}
	for _, p := range []string{"2026110", "20261101; DROP TABLE x", "abcdefgh", ""} {
		if _, err := tb.DropPartition(p); err == nil {
			t.Errorf("partition %q accepted", p)
		}
	}
	if (Table{Retention: 25 * time.Hour}).RetentionDays() != 2 || (Table{}).RetentionDays() != 0 {
		t.Error("RetentionDays rounds up")
	}
}

func TestQuote(t *testing.T) {
	if got := Quote(`it's \ x`); got != `'it\'s \\ x'` {
		t.Errorf("Quote %s", got)
	}
	if got := Ident("a`b"); got != "`a\\`b`" {
		t.Errorf("Ident %s", got)
	}
}

// A table made before the sFlow columns gets them, and only them, added.
func TestAddMissing(t *testing.T) {
	tb := Table{Database: "netflow", Name: "flows", Cluster: "c1"}
	if got := tb.Tables(); len(got) != 2 || got[0] != "flows_local" || got[1] != "flows" {
		t.Errorf("Tables() = %q", got)
	}
	if got := (Table{}).Tables(); len(got) != 1 || got[0] != "flows" {
		t.Errorf("Tables() without a cluster = %q", got)
	}
	var have []string
	for _, c := range Columns() {
		have = append(have, c.Name)
	}
	if st := tb.AddMissing("flows_local", have); len(st) != 0 {
		t.Errorf("complete table: %q", st)
	}
	var old []string
	for _, c := range Columns() {
		if !slices.ContainsFunc(sflowColumns[:], func(s Column) bool { return s.Name == c.Name }) {
			old = append(old, c.Name)
		}
	}
	st := tb.AddMissing("flows_local", old)
	if len(st) != len(sflowColumns) {
		t.Fatalf("%d statements for %d sFlow columns: %q", len(st), len(sflowColumns), st)
	}
	if want := "ALTER TABLE `netflow`.`flows_local` ADD COLUMN `agent_address` FixedString(16)"; st[0] != want {
		t.Errorf("first statement %q, want %q", st[0], want)
	}
	if !slices.Contains(st, "ALTER TABLE `netflow`.`flows_local` ADD COLUMN `as_path` Array(UInt32)") {
		t.Errorf("no as_path in %q", st)
	}
	if q := tb.ListColumns("flows"); q != "SELECT name FROM system.columns WHERE database = 'netflow' AND table = 'flows' FORMAT TabSeparated" {
		t.Errorf("ListColumns = %q", q)
	}
}
