package main

import (
	"bytes"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/fields"
)

var update = flag.Bool("update", false, "rewrite the generated files")

// root is the module root, seen from gen/.
const root = ".."

// TestGenerated fails when a checked-in generated file differs from what
// the tables generate.
func TestGenerated(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("Generate wrote no files")
	}
	for _, path := range orphans(root, files) {
		t.Errorf("%s is not generated any more; delete it", path)
	}
	for name, want := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v; run go generate ./...", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: %s; run `go generate ./...` or `go test ./gen -run TestGenerated -update`", path, firstDiff(got, want))
		}
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ": have " + quote(a) + ", generator gives " + quote(b)
		}
	}
	return "trailing difference"
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "`" + s + "`"
}

// TestDeterministic generates twice, the second time from shuffled tables:
// the output must not depend on row order.
func TestDeterministic(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	saved := [][]fields.Element{fields.IANA, fields.Cisco, fields.NetScaler, fields.VMware}
	savedV9 := fields.V9
	defer func() {
		fields.IANA, fields.Cisco, fields.NetScaler, fields.VMware = saved[0], saved[1], saved[2], saved[3]
		fields.V9 = savedV9
	}()
	r := rand.New(rand.NewPCG(1, 2))
	shuffle := func(s []fields.Element) []fields.Element {
		c := append([]fields.Element(nil), s...)
		r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		return c
	}
	fields.IANA, fields.Cisco = shuffle(fields.IANA), shuffle(fields.Cisco)
	fields.NetScaler, fields.VMware = shuffle(fields.NetScaler), shuffle(fields.VMware)
	v9 := append([]fields.V9Name(nil), fields.V9...)
	r.Shuffle(len(v9), func(i, j int) { v9[i], v9[j] = v9[j], v9[i] })
	fields.V9 = v9
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs when the tables are shuffled: %s", name, firstDiff(a[name], b[name]))
		}
	}
}

// TestHeaders checks that every generated file is recognized as generated
// (go/ast.IsGenerated) and parses.
func TestHeaders(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ast.IsGenerated(f) {
			t.Errorf("%s lacks the standard generated-code header", name)
		}
	}
}

// TestDuplicateSource rejects an element that feeds two normalized fields.
func TestDuplicateSource(t *testing.T) {
	table := append([]fields.Normalized(nil), fields.Flow...)
	table = append(table, fields.Normalized{Name: "Dup", Kind: fields.KindUint, Bits: 64, From: []fields.Source{{ID: 1}}})
	if _, err := buildOps(table); err == nil {
		t.Error("buildOps accepted octetDeltaCount feeding two fields")
	}
}

// TestTypeCheck: a generator bug is reported with the generated file, its
// line and the compiler's message, before anything is written; and the
// generated packages otherwise type-check (the injected error is the only
// one).
func TestTypeCheck(t *testing.T) {
	t.Parallel()
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	const name = "decode/ops_gen.go"
	src := files[name]
	files[name] = append(src[:len(src):len(src)], "\nfunc broken() int { return \"not an int\" }\n"...)
	line := bytes.Count(files[name], []byte("\n"))
	err = typeCheck(root, files)
	if err == nil {
		t.Fatal("a generated file that does not compile passed the type check")
	}
	t.Log(err)
	msg := err.Error()
	for _, want := range []string{"nothing was written", name + ":" + strconv.Itoa(line) + ":", "not an int"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if n := strings.Count(msg, "\n\t"); n != 1 {
		t.Errorf("%d errors, want only the injected one: %s", n, msg)
	}
}
