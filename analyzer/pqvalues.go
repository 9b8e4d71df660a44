package analyzer

import "github.com/parquet-go/parquet-go"

// readValuesAs reads up to n values from r, a page's values without a
// typed reader (a dictionary-encoded page: nfcollect writes the columns
// that are constant in a row group, and the addresses, that way), and
// stores value i with put. It returns as ReadValues does.
func readValuesAs(r parquet.ValueReader, n int, put func(i int, v parquet.Value)) (int, error) {
	var buf [64]parquet.Value
	done := 0
	for done < n {
		k, err := r.ReadValues(buf[:min(len(buf), n-done)])
		for i, v := range buf[:k] {
			put(done+i, v)
		}
		done += k
		if err != nil || k == 0 {
			return done, err
		}
	}
	return done, nil
}
