package collector

import "testing"

func TestSequence(t *testing.T) {
	type step struct {
		seq, count uint32
		lost       uint32
		reset      bool
	}
	cases := []struct {
		name    string
		version uint16
		steps   []step
	}{
		{"v5 counts flows", 5, []step{{0, 30, 0, false}, {30, 30, 0, false}, {90, 30, 30, false}, {120, 5, 0, false}}},
		{"v9 counts packets", 9, []step{{7, 25, 0, false}, {8, 3, 0, false}, {11, 25, 2, false}, {12, 1, 0, false}}},
		{"IPFIX counts records", 10, []step{{100, 20, 0, false}, {120, 22, 0, false}, {150, 10, 8, false}}},
		{"softflowd IPFIX includes the current message", 10, []step{{20, 20, 0, false}, {42, 22, 0, false}, {52, 10, 0, false}, {82, 30, 0, false}, {90, 5, 3, false}}},
		{"sequence wraps", 5, []step{{0xFFFFFFF0, 16, 0, false}, {0, 30, 0, false}, {30, 1, 0, false}}},
		{"exporter restart", 9, []step{{5000, 1, 0, false}, {5001, 1, 0, false}, {0, 1, 0, true}, {1, 1, 0, false}}},
		{"late packet is not loss", 9, []step{{10, 1, 0, false}, {12, 1, 1, false}, {11, 1, 0, false}, {13, 1, 0, false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s seqState
			for i, st := range c.steps {
				lost, reset := s.observe(c.version, st.seq, st.count)
				if lost != st.lost || reset != st.reset {
					t.Errorf("step %d (seq %d): lost %d reset %v, want %d %v", i, st.seq, lost, reset, st.lost, st.reset)
				}
			}
		})
	}
}
