package collector

import "testing"

func TestSequence(t *testing.T) {
	type step struct {
		seq, count, opts uint32
		unknown          bool
		lost             uint32
		reset            bool
	}
	cases := []struct {
		name    string
		version uint16
		steps   []step
	}{
		{"v5 counts flows", 5, []step{{seq: 0, count: 30}, {seq: 30, count: 30}, {seq: 90, count: 30, lost: 30}, {seq: 120, count: 5}}},
		{"v9 counts packets", 9, []step{{seq: 7, count: 25}, {seq: 8, count: 3}, {seq: 11, count: 25, lost: 2}, {seq: 12, count: 1}}},
		{"IPFIX counts records", 10, []step{{seq: 100, count: 20}, {seq: 120, count: 22}, {seq: 150, count: 10, lost: 8}}},
		{"IPFIX counts options records", 10, []step{{seq: 100, count: 20, opts: 2}, {seq: 122, count: 22}, {seq: 144, count: 10}, {seq: 160, count: 1, lost: 6}}},
		{"softflowd IPFIX includes the current message", 10, []step{{seq: 20, count: 20}, {seq: 42, count: 22}, {seq: 52, count: 10}, {seq: 82, count: 30}, {seq: 90, count: 5, lost: 3}}},
		{"softflowd IPFIX leaves options records out", 10, []step{
			{seq: 20, count: 20}, {seq: 42, count: 22}, {seq: 42, opts: 3}, {seq: 52, count: 10}, {seq: 52, opts: 3}, {seq: 62, count: 10},
			{seq: 70, count: 5, lost: 3}}},
		{"data held for its template is not loss", 10, []step{
			{seq: 0, count: 10}, {seq: 10, unknown: true}, {seq: 25, unknown: true}, {seq: 31, unknown: true}, {seq: 40, count: 10}, {seq: 50, count: 5},
			{seq: 60, count: 1, lost: 5}}},
		{"sequence wraps", 5, []step{{seq: 0xFFFFFFF0, count: 16}, {seq: 0, count: 30}, {seq: 30, count: 1}}},
		{"exporter restart", 9, []step{{seq: 5000}, {seq: 5001}, {seq: 0, reset: true}, {seq: 1}}},
		{"late packet is not loss", 9, []step{{seq: 10}, {seq: 12, lost: 1}, {seq: 11}, {seq: 13}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s seqState
			for i, st := range c.steps {
				lost, reset := s.observe(seqObs{version: c.version, seq: st.seq, count: st.count, opts: st.opts, unknown: st.unknown})
				if lost != st.lost || reset != st.reset {
					t.Errorf("step %d (seq %d): lost %d reset %v, want %d %v", i, st.seq, lost, reset, st.lost, st.reset)
				}
			}
		})
	}
}
