package collector

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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
				for i, line := range bytes.Split(got, []byte("\n")) {
					if err := noRepeatedKeys(line); err != nil {
						t.Fatalf("line %d: %v", i+1, err)
					}
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

// noRepeatedKeys returns an error when a JSON value (one output line) has
// an object with a key twice: most JSON parsers keep only one of the
// values. An empty line is fine.
func noRepeatedKeys(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true // the object or array was a value
				}
				stack = append(stack, &frame{keys: map[string]bool{}, object: v == '{', key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[v] {
					return fmt.Errorf("key %q repeated in %.200s", v, line)
				}
				top.keys[v] = true
				top.key = false
				continue
			}
			if top != nil && top.object {
				top.key = true
			}
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

func TestNoRepeatedKeysCatches(t *testing.T) {
	if err := noRepeatedKeys([]byte(`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}],"d":"a"}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"x":{"a":1,"a":[]}}`, `{"a":[1],"b":"a","a":"z"}`} {
		if noRepeatedKeys([]byte(bad)) == nil {
			t.Errorf("%s: repeated key not found", bad)
		}
	}
}
