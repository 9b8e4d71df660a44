package collector

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

var updateGolden = flag.Bool("update", false, "rewrite collector/testdata/golden")

// Every capture in testdata, collected in each output format, gives exactly
// the bytes committed in testdata/golden (gzip). The files change only
// when the output does on purpose: regenerate them with
// go test ./collector -run TestGoldenOutputs -update.
func TestGoldenOutputs(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	if len(names) < 10 {
		t.Fatalf("%d captures in testdata", len(names))
	}
	for _, capture := range names {
		base := strings.TrimSuffix(filepath.Base(capture), ".pcap")
		for _, f := range []struct {
			suffix string
			enc    Encoder
			renorm bool
		}{{".json", JSONLines{}, false}, {".py", PythonNetflow{}, false}, {".renorm.json", JSONLines{}, true}} {
			t.Run(base+f.suffix, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				c := newTestCollector(t, Config{Outputs: fileOutEnc(t, out, f.enc), Renormalize: f.renorm})
				if err := replay(t, c, capture); err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(out)
				golden := filepath.Join("testdata", "golden", base+f.suffix+".gz")
				if *updateGolden {
					var b bytes.Buffer
					zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
					zw.Write(got)
					zw.Close()
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				fh, err := os.Open(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				defer fh.Close()
				zr, err := gzip.NewReader(fh)
				if err != nil {
					t.Fatal(err)
				}
				want, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
					for i := 0; i < len(gl) && i < len(wl); i++ {
						if gl[i] != wl[i] {
							t.Fatalf("line %d differs from %s:\n got %s\nwant %s", i+1, golden, gl[i], wl[i])
						}
					}
					t.Fatalf("%d lines, %s has %d", len(gl), golden, len(wl))
				}
			})
		}
	}
}
